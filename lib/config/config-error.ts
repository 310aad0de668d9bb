/**
 * Thrown for anything wrong with the configuration or the files it names. `bin/` prints the message without a stack
 * trace: the message alone says what to fix.
 */
export class ConfigError extends Error {
  // Hard-coded so that it survives minification.
  readonly name = 'ConfigError';
  /** One line per problem, each starting with the field path (a problem with the file itself: the message alone). */
  readonly issues: readonly string[];

  constructor(message: string, issues?: readonly string[]) {
    super(message);
    this.issues = issues ?? [message];
  }

  /** One error listing every problem found, optionally naming the file they were found in. */
  static invalid(issues: readonly string[], source?: string): ConfigError {
    const where = source === undefined ? '' : ` in ${source}`;
    return new ConfigError(`Invalid configuration${where}:\n${issues.map((issue) => `  - ${issue}`).join('\n')}`, issues);
  }
}

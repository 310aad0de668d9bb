/** What a command may touch of the outside world, so tests run it in-process and the bin wires the real thing. */
export interface CommandIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  now: () => Date;
  sleep: (seconds: number) => Promise<void>;
  /** Who runs the command: what `rollback` records as `requested-by` unless given one. @default 'operator' */
  user?: () => string;
  /** Width of the terminal tables are printed to; undefined when not a terminal (tables then assume 120 columns). */
  columns?: () => number | undefined;
}

/** A mistake in how the command was called or configured: exit 2, with the message and the usage. */
export class UsageError extends Error {
  readonly name = 'UsageError';
}

export const processIo: CommandIo = {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  now: () => new Date(),
  sleep: (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000)),
  user: () => process.env.USER || 'operator',
  columns: () => process.stdout.columns,
};

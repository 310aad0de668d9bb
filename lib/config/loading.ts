/** Reading the configuration file: JSON, then the schema, every problem reported with the file's path. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from './config-error';
import { describeIssue, formatPath } from './messages';
import { configSchema } from './schema/config';
import type { RolloutConfig } from './types';

/**
 * Reads and validates a configuration file. Key file paths inside it are checked relative to the file's folder.
 * @throws ConfigError when the file is missing, is not JSON, or does not validate
 */
export function loadConfig(configPath: string): RolloutConfig {
  const file = path.resolve(configPath);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(
      code === 'ENOENT' ? `Configuration file not found: ${file}` : `Cannot read configuration file ${file}: ${(error as Error).message}`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`Configuration file ${file} is not valid JSON: ${(error as Error).message}`);
  }
  try {
    return parseConfig(raw, path.dirname(file));
  } catch (error) {
    throw error instanceof ConfigError ? ConfigError.invalid(error.issues, file) : error;
  }
}

/**
 * Validates an already-parsed configuration and applies defaults.
 * @param baseDir folder that relative key file paths are resolved against (the configuration file's folder)
 * @throws ConfigError listing every problem found, each with its field path and bad value
 */
export function parseConfig(raw: unknown, baseDir: string): RolloutConfig {
  // reportInput keeps the offending value on each issue so that the message can name it.
  const result = configSchema(baseDir).safeParse(raw, { reportInput: true, error: describeIssue });
  if (!result.success) {
    throw ConfigError.invalid(result.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`));
  }
  return result.data;
}

/** What a command may touch of the outside world, so tests run it in-process and the bin wires the real thing. */
export interface CommandIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  now: () => Date;
  sleep: (seconds: number) => Promise<void>;
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
};

/**
 * `model-rollout <command>`: the operators' commands. Each returns its exit status; nothing here calls process.exit,
 * so tests run commands in-process.
 */
import { type CommandIo, processIo, UsageError } from './io';
import { runVerify, VERIFY_USAGE } from './verify-command';

const COMMANDS: Record<string, { run: (args: string[], io: CommandIo) => Promise<number>; usage: string }> = {
  verify: { run: runVerify, usage: VERIFY_USAGE },
};

const USAGE = `Usage: model-rollout <command> [options]

Commands:
  verify    check an image digest's signatures against trusted signers, as the pipeline does

Run \`model-rollout <command> --help\` for a command's options.`;

export async function main(argv: string[], io: CommandIo = processIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    (name === undefined ? io.stderr : io.stdout)(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    io.stderr(`error: unknown command ${JSON.stringify(name)}\n\n${USAGE}`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(command.usage);
    return 0;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`error: ${error.message}\n\n${command.usage}`);
      return 2;
    }
    // AWS access problems (credentials, Region, network, permissions): nothing was verified.
    io.stderr(`error: ${(error as Error).name}: ${(error as Error).message}`);
    return 2;
  }
}

/**
 * `model-rollout <command>`: the operators' commands. Each returns its exit status; nothing here calls process.exit,
 * so tests run commands in-process.
 */
import { decideCommand, decideUsage } from './decide-command';
import { HISTORY_USAGE, runHistory } from './history-command';
import { type CommandIo, processIo, UsageError } from './io';
import { QUARANTINE_USAGE, runQuarantine } from './quarantine-command';
import { ROLLBACK_USAGE, runRollback } from './rollback-command';
import { runStatus, STATUS_USAGE } from './status-command';
import type { AwsClients } from './stack-resources';
import { runVerify, VERIFY_USAGE } from './verify-command';

const COMMANDS: Record<string, { run: (args: string[], io: CommandIo, clients?: AwsClients) => Promise<number>; usage: string }> = {
  verify: { run: runVerify, usage: VERIFY_USAGE },
  history: { run: runHistory, usage: HISTORY_USAGE },
  rollback: { run: runRollback, usage: ROLLBACK_USAGE },
  quarantine: { run: runQuarantine, usage: QUARANTINE_USAGE },
  status: { run: runStatus, usage: STATUS_USAGE },
  approve: { run: decideCommand('approve'), usage: decideUsage('approve') },
  reject: { run: decideCommand('reject'), usage: decideUsage('reject') },
  promote: { run: decideCommand('promote'), usage: decideUsage('promote') },
  abort: { run: decideCommand('abort'), usage: decideUsage('abort') },
};

const USAGE = `Usage: model-rollout <command> [options]

Commands:
  verify      check an image digest's signatures against trusted signers, as the pipeline does
  history     list a service's deployments from the ledger, newest first
  rollback    start the pipeline on a version that succeeded before (the last known good, or --to vX.Y.Z)
  quarantine  list a service's quarantined digests, or release one
  status      say whether a rollout of a service is running (exit 1 while one is: hold your deploys)
  approve     let a gray release waiting for approval go on to its next step
  reject      refuse a gray release waiting for approval: traffic returns to the stable service
  promote     move a gray release waiting for approval or baking on to its next step (--full: to the last, 100 %)
  abort       end a gray release waiting for approval or baking: traffic returns to the stable service

Run \`model-rollout <command> --help\` for a command's options.`;

/**
 * Runs `model-rollout <argv>` and returns its exit status.
 * @param clients AWS clients for the ledger commands (history, rollback, quarantine, status, approve…)
 *   @default - created on first use with the SDK's default credentials, Region and endpoints
 */
export async function main(argv: string[], io: CommandIo = processIo, clients?: AwsClients): Promise<number> {
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
    return await command.run(args, io, clients);
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

import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/**
 * Tests that point the process's AWS SDK at a local endpoint through process.env (AWS_ENDPOINT_URL, credentials), or
 * need a real SDK client where other files replace its `send` (aws-sdk-client-mock), run each in a fresh process; every
 * other file shares its worker's loaded modules (aws-cdk-lib, the SDK, the synthesized
 * pipeline cache), which takes the suite from about three minutes to about one here.
 */
const OWN_PROCESS = ['test/cli/verify-command.test.ts', 'test/workflow/bundles.test.ts', 'test/adapters/signer-endpoint.test.ts'];

export default defineConfig({
  test: {
    // Vitest's default is one worker fewer than the cores: one on the 2-core machines here. Much of the suite waits on
    // esbuild, dynalite and child processes, so a worker per core finishes it sooner.
    maxWorkers: availableParallelism(),
    // Synthesizing the stack and bundling Lambdas take seconds, not milliseconds.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // AWS SDK clients must never find real credentials or reach the network from a test.
    env: {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test-only',
      AWS_SECRET_ACCESS_KEY: 'test-only',
      AWS_EC2_METADATA_DISABLED: 'true',
      // The handlers' logs would bury the test report (tests assert on results, not on log lines).
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    },
    projects: [
      { extends: true, test: { name: 'shared', include: ['test/**/*.test.ts'], exclude: OWN_PROCESS, isolate: false } },
      { extends: true, test: { name: 'own-process', include: OWN_PROCESS, isolate: true } },
    ],
  },
});

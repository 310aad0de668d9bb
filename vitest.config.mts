import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Vitest's default is one worker fewer than the cores: one on the 2-core machines here. Much of the suite waits on
    // esbuild, dynalite and child processes, so a worker per core finishes it in about three quarters of the time.
    maxWorkers: availableParallelism(),
    // Synthesizing the stack and bundling Lambdas take seconds, not milliseconds.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // AWS SDK clients must never find real credentials or reach the network from a test.
    env: { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test-only', AWS_SECRET_ACCESS_KEY: 'test-only', AWS_EC2_METADATA_DISABLED: 'true',
      // The handlers' logs would bury the test report (tests assert on results, not on log lines).
      POWERTOOLS_LOG_LEVEL: 'SILENT' },
  },
});

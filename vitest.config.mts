import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Synthesizing the stack and bundling Lambdas take seconds, not milliseconds.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // AWS SDK clients must never find real credentials or reach the network from a test.
    env: { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test-only', AWS_SECRET_ACCESS_KEY: 'test-only', AWS_EC2_METADATA_DISABLED: 'true',
      // The handlers' logs would bury the test report (tests assert on results, not on log lines).
      POWERTOOLS_LOG_LEVEL: 'SILENT' },
  },
});

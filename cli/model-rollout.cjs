#!/usr/bin/env node
// The `model-rollout` bin: runs the TypeScript sources through tsx (a dependency for this reason), so the command is
// the very code the Lambdas are bundled from.
require('tsx/cjs');
const { main } = require('./main.ts');

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`error: ${error?.stack ? error.stack : error}\n`);
    process.exitCode = 2;
  },
);

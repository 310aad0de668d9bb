#!/usr/bin/env node
/**
 * CDK entry point: the only place the configuration file is read.
 *
 *   cdk synth                          # model-rollout.config.json (the default set in cdk.json)
 *   cdk synth -c config=prod.json      # another configuration file
 */
import { App } from 'aws-cdk-lib';
import { buildApp } from '../lib/build-app';
import { ConfigError } from '../lib/config';

// A throwaway App just to read the context (cdk.json and -c flags). autoSynth is off so that it never writes an empty
// assembly next to the real one, which buildApp creates once the configuration is known to be valid.
const configPath: unknown = new App({ autoSynth: false }).node.tryGetContext('config');

if (typeof configPath !== 'string' || configPath.trim() === '') {
  console.error('No configuration file: run through the CDK CLI (cdk.json sets "config") or pass -c config=FILE.');
  process.exit(1);
}

try {
  buildApp(configPath);
} catch (error) {
  // A configuration error is the user's to fix and its message says how: a stack trace would only hide it.
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

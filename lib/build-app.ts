import * as path from 'node:path';
import { App, type AppProps, type Environment } from 'aws-cdk-lib';
import { ConfigError, loadConfig, readSignerRootCertificate, type RolloutConfig, toServiceCatalog } from './config';
import { ModelRolloutStack } from './model-rollout-stack';
import { addNagChecks } from './nag';

/**
 * Builds the CDK app from a configuration file: used by `bin/`, the tests and the local runner.
 *
 * The configuration is read and validated before the App exists, so a bad file fails without leaving an App behind
 * that would synthesize (or auto-synthesize under the CDK CLI) an empty assembly.
 * @param configPath configuration file, relative to the working directory; key files are relative to its folder
 * @param appProps passed to `new App()` (e.g. `outdir` or `context` in tests)
 * @throws ConfigError when the file or a key file it names is invalid
 */
export function buildApp(configPath: string, appProps?: AppProps): { app: App; stack: ModelRolloutStack } {
  const config = loadConfig(configPath);
  const baseDir = path.dirname(path.resolve(configPath));
  const catalog = withSource(configPath, () => toServiceCatalog(config, baseDir));
  const signerRootCertificates = withSource(configPath, () => readSignerRootCertificate(config, baseDir));

  const app = new App(appProps);
  // Every synth (cdk synth, cdk deploy, the tests, the local run) fails on a cdk-nag finding nobody acknowledged.
  addNagChecks(app);
  const stack = new ModelRolloutStack(app, config.stackName, {
    config,
    catalog,
    signerRootCertificates,
    env: stackEnvironment(config),
    description: 'model-rollout: verified, health-gated, automatically rolled-back releases of model-serving ECS services',
  });
  return { app, stack };
}

/** Pins the stack to an account and Region only when both are configured; otherwise it stays environment-agnostic. */
function stackEnvironment(config: RolloutConfig): Environment | undefined {
  return config.account !== undefined && config.region !== undefined ? { account: config.account, region: config.region } : undefined;
}

/** Key file errors name the configuration file too, like every other configuration error. */
function withSource<T>(configPath: string, build: () => T): T {
  try {
    return build();
  } catch (error) {
    throw error instanceof ConfigError ? ConfigError.invalid(error.issues, path.resolve(configPath)) : error;
  }
}

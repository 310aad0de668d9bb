import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../lib/config';
import { EXAMPLE, example, ROOT } from './config-fixture';

describe('the example configuration', () => {
  it('loads with both services and the alert addresses', () => {
    const config = loadConfig(EXAMPLE);

    expect(config.stackName).toBe('ModelRollout');
    expect(config.account).toBeUndefined();
    expect(config.alerts.critical).toEqual(['oncall@example.com']);
    expect(config.services.map((s) => [s.name, s.environment, s.repository, s.cluster])).toEqual([
      ['sentiment', 'production', 'models/sentiment', 'models-prod'],
      ['summarizer-staging', 'staging', 'models/summarizer', 'models-staging'],
    ]);
    expect(config.services[0]!.health).toEqual({
      deadlineMinutes: 15,
      pollSeconds: 30,
      alarms: ['sentiment-5xx-rate', 'sentiment-p99-latency'],
    });
  });

  it('loads the network block as written, and the default concurrency', () => {
    const config = loadConfig(EXAMPLE);

    expect(config.network).toEqual({
      vpcId: 'vpc-0a1b2c3d4e5f60718',
      vpcCidrBlock: '10.40.0.0/16',
      availabilityZones: ['us-east-1a', 'us-east-1b'],
      privateSubnetIds: ['subnet-0a1b2c3d4e5f60001', 'subnet-0a1b2c3d4e5f60002'],
      privateRouteTableIds: ['rtb-0a1b2c3d4e5f60001', 'rtb-0a1b2c3d4e5f60002'],
      endpoints: 'create',
      existingEndpoints: ['ecr.api', 's3'],
      endpointSecurityGroupIds: ['sg-0a1b2c3d4e5f60099'],
      gatewayPrefixLists: { s3: 'pl-63a5400a', dynamodb: 'pl-02cd2c6b' },
    });
    expect(config.concurrencyPerFunction).toBe(5);
  });
});

describe('loadConfig', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'model-rollout-config-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the path of a missing file', () => {
    const missing = path.join(dir, 'nope.json');

    expect(() => loadConfig(missing)).toThrow(new ConfigError(`Configuration file not found: ${missing}`));
  });

  it('names the path of a file that is not JSON', () => {
    const file = path.join(dir, 'broken.json');
    writeFileSync(file, '{ "stackName": "ModelRollout", }');

    expect(() => loadConfig(file)).toThrow(`Configuration file ${file} is not valid JSON: `);
  });

  it('names the file in validation errors, and resolves key files next to it', () => {
    const file = path.join(dir, 'config.json');
    const raw = example();
    raw.services[1].environment = 'prod';
    raw.services[0].signing.publicKeys = ['demo.pub'];
    raw.services[1].signing.publicKeys = ['demo.pub'];
    writeFileSync(file, JSON.stringify(raw));

    // demo.pub does not exist yet: found relative to the file, not to the working directory.
    expect(() => loadConfig(file)).toThrow(`Invalid configuration in ${file}:\n`);

    copyFileSync(path.join(ROOT, 'examples/keys/demo-cosign.pub'), path.join(dir, 'demo.pub'));
    raw.services[1].environment = 'staging';
    writeFileSync(file, JSON.stringify(raw));
    expect(loadConfig(file).services[0]!.signing.publicKeys).toEqual(['demo.pub']);
  });
});

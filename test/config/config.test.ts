import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig, readSignerRootCertificate, type RolloutConfig, toServiceCatalog } from '../../lib/config';

const ROOT = path.resolve(__dirname, '../..');
const EXAMPLE = path.join(ROOT, 'model-rollout.config.json');
const DEMO_PUBLIC_KEY = readFileSync(path.join(ROOT, 'examples/keys/demo-cosign.pub'), 'utf8');

/** A fresh, valid raw configuration (the example file) for each case to break in one place. */
function example(): any {
  return JSON.parse(readFileSync(EXAMPLE, 'utf8'));
}

/** The issues parseConfig reports for `raw`, or a failure if it accepts it. */
function issuesOf(raw: unknown, baseDir = ROOT): readonly string[] {
  try {
    parseConfig(raw, baseDir);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
  expect.fail('expected the configuration to be rejected');
}

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

  it('becomes a catalog in the contract shape, with the key read into PEM and the deadline in seconds', () => {
    const catalog = toServiceCatalog(loadConfig(EXAMPLE), ROOT);

    expect(catalog[0]).toEqual({
      name: 'sentiment',
      environment: 'production',
      repositoryName: 'models/sentiment',
      cluster: 'models-prod',
      service: 'sentiment',
      container: 'model',
      taskDefinitionFamily: 'sentiment-task',
      taskRoleArn: 'arn:aws:iam::123456789012:role/sentiment-task',
      executionRoleArn: 'arn:aws:iam::123456789012:role/sentiment-execution',
      trust: {
        publicKeys: [DEMO_PUBLIC_KEY],
        kmsKeys: [],
        signingProfiles: [],
        threshold: 1,
        lateSignatureSeconds: 120,
        signaturePollSeconds: 15,
      },
      health: { deadlineSeconds: 900, pollSeconds: 30, alarms: ['sentiment-5xx-rate', 'sentiment-p99-latency'] },
    });
    expect(catalog.map((entry) => entry.name)).toEqual(['sentiment', 'summarizer-staging']);
  });
});

describe('defaults', () => {
  it('fills in health, alerts and alarms when they are left out', () => {
    const raw = example();
    delete raw.alerts;
    delete raw.services[0].health;
    raw.services[1].health = { alarms: ['summarizer-5xx-rate'] };

    const config = parseConfig(raw, ROOT);

    expect(config.alerts).toEqual({ critical: [], warning: [], info: [] });
    expect(config.services[0]!.health).toEqual({ deadlineMinutes: 15, pollSeconds: 30, alarms: [] });
    expect(config.services[1]!.health).toEqual({ deadlineMinutes: 15, pollSeconds: 30, alarms: ['summarizer-5xx-rate'] });
    expect(toServiceCatalog(config, ROOT)[0]!.health.deadlineSeconds).toBe(15 * 60);
  });

  it('reconciles every 15 minutes when reconcileEveryMinutes is left out', () => {
    const raw = example();
    delete raw.reconcileEveryMinutes;

    expect(parseConfig(raw, ROOT).reconcileEveryMinutes).toBe(15);
  });

  it.each([1, 60, 1440])('keeps reconcileEveryMinutes %i as given (1 to 1440)', (minutes) => {
    const raw = example();
    raw.reconcileEveryMinutes = minutes;

    expect(parseConfig(raw, ROOT).reconcileEveryMinutes).toBe(minutes);
  });

  it('runs 5 of each function at once when concurrencyPerFunction is left out', () => {
    const raw = example();
    delete raw.concurrencyPerFunction;

    expect(parseConfig(raw, ROOT).concurrencyPerFunction).toBe(5);
  });

  it('keeps concurrencyPerFunction "none": no reserved concurrency, for a low account quota', () => {
    const raw = example();
    raw.concurrencyPerFunction = 'none';

    expect(parseConfig(raw, ROOT).concurrencyPerFunction).toBe('none');
  });

  it.each([1, 100])('keeps concurrencyPerFunction %i as given (1 to 100)', (concurrency) => {
    const raw = example();
    raw.concurrencyPerFunction = concurrency;

    expect(parseConfig(raw, ROOT).concurrencyPerFunction).toBe(concurrency);
  });

  it('creates every endpoint, knows of none existing and no endpoint security group, when those are left out', () => {
    const raw = example();
    delete raw.network.endpoints;
    delete raw.network.existingEndpoints;
    delete raw.network.endpointSecurityGroupIds;

    expect(parseConfig(raw, ROOT).network).toMatchObject({ endpoints: 'create', existingEndpoints: [], endpointSecurityGroupIds: [] });
  });

  it('fills in each alert list on its own', () => {
    const raw = example();
    raw.alerts = { critical: ['oncall@example.com'] };

    expect(parseConfig(raw, ROOT).alerts).toEqual({ critical: ['oncall@example.com'], warning: [], info: [] });
  });
});

describe('invalid configurations name the field and the value', () => {
  const cases: { name: string; breakIt: (raw: any) => void; issue: string }[] = [
    {
      name: 'an unknown environment',
      breakIt: (raw) => (raw.services[1].environment = 'prod'),
      issue: 'services[1].environment: "prod" is not one of production | staging | development',
    },
    {
      name: 'a repository configured for two services',
      breakIt: (raw) => (raw.services[1].repository = 'models/sentiment'),
      issue:
        'services[1].repository: "models/sentiment" is already configured for service "sentiment" (services[0]); ' +
        'this version starts one execution per push, so a repository can feed at most one service',
    },
    {
      name: 'two services with the same name',
      breakIt: (raw) => (raw.services[1].name = 'sentiment'),
      issue: 'services[1].name: "sentiment" is already the name of services[0]; service names must be unique',
    },
    {
      name: 'an alert address that is not an e-mail address',
      breakIt: (raw) => (raw.alerts.warning = ['ml-platform at example.com']),
      issue: 'alerts.warning[0]: "ml-platform at example.com" is not a valid e-mail address',
    },
    {
      name: 'the same alert address twice in one list',
      breakIt: (raw) => (raw.alerts.critical = ['oncall@example.com', 'oncall@example.com']),
      issue: 'alerts.critical[1]: "oncall@example.com" is already listed at alerts.critical[0]',
    },
    {
      name: 'an unknown key (a typo) in a nested block',
      breakIt: (raw) => (raw.services[0].health.deadlineMinute = 10),
      issue: 'services[0].health: unknown key "deadlineMinute" (allowed: deadlineMinutes, pollSeconds, alarms)',
    },
    {
      name: 'an unknown key at the top level',
      breakIt: (raw) => (raw.alert = {}),
      issue:
        '(configuration): unknown key "alert" ' +
        '(allowed: stackName, account, region, alerts, signerRootCertificate, reconcileEveryMinutes, concurrencyPerFunction, ' +
        'network, services)',
    },
    {
      name: 'a key file that does not exist',
      breakIt: (raw) => (raw.services[0].signing.publicKeys = ['examples/keys/missing.pub']),
      issue:
        'services[0].signing.publicKeys[0]: "examples/keys/missing.pub" not found ' +
        `(looked for ${path.join(ROOT, 'examples/keys/missing.pub')})`,
    },
    {
      name: 'no trusted signer',
      breakIt: (raw) => (raw.services[0].signing.publicKeys = []),
      issue: 'services[0].signing: must list at least one publicKeys, kmsKeys or signingProfiles entry: unsigned images are never deployed',
    },
    {
      name: 'a threshold above the number of trusted signers',
      breakIt: (raw) => (raw.services[0].signing.threshold = 2),
      issue: 'services[0].signing.threshold: 2 is more than the 1 trusted signer listed',
    },
    {
      name: 'a KMS key that is neither an ARN nor an alias',
      breakIt: (raw) => (raw.services[0].signing.kmsKeys = ['release-signing']),
      issue: 'services[0].signing.kmsKeys[0]: "release-signing" is not a KMS key ARN, alias ARN or alias/<name>',
    },
    {
      name: 'a signing profile given by name instead of ARN',
      breakIt: (raw) => {
        raw.signerRootCertificate = 'examples/keys/demo-cosign.pub'; // only its existence is checked here
        raw.services[0].signing.signingProfiles = ['ReleaseProfile'];
      },
      issue:
        'services[0].signing.signingProfiles[0]: "ReleaseProfile" is not a signing profile ARN ' +
        '(arn:aws:signer:<region>:<account>:/signing-profiles/<name>[/<version>])',
    },
    {
      name: 'a signing profile without the pinned AWS Signer root',
      breakIt: (raw) =>
        (raw.services[0].signing.signingProfiles = ['arn:aws:signer:us-east-1:123456789012:/signing-profiles/ModelRelease']),
      issue:
        'services[0].signing.signingProfiles: trusts AWS Signer signing profiles, so signerRootCertificate must name the pinned ' +
        'AWS Signer root certificate file',
    },
    {
      name: 'the same KMS key twice',
      breakIt: (raw) => (raw.services[0].signing.kmsKeys = ['alias/release', 'alias/release']),
      issue: 'services[0].signing.kmsKeys[1]: "alias/release" is already listed at kmsKeys[0]',
    },
    {
      name: 'a late-signature wait above 30 minutes',
      breakIt: (raw) => (raw.services[0].signing.lateSignatureSeconds = 1801),
      issue: 'services[0].signing.lateSignatureSeconds: 1801 is not a whole number from 0 to 1800',
    },
    {
      name: 'a deadline above 120 minutes',
      breakIt: (raw) => (raw.services[0].health.deadlineMinutes = 121),
      issue: 'services[0].health.deadlineMinutes: 121 is not a whole number from 1 to 120',
    },
    {
      name: 'a deadline of 0 minutes',
      breakIt: (raw) => (raw.services[1].health.deadlineMinutes = 0),
      issue: 'services[1].health.deadlineMinutes: 0 is not a whole number from 1 to 120',
    },
    {
      name: 'a fractional poll interval',
      breakIt: (raw) => (raw.services[0].health.pollSeconds = 7.5),
      issue: 'services[0].health.pollSeconds: 7.5 is not a whole number from 5 to 300',
    },
    {
      name: 'a poll interval as long as the deadline',
      breakIt: (raw) => (raw.services[0].health = { deadlineMinutes: 1, pollSeconds: 60 }),
      issue: 'services[0].health.pollSeconds: 60 must be shorter than the deadline (deadlineMinutes 1 = 60 seconds)',
    },
    {
      name: 'a repository name ECR would refuse',
      breakIt: (raw) => (raw.services[0].repository = 'Models/Sentiment'),
      issue:
        'services[0].repository: "Models/Sentiment" is not a valid ECR repository name ' +
        '(lowercase letters and digits, separated by single . _ - or /)',
    },
    {
      name: 'a repository URI instead of a name',
      breakIt: (raw) => (raw.services[0].repository = '123456789012.dkr.ecr.us-east-1.amazonaws.com/models/sentiment'),
      issue:
        'services[0].repository: "123456789012.dkr.ecr.us-east-1.amazonaws.com/models/sentiment" is a repository URI; ' +
        'give the repository name only (the part after the first /)',
    },
    {
      name: 'an empty container name',
      breakIt: (raw) => (raw.services[0].container = ''),
      issue: 'services[0].container: must not be empty',
    },
    {
      name: 'a missing cluster',
      breakIt: (raw) => delete raw.services[1].cluster,
      issue: 'services[1].cluster: is required (string)',
    },
    {
      name: 'no services',
      breakIt: (raw) => (raw.services = []),
      issue: 'services: must list at least one service',
    },
    {
      name: 'a reconciliation every 0 minutes',
      breakIt: (raw) => (raw.reconcileEveryMinutes = 0),
      issue: 'reconcileEveryMinutes: 0 is not a whole number from 1 to 1440',
    },
    {
      name: 'a reconciliation less often than once a day',
      breakIt: (raw) => (raw.reconcileEveryMinutes = 1441),
      issue: 'reconcileEveryMinutes: 1441 is not a whole number from 1 to 1440',
    },
    {
      name: 'a fractional reconciliation interval',
      breakIt: (raw) => (raw.reconcileEveryMinutes = 7.5),
      issue: 'reconcileEveryMinutes: 7.5 is not a whole number from 1 to 1440',
    },
    {
      name: 'a reconciliation interval given as text',
      breakIt: (raw) => (raw.reconcileEveryMinutes = '15'),
      issue: 'reconcileEveryMinutes: "15" is not a whole number from 1 to 1440',
    },
    {
      name: 'a concurrency of 0',
      breakIt: (raw) => (raw.concurrencyPerFunction = 0),
      issue: 'concurrencyPerFunction: 0 is not a whole number from 1 to 100, nor "none"',
    },
    {
      name: 'a concurrency above 100',
      breakIt: (raw) => (raw.concurrencyPerFunction = 101),
      issue: 'concurrencyPerFunction: 101 is not a whole number from 1 to 100, nor "none"',
    },
    {
      name: 'a fractional concurrency',
      breakIt: (raw) => (raw.concurrencyPerFunction = 2.5),
      issue: 'concurrencyPerFunction: 2.5 is not a whole number from 1 to 100, nor "none"',
    },
    {
      name: 'a task role given by name instead of ARN',
      breakIt: (raw) => (raw.services[0].taskRoleArn = 'sentiment-task'),
      issue: 'services[0].taskRoleArn: "sentiment-task" is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)',
    },
    {
      name: 'an execution role that is an IAM user ARN',
      breakIt: (raw) => (raw.services[1].executionRoleArn = 'arn:aws:iam::123456789012:user/deployer'),
      issue:
        'services[1].executionRoleArn: "arn:aws:iam::123456789012:user/deployer" is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)',
    },
    {
      name: 'a role ARN with an 11-digit account',
      breakIt: (raw) => (raw.services[0].executionRoleArn = 'arn:aws:iam::12345678901:role/sentiment-execution'),
      issue:
        'services[0].executionRoleArn: "arn:aws:iam::12345678901:role/sentiment-execution" is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)',
    },
    {
      name: 'an empty task role',
      breakIt: (raw) => (raw.services[1].taskRoleArn = ''),
      issue: 'services[1].taskRoleArn: "" is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)',
    },
    {
      name: 'a task definition family given with its revision',
      breakIt: (raw) => (raw.services[0].taskDefinitionFamily = 'sentiment-task:7'),
      issue:
        'services[0].taskDefinitionFamily: "sentiment-task:7" is not a task definition family (up to 255 letters, digits, _ and -; the family alone, without ":revision")',
    },
    {
      name: 'a service without a task definition family',
      breakIt: (raw) => delete raw.services[1].taskDefinitionFamily,
      issue: expect.stringMatching(/^services\[1\]\.taskDefinitionFamily: /),
    },
    {
      name: 'an account without a region',
      breakIt: (raw) => (raw.account = '123456789012'),
      issue: `account: "123456789012" is set but region is not: set both to pin the stack's environment, or neither`,
    },
    {
      name: 'an account ID of the wrong length',
      breakIt: (raw) => Object.assign(raw, { account: '12345', region: 'us-east-1' }),
      issue: 'account: "12345" is not a 12-digit AWS account ID',
    },
  ];

  it('accepts the unbroken example (so that each case below fails for its own reason)', () => {
    expect(() => parseConfig(example(), ROOT)).not.toThrow();
  });

  it.each(cases)('rejects $name', ({ breakIt, issue }) => {
    const raw = example();
    breakIt(raw);

    expect(issuesOf(raw)).toEqual([issue]);
  });

  it('reports every problem at once, in the error message too', () => {
    const raw = example();
    raw.services[1].environment = 'prod';
    raw.services[0].health.deadlineMinutes = 121;

    expect(() => parseConfig(raw, ROOT)).toThrow(
      [
        'Invalid configuration:',
        '  - services[0].health.deadlineMinutes: 121 is not a whole number from 1 to 120',
        '  - services[1].environment: "prod" is not one of production | staging | development',
      ].join('\n'),
    );
  });

  it('rejects something that is not an object', () => {
    expect(issuesOf(['services'])).toEqual(['(configuration): expected object, got ["services"]']);
  });
});

describe('the network block', () => {
  const ROUTE_TABLES_NEEDED =
    "network.privateRouteTableIds: must list the private subnets' route tables: the stack creates the S3 and DynamoDB " +
    'gateway endpoints there (or list s3 and dynamodb in existingEndpoints, or set endpoints to "existing")';

  const cases: { name: string; breakIt: (raw: any) => void; issue: string }[] = [
    {
      name: 'no network block',
      breakIt: (raw) => delete raw.network,
      issue: 'network: is required (object)',
    },
    {
      name: 'an unknown key (a typo) in it',
      breakIt: (raw) => (raw.network.subnetIds = raw.network.privateSubnetIds),
      issue:
        'network: unknown key "subnetIds" (allowed: vpcId, vpcCidrBlock, availabilityZones, privateSubnetIds, ' +
        'privateRouteTableIds, endpoints, existingEndpoints, endpointSecurityGroupIds, gatewayPrefixLists)',
    },
    {
      name: 'a VPC given by name',
      breakIt: (raw) => (raw.network.vpcId = 'models-vpc'),
      issue: 'network.vpcId: "models-vpc" is not a VPC ID (vpc-0123456789abcdef0)',
    },
    {
      name: 'a VPC ID with too few hex digits',
      breakIt: (raw) => (raw.network.vpcId = 'vpc-0a1b2c'),
      issue: 'network.vpcId: "vpc-0a1b2c" is not a VPC ID (vpc-0123456789abcdef0)',
    },
    {
      name: 'a CIDR block without a prefix length',
      breakIt: (raw) => (raw.network.vpcCidrBlock = '10.40.0.0'),
      issue: 'network.vpcCidrBlock: "10.40.0.0" is not an IPv4 CIDR block like 10.0.0.0/16',
    },
    {
      name: 'a CIDR block with a prefix longer than 32',
      breakIt: (raw) => (raw.network.vpcCidrBlock = '10.40.0.0/33'),
      issue: 'network.vpcCidrBlock: "10.40.0.0/33" is not an IPv4 CIDR block like 10.0.0.0/16',
    },
    {
      name: 'a CIDR block with an octet above 255',
      breakIt: (raw) => (raw.network.vpcCidrBlock = '10.256.0.0/16'),
      issue: 'network.vpcCidrBlock: "10.256.0.0/16" is not an IPv4 CIDR block like 10.0.0.0/16',
    },
    {
      name: 'an availability zone ID instead of its name',
      breakIt: (raw) => (raw.network.availabilityZones[1] = 'use1-az2'),
      issue: 'network.availabilityZones[1]: "use1-az2" is not an availability zone name like eu-west-1a',
    },
    {
      name: 'a Region instead of an availability zone',
      breakIt: (raw) => (raw.network.availabilityZones[0] = 'us-east-1'),
      issue: 'network.availabilityZones[0]: "us-east-1" is not an availability zone name like eu-west-1a',
    },
    {
      name: 'a subnet ID in capitals',
      breakIt: (raw) => (raw.network.privateSubnetIds[1] = 'subnet-0A1B2C3D4E5F60002'),
      issue: 'network.privateSubnetIds[1]: "subnet-0A1B2C3D4E5F60002" is not a subnet ID (subnet-0123456789abcdef0)',
    },
    {
      name: 'a subnet given by its CIDR block',
      breakIt: (raw) => (raw.network.privateSubnetIds[0] = '10.40.1.0/24'),
      issue: 'network.privateSubnetIds[0]: "10.40.1.0/24" is not a subnet ID (subnet-0123456789abcdef0)',
    },
    {
      name: 'a route table given by name',
      breakIt: (raw) => (raw.network.privateRouteTableIds[1] = 'private-b'),
      issue: 'network.privateRouteTableIds[1]: "private-b" is not a route table ID (rtb-0123456789abcdef0)',
    },
    {
      name: 'a security group given by name',
      breakIt: (raw) => (raw.network.endpointSecurityGroupIds = ['endpoints']),
      issue: 'network.endpointSecurityGroupIds[0]: "endpoints" is not a security group ID (sg-0123456789abcdef0)',
    },
    {
      name: 'an S3 prefix list given by name',
      breakIt: (raw) => (raw.network.gatewayPrefixLists.s3 = 'com.amazonaws.us-east-1.s3'),
      issue:
        'network.gatewayPrefixLists.s3: "com.amazonaws.us-east-1.s3" is not a prefix list ID (pl-…): ' +
        "the Region's com.amazonaws.<region>.s3 list",
    },
    {
      name: 'a DynamoDB prefix list that is a security group',
      breakIt: (raw) => (raw.network.gatewayPrefixLists.dynamodb = 'sg-02cd2c6b'),
      issue:
        'network.gatewayPrefixLists.dynamodb: "sg-02cd2c6b" is not a prefix list ID (pl-…): ' +
        "the Region's com.amazonaws.<region>.dynamodb list",
    },
    {
      name: 'no gateway prefix lists',
      breakIt: (raw) => delete raw.network.gatewayPrefixLists,
      issue: 'network.gatewayPrefixLists: is required (object)',
    },
    {
      name: 'a missing DynamoDB prefix list',
      breakIt: (raw) => delete raw.network.gatewayPrefixLists.dynamodb,
      issue: 'network.gatewayPrefixLists.dynamodb: is required (string)',
    },
    {
      name: 'a prefix list for another service',
      breakIt: (raw) => (raw.network.gatewayPrefixLists.ec2 = 'pl-0123456789abcdef0'),
      issue: 'network.gatewayPrefixLists: unknown key "ec2" (allowed: s3, dynamodb)',
    },
    {
      name: 'fewer subnets than availability zones',
      breakIt: (raw) => (raw.network.privateSubnetIds = ['subnet-0a1b2c3d4e5f60001']),
      issue: 'network.privateSubnetIds: lists 1 subnet for 2 availability zones: give one private subnet per zone, in the same order',
    },
    {
      name: 'more subnets than availability zones',
      breakIt: (raw) => (raw.network.availabilityZones = ['us-east-1a']),
      issue: 'network.privateSubnetIds: lists 2 subnets for 1 availability zone: give one private subnet per zone, in the same order',
    },
    {
      name: 'the same availability zone twice',
      breakIt: (raw) => (raw.network.availabilityZones = ['us-east-1a', 'us-east-1a']),
      issue: 'network.availabilityZones[1]: "us-east-1a" is already listed at availabilityZones[0]',
    },
    {
      name: 'the same subnet twice',
      breakIt: (raw) => (raw.network.privateSubnetIds = ['subnet-0a1b2c3d4e5f60001', 'subnet-0a1b2c3d4e5f60001']),
      issue: 'network.privateSubnetIds[1]: "subnet-0a1b2c3d4e5f60001" is already listed at privateSubnetIds[0]',
    },
    {
      name: 'an endpoint mode that does not exist',
      breakIt: (raw) => (raw.network.endpoints = 'none'),
      issue: 'network.endpoints: "none" is not one of create | existing',
    },
    {
      name: 'an existing endpoint the pipeline does not use',
      breakIt: (raw) => (raw.network.existingEndpoints = ['ecr.api', 'ecr.dkr']),
      issue: 'network.existingEndpoints[1]: "ecr.dkr" is not one of ecr.api | s3 | dynamodb | ecs | states | monitoring | kms | signer',
    },
    {
      name: 'an existing endpoint given by its full service name',
      breakIt: (raw) => (raw.network.existingEndpoints = ['com.amazonaws.us-east-1.s3']),
      issue:
        'network.existingEndpoints[0]: "com.amazonaws.us-east-1.s3" is not one of ' +
        'ecr.api | s3 | dynamodb | ecs | states | monitoring | kms | signer',
    },
    {
      name: 'the same existing endpoint twice',
      breakIt: (raw) => (raw.network.existingEndpoints = ['ecr.api', 's3', 'ecr.api']),
      issue: 'network.existingEndpoints[2]: "ecr.api" is already listed at existingEndpoints[0]',
    },
    {
      name: 'existing endpoints listed while endpoints is "existing"',
      breakIt: (raw) => (raw.network.endpoints = 'existing'),
      issue: 'network.existingEndpoints: is only for endpoints "create": with "existing" the stack creates no endpoint at all',
    },
    {
      name: 'no route tables while the stack creates the DynamoDB gateway endpoint (S3 exists)',
      breakIt: (raw) => delete raw.network.privateRouteTableIds,
      issue: ROUTE_TABLES_NEEDED,
    },
    {
      name: 'no route tables while the stack creates the S3 gateway endpoint (DynamoDB exists)',
      breakIt: (raw) => Object.assign(raw.network, { privateRouteTableIds: [], existingEndpoints: ['dynamodb', 'ecr.api'] }),
      issue: ROUTE_TABLES_NEEDED,
    },
    {
      name: 'no route tables while the stack creates both gateway endpoints (endpoints left to the default)',
      breakIt: (raw) => {
        delete raw.network.endpoints;
        delete raw.network.existingEndpoints;
        raw.network.privateRouteTableIds = [];
      },
      issue: ROUTE_TABLES_NEEDED,
    },
  ];

  it.each(cases)('rejects $name', ({ breakIt, issue }) => {
    const raw = example();
    breakIt(raw);

    expect(issuesOf(raw)).toEqual([issue]);
  });

  it('needs no route tables when the VPC already has every endpoint', () => {
    const raw = example();
    raw.network.endpoints = 'existing';
    delete raw.network.existingEndpoints;
    delete raw.network.privateRouteTableIds;

    const { network } = parseConfig(raw, ROOT);

    expect(network).toMatchObject({ endpoints: 'existing', existingEndpoints: [], privateRouteTableIds: [] });
  });

  it.each([[['s3', 'dynamodb']], [['dynamodb', 'ecs', 's3']]])(
    'needs no route tables when both gateway endpoints already exist (existingEndpoints %j)',
    (existingEndpoints) => {
      const raw = example();
      raw.network.existingEndpoints = existingEndpoints;
      delete raw.network.privateRouteTableIds;

      const { network } = parseConfig(raw, ROOT);

      expect(network).toMatchObject({ endpoints: 'create', existingEndpoints, privateRouteTableIds: [] });
    },
  );

  it('accepts one shared route table for several subnets', () => {
    const raw = example();
    raw.network.privateRouteTableIds = ['rtb-0a1b2c3d4e5f60001', 'rtb-0a1b2c3d4e5f60001'];

    expect(parseConfig(raw, ROOT).network.privateRouteTableIds).toEqual(['rtb-0a1b2c3d4e5f60001', 'rtb-0a1b2c3d4e5f60001']);
  });

  it('accepts IDs of both lengths AWS issues (8 and 17 hex digits) and the widest and narrowest VPC blocks', () => {
    const raw = example();
    Object.assign(raw.network, {
      vpcId: 'vpc-0a1b2c3d',
      vpcCidrBlock: '172.31.0.0/28',
      availabilityZones: ['eu-west-1a', 'us-gov-west-1b', 'ap-southeast-2c'],
      privateSubnetIds: ['subnet-0a1b2c3d', 'subnet-0a1b2c3d4e5f60001', 'subnet-0a1b2c3d4e5f60002'],
      privateRouteTableIds: ['rtb-0a1b2c3d', 'rtb-0a1b2c3d', 'rtb-0a1b2c3d'],
      endpointSecurityGroupIds: ['sg-0a1b2c3d', 'sg-0a1b2c3d4e5f60099'],
      gatewayPrefixLists: { s3: 'pl-0123456789abcdef0', dynamodb: 'pl-02cd2c6b' },
    });
    expect(() => parseConfig(raw, ROOT)).not.toThrow();

    raw.network.vpcCidrBlock = '10.0.0.0/16';
    expect(parseConfig(raw, ROOT).network.vpcCidrBlock).toBe('10.0.0.0/16');
  });

  it.each([
    [['rtb-0a1b2c3d4e5f60001'], 'lists 1 route table for 2 private subnets'],
    [['rtb-0a1b2c3d4e5f60001', 'rtb-0a1b2c3d4e5f60002', 'rtb-0a1b2c3d4e5f60003'], 'lists 3 route tables for 2 private subnets'],
  ])('rejects route tables %j that do not match the subnets one to one, naming the field', (routeTables, counted) => {
    const raw = example();
    raw.network.privateRouteTableIds = routeTables;

    expect(issuesOf(raw)).toEqual([
      `network.privateRouteTableIds: ${counted}: give each subnet's route table, in the same order (repeat one that several subnets share)`,
    ]);
  });

  it('reports an empty subnet list once, not again as a count that does not match the zones', () => {
    const raw = example();
    raw.network.privateSubnetIds = [];
    raw.network.privateRouteTableIds = [];
    raw.network.existingEndpoints = ['s3', 'dynamodb'];

    expect(issuesOf(raw)).toEqual(['network.privateSubnetIds: must list at least 1 item']);
  });
});

describe('service roles', () => {
  it.each([
    'arn:aws:iam::123456789012:role/sentiment-task',
    'arn:aws:iam::123456789012:role/service-role/models/sentiment-task',
    'arn:aws-cn:iam::123456789012:role/sentiment-task',
    'arn:aws-us-gov:iam::123456789012:role/sentiment+task=1,a.b@c-d_e',
  ])('accepts the role ARN %s', (arn) => {
    const raw = example();
    raw.services[0].taskRoleArn = arn;
    raw.services[0].executionRoleArn = arn;

    expect(parseConfig(raw, ROOT).services[0]).toMatchObject({ taskRoleArn: arn, executionRoleArn: arn });
  });

  it('puts each service’s roles into its catalog entry', () => {
    const catalog = toServiceCatalog(loadConfig(EXAMPLE), ROOT);

    expect(catalog.map(({ name, taskRoleArn, executionRoleArn }) => ({ name, taskRoleArn, executionRoleArn }))).toEqual([
      {
        name: 'sentiment',
        taskRoleArn: 'arn:aws:iam::123456789012:role/sentiment-task',
        executionRoleArn: 'arn:aws:iam::123456789012:role/sentiment-execution',
      },
      {
        name: 'summarizer-staging',
        taskRoleArn: 'arn:aws:iam::123456789012:role/summarizer-task',
        executionRoleArn: 'arn:aws:iam::123456789012:role/summarizer-execution',
      },
    ]);
  });

  it('leaves a role out of the configuration as null in the catalog (the task definition may then name none)', () => {
    const raw = example();
    delete raw.services[0].taskRoleArn;
    delete raw.services[1].executionRoleArn;

    const config = parseConfig(raw, ROOT);
    const catalog = toServiceCatalog(config, ROOT);

    expect(config.services[0]!.taskRoleArn).toBeUndefined();
    expect(catalog.map(({ taskRoleArn, executionRoleArn }) => [taskRoleArn, executionRoleArn])).toEqual([
      [null, 'arn:aws:iam::123456789012:role/sentiment-execution'],
      ['arn:aws:iam::123456789012:role/summarizer-task', null],
    ]);
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

describe('toServiceCatalog key checks', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'model-rollout-keys-'));
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(path.join(dir, 'rsa.pub'), rsa.publicKey.export({ type: 'spki', format: 'pem' }));
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    writeFileSync(path.join(dir, 'p384.pub'), p384.publicKey.export({ type: 'spki', format: 'pem' }));
    const p521 = generateKeyPairSync('ec', { namedCurve: 'secp521r1' });
    writeFileSync(path.join(dir, 'p521.pub'), p521.publicKey.export({ type: 'spki', format: 'pem' }));
    const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 });
    writeFileSync(path.join(dir, 'rsa1024.pub'), rsa1024.publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(path.join(dir, 'garbage.pub'), '-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n');
    writeFileSync(path.join(dir, 'commented.pub'), `# the demo key, with a comment before it\n${DEMO_PUBLIC_KEY}`);
    copyFileSync(path.join(ROOT, 'examples/keys/demo-cosign.key'), path.join(dir, 'demo.key'));
    copyFileSync(path.join(ROOT, 'examples/keys/demo-cosign.pub'), path.join(dir, 'demo.pub'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The example, with the second service trusting `keyFile` (relative to the temp dir). */
  function trusting(keyFile: string): RolloutConfig {
    const raw = example();
    raw.services[0].signing.publicKeys = ['demo.pub'];
    raw.services[1].signing.publicKeys = ['demo.pub', keyFile];
    return parseConfig(raw, dir);
  }

  it('accepts RSA and P-384 keys (KMS and cosign can sign with them)', () => {
    const catalog = toServiceCatalog(trusting('rsa.pub'), dir);
    expect(catalog[1]!.trust.publicKeys).toHaveLength(2);
    expect(toServiceCatalog(trusting('p384.pub'), dir)[1]!.trust.publicKeys).toHaveLength(2);
  });

  it('refuses a short RSA key, naming the service and the file', () => {
    expect(() => toServiceCatalog(trusting('rsa1024.pub'), dir)).toThrow(
      ConfigError.invalid([
        'services[1].signing.publicKeys[1] (service "summarizer-staging", file rsa1024.pub): ' +
          'is a 1024-bit RSA key, shorter than 2048 bits; signatures need an EC P-256 / P-384 or RSA (2048 bits or more) public key',
      ]),
    );
  });

  it('refuses an EC key on another curve', () => {
    expect(() => toServiceCatalog(trusting('p521.pub'), dir)).toThrow('file p521.pub): is an EC secp521r1 key, not P-256 or P-384');
  });

  it('refuses a private key given by mistake, so that it never reaches the Lambda environment', () => {
    expect(() => toServiceCatalog(trusting('demo.key'), dir)).toThrow(
      'file demo.key): expected exactly one "PUBLIC KEY" PEM block (as printed by cosign public-key), found "PRIVATE KEY"',
    );
  });

  it('refuses a PEM block that is not a key', () => {
    expect(() => toServiceCatalog(trusting('garbage.pub'), dir)).toThrow('file garbage.pub): not a readable public key');
  });

  it('names a key file that disappeared after validation', () => {
    writeFileSync(path.join(dir, 'gone.pub'), DEMO_PUBLIC_KEY);
    const config = trusting('gone.pub');
    unlinkSync(path.join(dir, 'gone.pub'));

    expect(() => toServiceCatalog(config, dir)).toThrow(`file gone.pub): cannot read ${path.join(dir, 'gone.pub')}`);
  });

  it('keeps only the key from a file with other text, and trusts a repeated key once', () => {
    const catalog = toServiceCatalog(trusting('commented.pub'), dir);

    expect(catalog[1]!.trust.publicKeys).toEqual([DEMO_PUBLIC_KEY]);
  });
});

describe('readSignerRootCertificate', () => {
  const NOTATION = path.join(ROOT, 'test/fixtures/notation');
  const withRoot = (file: string | undefined): RolloutConfig => {
    const raw = example();
    if (file !== undefined) raw.signerRootCertificate = file;
    return parseConfig(raw, ROOT);
  };
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'model-rollout-root-'));
    // AWS publishes the Signer root as DER: the same root, converted, must read the same.
    writeFileSync(path.join(dir, 'root.der'), new X509Certificate(readFileSync(path.join(NOTATION, 'test-only-root-ca.cert.pem'))).raw);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is empty when no root is configured', () => {
    expect(readSignerRootCertificate(withRoot(undefined), ROOT)).toBe('');
  });

  it('reads a PEM root, and a DER root as the same certificate', () => {
    const pem = readSignerRootCertificate(withRoot('test/fixtures/notation/test-only-root-ca.cert.pem'), ROOT);
    const fromDer = readSignerRootCertificate(withRoot(path.relative(ROOT, path.join(dir, 'root.der'))), ROOT);
    expect(new X509Certificate(pem).fingerprint256).toBe(new X509Certificate(fromDer).fingerprint256);
  });

  it('refuses a certificate that is not a CA, naming the field and the file', () => {
    expect(() => readSignerRootCertificate(withRoot('test/fixtures/notation/test-only-signing.cert.pem'), ROOT)).toThrow(
      /signerRootCertificate \(file test\/fixtures\/notation\/test-only-signing\.cert\.pem\): .*is not a CA certificate/,
    );
  });

  it('refuses a file that is not a certificate', () => {
    expect(() => readSignerRootCertificate(withRoot('examples/keys/demo-cosign.pub'), ROOT)).toThrow(/neither a PEM nor a DER certificate/);
  });
});

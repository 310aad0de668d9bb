import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig, toServiceCatalog } from '../../../lib/config';
import { example, issuesOf, ROOT } from '../config-fixture';

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
});

describe('invalid services name the field and the value', () => {
  const cases: { name: string; breakIt: (raw: any) => void; issue: string }[] = [
    {
      name: 'an unknown environment',
      breakIt: (raw) => (raw.services[1].environment = 'prod'),
      issue: 'services[1].environment: "prod" is not one of production | staging | development',
    },
    {
      name: 'an unknown key (a typo) in a nested block',
      breakIt: (raw) => (raw.services[0].health.deadlineMinute = 10),
      issue: 'services[0].health: unknown key "deadlineMinute" (allowed: deadlineMinutes, pollSeconds, alarms)',
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
  ];

  it.each(cases)('rejects $name', ({ breakIt, issue }) => {
    const raw = example();
    breakIt(raw);

    expect(issuesOf(raw)).toEqual([issue]);
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
});

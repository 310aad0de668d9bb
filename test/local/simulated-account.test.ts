/**
 * The simulated account stands in for KMS, AWS Signer and CloudWatch in the local run and the workflow tests, injects
 * failures and keeps the calls and the clock; it is driven here through the real adapters (the code that talks to AWS
 * in production), never through its own internals. Its ECR: simulated-ecr.test.ts; its ECS: simulated-ecs.test.ts.
 */
import { generateKeyPairSync } from 'node:crypto';
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { GetPublicKeyCommand } from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { KeyStore } from '../../lambdas/adapters/key-store';
import { SigningAuthority } from '../../lambdas/adapters/signing-authority';
import { TransientAwsError } from '../../lambdas/errors';
import type { TrustedKey } from '../../lambdas/signature/keys';
import { SimulatedAccount } from '../../local/simulated-account';
import {
  ALARMS,
  entry,
  COMPLETES_AT_ONCE,
  account,
  target,
  alarms,
  useFreshAccount,
  push,
  deploy,
  taskDefinitionArn,
  commands,
} from './simulated-account-fixture';

useFreshAccount();

describe('SimulatedAccount', () => {
  describe('KMS keys, through KeyStore', () => {
    const KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const pair = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    const publicKeyDer = new Uint8Array(pair.publicKey.export({ type: 'spki', format: 'der' }));

    it.each([
      ['its key ARN', KEY_ARN],
      ['its key id', '1234abcd-12ab-34cd-56ef-1234567890ab'],
      ['an alias name', 'alias/release-signing'],
      ['an alias ARN', 'arn:aws:kms:us-east-1:123456789012:alias/release-signing'],
    ])('answers GetPublicKey for a registered key asked for by %s, with the key ARN', async (_, keyId) => {
      account.registerKmsKey({ keyArn: KEY_ARN, aliases: ['alias/release-signing'], publicKeyDer });

      const key = (await new KeyStore(account.kms as never).trustedKmsKey(keyId)) as TrustedKey;

      expect(key).toMatchObject({ kind: 'kms-key', id: KEY_ARN });
      expect(key.key.export({ type: 'spki', format: 'der' })).toEqual(Buffer.from(publicKeyDer));
      expect(account.calls).toEqual([{ command: 'GetPublicKey', input: { KeyId: keyId } }]);
    });

    it('describes the key as KMS does', async () => {
      account.registerKmsKey({ keyArn: KEY_ARN, publicKeyDer });

      await expect(account.kms.send(new GetPublicKeyCommand({ KeyId: KEY_ARN }))).resolves.toEqual({
        KeyId: KEY_ARN,
        PublicKey: publicKeyDer,
        KeySpec: 'ECC_NIST_P384',
        KeyUsage: 'SIGN_VERIFY',
        SigningAlgorithms: ['ECDSA_SHA_384'],
      });
    });

    it.each([
      ['an unknown key', {}, 'alias/unknown', /NotFoundException/],
      ['a disabled key', { keyState: 'Disabled' as const }, KEY_ARN, /is disabled \(DisabledException\)/],
      ['a key pending deletion', { keyState: 'PendingDeletion' as const }, KEY_ARN, /KMSInvalidStateException/],
      ['an encryption key', { keyUsage: 'ENCRYPT_DECRYPT' as const }, KEY_ARN, /key usage ENCRYPT_DECRYPT/],
    ])('answers for %s so that KeyStore explains why it cannot be used', async (_, overrides, keyId, problem) => {
      account.registerKmsKey({ keyArn: KEY_ARN, publicKeyDer, ...overrides });

      await expect(new KeyStore(account.kms as never).trustedKmsKey(keyId)).resolves.toMatch(problem);
    });

    it('fails GetPublicKey when told to', async () => {
      account.registerKmsKey({ keyArn: KEY_ARN, publicKeyDer });
      account.failNext('GetPublicKey', 'ThrottlingException');
      const store = new KeyStore(account.kms as never);

      await expect(store.trustedKmsKey(KEY_ARN)).rejects.toBeInstanceOf(TransientAwsError);
      await expect(store.trustedKmsKey(KEY_ARN)).resolves.toMatchObject({ id: KEY_ARN });
    });
  });

  describe('AWS Signer revocation, through SigningAuthority', () => {
    const query = {
      signatureTimestamp: '2026-11-20T01:00:00.000Z',
      platformId: 'Notation-OCI-SHA384-ECDSA',
      profileVersionArn: 'arn:aws:signer:us-east-1:123456789012:/signing-profiles/release/v1',
      jobArn: 'arn:aws:signer:us-east-1:123456789012:/signing-jobs/job-1',
      certificateHashes: ['aa'.repeat(96), 'bb'.repeat(96)],
    };

    it('reports nothing revoked until an entity is revoked, then only the revoked entities asked about', async () => {
      const authority = new SigningAuthority(account.signer as never);
      await expect(authority.revokedEntities(query)).resolves.toEqual([]);

      account.revokeSignerEntity(query.jobArn);
      account.revokeSignerEntity('arn:aws:signer:us-east-1:123456789012:/signing-jobs/another-job');

      await expect(authority.revokedEntities(query)).resolves.toEqual([query.jobArn]);
      expect(account.calls.at(-1)).toEqual({
        command: 'GetRevocationStatus',
        input: expect.objectContaining({ signatureTimestamp: new Date(query.signatureTimestamp) }),
      });
    });

    it('revokes a profile from its effective time: older signatures stay valid', async () => {
      const authority = new SigningAuthority(account.signer as never);
      account.revokeSignerEntity(query.profileVersionArn, { effectiveFrom: new Date('2026-11-20T01:00:00.001Z') });

      await expect(authority.revokedEntities(query)).resolves.toEqual([]);
      await expect(authority.revokedEntities({ ...query, signatureTimestamp: '2026-11-20T01:00:00.001Z' })).resolves.toEqual([
        query.profileVersionArn,
      ]);
    });

    it('fails GetRevocationStatus when told to', async () => {
      account.failNext('GetRevocationStatus', 'AccessDeniedException');

      await expect(new SigningAuthority(account.signer as never).revokedEntities(query)).rejects.toMatchObject({
        name: 'AccessDeniedException',
      });
    });
  });

  // ECS itself is tested against its documentation in simulated-ecs.test.ts.
  describe('CloudWatch alarms, through AlarmMonitor', () => {
    it('starts with the service alarms OK and reports an unknown alarm as MISSING', async () => {
      await expect(alarms.states([...ALARMS, 'no-such-alarm'])).resolves.toMatchObject([
        { name: 'sentiment-5xx-rate', state: 'OK' },
        { name: 'sentiment-p99-latency', state: 'OK' },
        { name: 'no-such-alarm', state: 'MISSING' },
      ]);
    });

    it('turns the tripsAlarm alarm to ALARM once the deployment completes, and back to OK two minutes after another deployment completes', async () => {
      const badArn = await deploy(push('v1.3.0', { result: 'completes', settlesAfterSeconds: 30, tripsAlarm: 'sentiment-p99-latency' }));
      await target.observeDeployment(entry, badArn);
      await expect(alarms.states(ALARMS)).resolves.toMatchObject([
        { name: 'sentiment-5xx-rate', state: 'OK' },
        { name: 'sentiment-p99-latency', state: 'OK' },
      ]);

      account.advance(30);
      await expect(target.observeDeployment(entry, badArn)).resolves.toMatchObject({ primary: { rolloutState: 'COMPLETED' } });
      await expect(alarms.states(ALARMS)).resolves.toMatchObject([
        { name: 'sentiment-5xx-rate', state: 'OK' },
        { name: 'sentiment-p99-latency', state: 'ALARM' },
      ]);

      const goodArn = await deploy(push('v1.3.1', { result: 'completes', settlesAfterSeconds: 30 }));
      await target.observeDeployment(entry, goodArn);
      await expect(alarms.states(ALARMS)).resolves.toContainEqual(
        expect.objectContaining({ name: 'sentiment-p99-latency', state: 'ALARM' }),
      );

      account.advance(30);
      await expect(target.observeDeployment(entry, goodArn)).resolves.toMatchObject({ primary: { rolloutState: 'COMPLETED' } });
      // An alarm clears once it has evaluated the good version's datapoints, not the moment its tasks run.
      await expect(alarms.states(ALARMS)).resolves.toContainEqual(
        expect.objectContaining({ name: 'sentiment-p99-latency', state: 'ALARM' }),
      );
      account.advance(119);
      await expect(alarms.states(ALARMS)).resolves.toContainEqual(
        expect.objectContaining({ name: 'sentiment-p99-latency', state: 'ALARM' }),
      );
      account.advance(1);
      await target.observeDeployment(entry, goodArn);
      await expect(alarms.states(ALARMS)).resolves.toMatchObject([
        { name: 'sentiment-5xx-rate', state: 'OK' },
        { name: 'sentiment-p99-latency', state: 'OK' },
      ]);
    });

    // Regression: deployments once settled only inside DescribeServices, so an alarm read right after `advance` saw OK.
    it('trips the alarm once the deployment has completed in simulated time, whoever looks first', async () => {
      await deploy(push('v1.3.0', { result: 'completes', settlesAfterSeconds: 30, tripsAlarm: 'sentiment-p99-latency' }));
      account.advance(30);

      await expect(alarms.states(['sentiment-p99-latency'])).resolves.toMatchObject([{ name: 'sentiment-p99-latency', state: 'ALARM' }]);
    });

    it('reports when each alarm last changed state, as StateTransitionedTimestamp does', async () => {
      const created = account.clock();
      account.advance(45);
      account.setAlarm('sentiment-5xx-rate', 'ALARM');
      account.advance(15);
      account.setAlarm('sentiment-5xx-rate', 'ALARM'); // no change of state: the timestamp stays

      await expect(alarms.states(ALARMS)).resolves.toEqual([
        { name: 'sentiment-5xx-rate', state: 'ALARM', since: new Date(created.getTime() + 45_000) },
        { name: 'sentiment-p99-latency', state: 'OK', since: created },
      ]);
    });

    it('moves only StateUpdatedTimestamp when the evaluation state changes: the state value did not', async () => {
      account.setAlarm('sentiment-5xx-rate', 'ALARM');
      const raised = account.clock();
      account.advance(60);
      account.services.cloudWatch.setEvaluationState('sentiment-5xx-rate', 'PARTIAL_DATA');

      const { MetricAlarms } = account.services.cloudWatch.describeAlarms({ AlarmNames: ['sentiment-5xx-rate'] });
      expect(MetricAlarms[0]).toMatchObject({
        StateValue: 'ALARM',
        StateTransitionedTimestamp: raised,
        StateUpdatedTimestamp: account.clock(),
        EvaluationState: 'PARTIAL_DATA',
      });
      await expect(alarms.states(['sentiment-5xx-rate'])).resolves.toEqual([{ name: 'sentiment-5xx-rate', state: 'ALARM', since: raised }]);
    });

    it('lets a scenario set an alarm directly', async () => {
      account.setAlarm('sentiment-5xx-rate', 'INSUFFICIENT_DATA');

      await expect(alarms.states(['sentiment-5xx-rate'])).resolves.toMatchObject([
        { name: 'sentiment-5xx-rate', state: 'INSUFFICIENT_DATA' },
      ]);
    });
  });

  describe('scheduled failures (failNext)', () => {
    it('fails exactly the next call of the command with the AWS error named, then answers normally', async () => {
      const { newTaskDefinitionArn } = await target.registerRevision(
        entry,
        push('v1.3.0', { result: 'completes', settlesAfterSeconds: 60 }),
        await target.revisionInUse(entry),
      );
      account.failNext('UpdateService', 'AccessDeniedException');

      const error = await account.ecs
        .send(new UpdateServiceCommand({ cluster: entry.cluster, service: entry.service, taskDefinition: newTaskDefinitionArn }))
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toMatchObject({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'simulated UpdateService failure: AccessDeniedException',
      });
      await expect(target.observeDeployment(entry, newTaskDefinitionArn)).resolves.toMatchObject({
        primary: { taskDefinitionArn: taskDefinitionArn(1), rolloutState: 'COMPLETED' },
        deploymentCount: 1,
      }); // nothing deployed

      await expect(target.updateService(entry, newTaskDefinitionArn)).resolves.toBeUndefined();
      await expect(target.observeDeployment(entry, newTaskDefinitionArn)).resolves.toMatchObject({
        primary: { taskDefinitionArn: newTaskDefinitionArn, rolloutState: 'IN_PROGRESS' },
        deploymentCount: 2,
      });
      expect(commands().filter((c) => c === 'UpdateService')).toHaveLength(2);
    });

    it('lets null schedule a success, so only the second call fails', async () => {
      account.failNext('DescribeAlarms', null);
      account.failNext('DescribeAlarms', 'ThrottlingException');

      await expect(alarms.states(ALARMS)).resolves.toHaveLength(2);
      // The adapter turns throttling into the error the state machine retries.
      await expect(alarms.states(ALARMS)).rejects.toBeInstanceOf(TransientAwsError);
      await expect(alarms.states(ALARMS)).resolves.toHaveLength(2);
      expect(commands()).toEqual(['DescribeAlarms', 'DescribeAlarms', 'DescribeAlarms']);
    });

    it('leaves other commands alone', async () => {
      account.failNext('UpdateService', 'AccessDeniedException');

      await expect(target.describeRunning(entry)).resolves.toMatchObject({ version: 'v1.2.0' });
      // The adapter reports the refusal as such: nothing changed.
      await expect(target.updateService(entry, taskDefinitionArn(1))).rejects.toMatchObject({
        name: 'UpdateRefusedError',
        message: expect.stringContaining('AccessDeniedException'),
      });
    });

    it.each([
      ['ServerException', 'server', 500, true],
      ['ServiceUnavailableException', 'server', 503, true],
      ['ThrottlingException', 'client', 400, true],
      ['TooManyRequestsException', 'client', 429, true],
      ['AccessDeniedException', 'client', 400, false],
    ] as const)('gives %s the fault kind AWS gives it (%s, %i), so it is retried as in AWS: %s', async (name, fault, status, transient) => {
      account.failNext('DescribeAlarms', name);
      const raw = await account.cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: ALARMS })).catch((e: unknown) => e);
      expect(raw).toMatchObject({ name, $fault: fault, $metadata: { httpStatusCode: status } });

      account.failNext('DescribeAlarms', name);
      const classified = await alarms.states(ALARMS).catch((e: unknown) => e);
      expect(classified instanceof TransientAwsError).toBe(transient);
    });

    it('can let a call take effect and then lose its response', async () => {
      const { newTaskDefinitionArn } = await target.registerRevision(
        entry,
        push('v1.3.0', { result: 'completes', settlesAfterSeconds: 60 }),
        await target.revisionInUse(entry),
      );
      account.failNext('UpdateService', { error: 'TimeoutError', applied: true });

      const raw = await account.ecs
        .send(new UpdateServiceCommand({ cluster: entry.cluster, service: entry.service, taskDefinition: newTaskDefinitionArn }))
        .catch((e: unknown) => e);
      expect(raw).toMatchObject({ name: 'TimeoutError', message: expect.stringContaining('took effect') });
      // ...and it did: the service is deploying the new revision.
      await expect(target.runs(entry, newTaskDefinitionArn)).resolves.toBe(true);
    });

    it('refuses to schedule a failure for a command it does not answer', () => {
      expect(() => account.failNext('UpdateServices', 'AccessDeniedException')).toThrow(
        /cannot fail "UpdateServices": it answers .*UpdateService/,
      );
    });

    it('fails a command the local run answers itself through throwScheduledFailure', () => {
      account.failNext('PutEvents', 'InternalException');

      expect(() => account.throwScheduledFailure('PutEvents')).toThrowError('simulated PutEvents failure: InternalException');
      expect(() => account.throwScheduledFailure('PutEvents')).not.toThrow();
    });
  });

  describe('calls', () => {
    it('records every command answered, in order, with its input — failed ones too', async () => {
      const release = push('v1.3.0', COMPLETES_AT_ONCE);
      account.failNext('DescribeAlarms', 'AccessDeniedException');

      await target.describeRunning(entry);
      const newArn = await deploy(release);
      await target.observeDeployment(entry, newArn);
      await expect(alarms.states(ALARMS)).rejects.toMatchObject({ name: 'AccessDeniedException' });

      expect(commands()).toEqual([
        'DescribeServices',
        'DescribeTaskDefinition',
        'DescribeServices',
        'DescribeTaskDefinition',
        'RegisterTaskDefinition',
        'UpdateService',
        'DescribeServices',
        'DescribeServiceDeployments',
        'DescribeAlarms',
      ]);
      expect(account.calls[5].input).toEqual({ cluster: entry.cluster, service: entry.service, taskDefinition: newArn });
      expect(account.calls[8].input).toMatchObject({ AlarmNames: ALARMS });
    });
  });

  describe('clock', () => {
    it('starts at the given time and moves only when advanced', () => {
      const clocked = new SimulatedAccount({ start: new Date('2026-01-01T00:00:00Z') });
      const before = clocked.clock();
      before.setFullYear(2000); // a copy: callers cannot move the account's time

      expect(clocked.clock().toISOString()).toBe('2026-01-01T00:00:00.000Z');
      clocked.advance(90);
      expect(clocked.clock().toISOString()).toBe('2026-01-01T00:01:30.000Z');
    });
  });
});

/**
 * The ledger adapter against a real (in-process) DynamoDB: conditions, list_append, string sets and the index are
 * DynamoDB's own behaviour, which a mock would only restate. Each test gets a fresh table.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { DeploymentLedger } from '../../lambdas/adapters/ledger';
import { ERROR_NAMES, TransientAwsError } from '../../lambdas/errors';
import { DIGEST, OTHER_DIGEST, SERVICE } from '../fixtures/ledger-adapter';

describe('DeploymentLedger and AWS failures', () => {
  // A mocked client of its own: mocking the class would also mock the one that talks to the in-process DynamoDB.
  const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  const dynamo = mockClient(documentClient);
  const mockedLedger = new DeploymentLedger(documentClient, 'ledger');

  beforeEach(() => {
    dynamo.reset();
  });

  afterAll(() => {
    dynamo.restore();
  });

  it('turns throttling into TransientAwsError, which the state machine retries', async () => {
    dynamo
      .on(GetCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client', $metadata: {} }));

    const error = await mockedLedger.getLock(SERVICE).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TransientAwsError);
    expect((error as Error).name).toBe(ERROR_NAMES.transientAws);
    expect((error as Error).message).toContain('GetItem failed: ThrottlingException');
  });

  it('reads every page of a query', async () => {
    const item = (digest: string) => ({
      pk: 'SERVICE#sentiment',
      sk: `DIGEST#${digest}`,
      kind: 'digest',
      service: SERVICE,
      digest,
      tags: new Set(['v1.3.0']),
      firstSeenAt: '2026-11-02T10:00:00.000Z',
    });
    const nextPage = { pk: 'SERVICE#sentiment', sk: `DIGEST#${DIGEST}` };
    dynamo
      .on(QueryCommand)
      .resolvesOnce({ Items: [item(DIGEST)], LastEvaluatedKey: nextPage })
      .resolvesOnce({ Items: [item(OTHER_DIGEST)] });

    const digests = await mockedLedger.listDigests(SERVICE);

    expect(digests.map((digest) => digest.digest)).toEqual([DIGEST, OTHER_DIGEST]);
    expect(dynamo.commandCalls(QueryCommand).map((call) => call.args[0].input.ExclusiveStartKey)).toEqual([undefined, nextPage]);
  });
});

import { describe, expect, it } from 'vitest';
import type { ServiceCatalog } from '../../lambdas/contract/catalog';
import { ENDPOINT_NAMES, endpointsNeeded, PIPELINE_ENDPOINTS } from '../../lib/endpoints';
import { PIPELINE_FUNCTIONS } from '../../lib/runbook';
import { EVENT_FUNCTIONS, STEP_FUNCTIONS } from '../../lib/state-names';
import { sentimentService } from '../fixtures/catalog';

const ALWAYS = ['ecr.api', 's3', 'dynamodb', 'ecs', 'states'];
const KMS_KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const SIGNING_PROFILE = 'arn:aws:signer:us-east-1:123456789012:/signing-profiles/ModelRelease';

/** A service trusting only a cosign key and watching no alarm: it needs no optional endpoint. */
const plain = (name = 'sentiment') => sentimentService({ name, health: { alarms: [] } });

const names = (catalog: ServiceCatalog) => endpointsNeeded(catalog).map((endpoint) => endpoint.name);

describe('endpointsNeeded', () => {
  const cases: [string, ServiceCatalog, string[]][] = [
    ['no alarm, no KMS key, no signing profile: only those every release calls', [plain()], ALWAYS],
    ['no service at all: still those every release and the reconciliation call', [], ALWAYS],
    [
      'one service watching alarms: CloudWatch too',
      [plain('a'), sentimentService({ name: 'b', health: { alarms: ['b-5xx'] } })],
      [...ALWAYS, 'monitoring'],
    ],
    [
      'one service trusting a KMS key: KMS too',
      [plain('a'), sentimentService({ name: 'b', health: { alarms: [] }, signing: { kmsKeys: [KMS_KEY] } })],
      [...ALWAYS, 'kms'],
    ],
    [
      'one service trusting a signing profile: AWS Signer too',
      [sentimentService({ health: { alarms: [] }, signing: { signingProfiles: [SIGNING_PROFILE] } }), plain('b')],
      [...ALWAYS, 'signer'],
    ],
    [
      'each need from a different service: all of them, in table order',
      [
        sentimentService({ name: 'a', health: { alarms: [] }, signing: { signingProfiles: [SIGNING_PROFILE] } }),
        sentimentService({ name: 'b', health: { alarms: [] }, signing: { kmsKeys: [KMS_KEY] } }),
        sentimentService({ name: 'c', health: { alarms: ['c-5xx'] } }),
      ],
      [...ALWAYS, 'monitoring', 'kms', 'signer'],
    ],
  ];

  it.each(cases)('%s', (_, catalog, expected) => {
    expect(names(catalog)).toEqual(expected);
  });

  it('derives who calls each endpoint from the functions the stages declare, each function once', () => {
    const everything = [sentimentService({ signing: { kmsKeys: [KMS_KEY], signingProfiles: [SIGNING_PROFILE] } })];

    expect(Object.fromEntries(endpointsNeeded(everything).map((endpoint) => [endpoint.name, endpoint.usedBy]))).toEqual({
      'ecr.api': ['record-release', 'verify-signature', 'reconcile'],
      s3: ['record-release', 'verify-signature'],
      dynamodb: ['record-release', 'take-lock', 'await-health', 'record-outcome', 'finalise-execution', 'reconcile'],
      ecs: ['check-release', 'register-revision', 'update-service', 'await-health', 'check-health'],
      states: ['await-health', 'finalise-execution', 'reconcile'],
      monitoring: ['await-health', 'check-health'],
      kms: ['verify-signature'],
      signer: ['verify-signature'],
    });
  });
});

describe('PIPELINE_ENDPOINTS', () => {
  const functions: readonly string[] = [...STEP_FUNCTIONS, ...EVENT_FUNCTIONS];

  it('lists every configurable endpoint name once, in the order of ENDPOINT_NAMES', () => {
    expect(PIPELINE_ENDPOINTS.map((endpoint) => endpoint.name)).toEqual([...ENDPOINT_NAMES]);
  });

  it.each(PIPELINE_ENDPOINTS.map((endpoint) => [endpoint.name, endpoint] as const))('%s says why the pipeline needs it', (_, endpoint) => {
    expect(endpoint.why).not.toBe('');
  });

  it('names exactly the functions of the pipeline, in the order of STEP_FUNCTIONS then EVENT_FUNCTIONS', () => {
    expect(PIPELINE_FUNCTIONS.map((spec) => spec.name)).toEqual(functions);
  });

  it('has exactly the gateway endpoints the configuration needs route tables for: s3 and dynamodb', () => {
    expect(PIPELINE_ENDPOINTS.filter((endpoint) => endpoint.kind === 'gateway').map((endpoint) => endpoint.name)).toEqual([
      's3',
      'dynamodb',
    ]);
  });
});

/**
 * What each stage's function spec says it `calls` (lib/stages/) is what creates its VPC endpoints and admits its role
 * in their policies: it must be what the function's Lambda entry really builds clients for. Gateway S3 (pre-signed blob
 * downloads) has no client and no endpoint policy, so it is not read from the entries.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EndpointName } from '../../lib/endpoints';
import { PIPELINE_FUNCTIONS } from '../../lib/runbook';
import { grayRelease, sentimentService } from '../fixtures/catalog';

const FUNCTIONS = path.resolve(__dirname, '..', '..', 'lambdas', 'functions');

/** The endpoint each client an entry can build goes through. */
const ENDPOINT_OF_CLIENT: Readonly<Record<string, EndpointName>> = {
  "from '@aws-sdk/client-ecr'": 'ecr.api',
  "from '@aws-sdk/client-ecs'": 'ecs',
  "from '@aws-sdk/client-sfn'": 'states',
  "from '@aws-sdk/client-cloudwatch'": 'monitoring',
  "from '@aws-sdk/client-kms'": 'kms',
  "from '@aws-sdk/client-signer'": 'signer',
  "from '@aws-sdk/client-elastic-load-balancing-v2'": 'elasticloadbalancing',
  // The ledger's DynamoDB document client.
  ledgerDocumentClient: 'dynamodb',
};

/** A catalog that needs every optional endpoint: alarms, a KMS key, a signing profile, a gray release. */
const EVERYTHING = [
  sentimentService({ name: 'sentiment-gray', release: grayRelease() }),
  sentimentService({
    signing: {
      kmsKeys: ['arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab'],
      signingProfiles: ['arn:aws:signer:us-east-1:123456789012:/signing-profiles/ModelRelease'],
    },
  }),
];

describe("the function specs' calls", () => {
  it.each(PIPELINE_FUNCTIONS.map((spec) => [spec.name, spec] as const))(
    '%s: the endpoints of the clients its entry builds',
    (name, spec) => {
      const source = readFileSync(path.join(FUNCTIONS, `${name}.ts`), 'utf8');
      const built = Object.entries(ENDPOINT_OF_CLIENT)
        .filter(([marker]) => source.includes(marker))
        .map(([, endpoint]) => endpoint);

      expect(new Set(spec.calls(EVERYTHING).filter((endpoint) => endpoint !== 's3'))).toEqual(new Set(built));
    },
  );
});

/**
 * Which host the bundled SDK sends GetRevocationStatus to, so that the VPC endpoint question stays visible: the
 * operation carries the host prefix `data-` ("AWS Signer endpoints and quotas" lists `data-signer.<region>.amazonaws.com`
 * beside `signer.<region>.amazonaws.com` for every Region). A real client, stopped before the request leaves: it runs in
 * its own process, since the other adapter tests replace SignerClient's `send` in their worker.
 */
import { SignerClient } from '@aws-sdk/client-signer';
import { describe, expect, it } from 'vitest';
import { SigningAuthority } from '../../lambdas/adapters/signing-authority';

class RequestStopped extends Error {}

describe('the SDK the functions bundle', () => {
  it('sends GetRevocationStatus to the data-plane host data-signer.<region>, not to signer.<region>', async () => {
    const client = new SignerClient({ region: 'eu-west-1', credentials: { accessKeyId: 'test-only', secretAccessKey: 'test-only' } });
    const hosts: string[] = [];
    client.middlewareStack.add(
      () => async (args) => {
        hosts.push((args.request as { hostname: string }).hostname);
        throw new RequestStopped('stopped before sending');
      },
      { step: 'finalizeRequest', name: 'stopBeforeSending' },
    );

    await expect(
      new SigningAuthority(client).revokedEntities({
        signatureTimestamp: '2026-11-20T01:10:00.000Z',
        platformId: 'Notation-OCI-SHA384-ECDSA',
        profileVersionArn: 'arn:aws:signer:eu-west-1:123456789012:/signing-profiles/release/Ab3dEf9hIj',
        jobArn: 'arn:aws:signer:eu-west-1:123456789012:/signing-jobs/2d3f4a5b-0000-4000-8000-123456789abc',
        certificateHashes: ['aa'.repeat(96)],
      }),
    ).rejects.toThrow();
    expect(hosts).toEqual(['data-signer.eu-west-1.amazonaws.com']);
  });
});

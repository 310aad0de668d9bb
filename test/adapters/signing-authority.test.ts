import { GetRevocationStatusCommand, SignerClient } from '@aws-sdk/client-signer';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SigningAuthority } from '../../lambdas/adapters/signing-authority';
import { TransientAwsError } from '../../lambdas/errors';
import type { RevocationQuery } from '../../lambdas/signature/findings';

const QUERY: RevocationQuery = {
  signatureTimestamp: '2026-11-20T01:10:00.000Z',
  platformId: 'Notation-OCI-SHA384-ECDSA',
  profileVersionArn: 'arn:aws:signer:eu-west-1:123456789012:/signing-profiles/release/Ab3dEf9hIj',
  jobArn: 'arn:aws:signer:eu-west-1:123456789012:/signing-jobs/2d3f4a5b-0000-4000-8000-123456789abc',
  certificateHashes: ['aa'.repeat(96), 'bb'.repeat(96)],
};

const signer = mockClient(SignerClient);
const awsError = (name: string, fault: 'client' | 'server' = 'client') =>
  Object.assign(new Error(`simulated ${name}`), { name, $fault: fault, $metadata: {} });

beforeEach(() => signer.reset());

describe('SigningAuthority.revokedEntities', () => {
  it('asks GetRevocationStatus about the signature, with its signing time as a Date', async () => {
    signer.on(GetRevocationStatusCommand).resolves({ revokedEntities: [] });

    await expect(new SigningAuthority(new SignerClient({})).revokedEntities(QUERY)).resolves.toEqual([]);

    expect(signer.commandCalls(GetRevocationStatusCommand).map((call) => call.args[0].input)).toEqual([
      {
        signatureTimestamp: new Date('2026-11-20T01:10:00.000Z'),
        platformId: QUERY.platformId,
        profileVersionArn: QUERY.profileVersionArn,
        jobArn: QUERY.jobArn,
        certificateHashes: QUERY.certificateHashes,
      },
    ]);
  });

  it('returns the entities reported revoked', async () => {
    signer.on(GetRevocationStatusCommand).resolves({ revokedEntities: [QUERY.profileVersionArn, QUERY.certificateHashes[0]!] });

    await expect(new SigningAuthority(new SignerClient({})).revokedEntities(QUERY)).resolves.toEqual([
      QUERY.profileVersionArn,
      QUERY.certificateHashes[0],
    ]);
  });

  it('reads an answer without revokedEntities as none revoked', async () => {
    signer.on(GetRevocationStatusCommand).resolves({});

    await expect(new SigningAuthority(new SignerClient({})).revokedEntities(QUERY)).resolves.toEqual([]);
  });

  it.each([
    ['throttled', awsError('TooManyRequestsException')],
    ['failing inside Signer', awsError('InternalServiceErrorException', 'server')],
  ])('throws TransientAwsError when Signer is %s', async (_, error) => {
    signer.on(GetRevocationStatusCommand).rejects(error);

    await expect(new SigningAuthority(new SignerClient({})).revokedEntities(QUERY)).rejects.toThrow(TransientAwsError);
  });

  it.each(['AccessDeniedException', 'ValidationException'])(
    'rethrows %s unchanged (nothing proven, the image is rejected)',
    async (name) => {
      signer.on(GetRevocationStatusCommand).rejects(awsError(name));

      const error = await new SigningAuthority(new SignerClient({})).revokedEntities(QUERY).catch((e: unknown) => e);

      expect(error).toMatchObject({ name });
      expect(error).not.toBeInstanceOf(TransientAwsError);
    },
  );

  it('refuses a signing time that is not a time, without calling Signer', async () => {
    await expect(new SigningAuthority(new SignerClient({})).revokedEntities({ ...QUERY, signatureTimestamp: 'yesterday' })).rejects.toThrow(
      /not a time/,
    );
    expect(signer.commandCalls(GetRevocationStatusCommand)).toHaveLength(0);
  });
});

/**
 * What verifyImage decides beyond the formats' verdicts (those are covered end to end by the signature case table in
 * test/steps and test/cli): when a missing signature is still waited for, what an operator is told about an unsigned
 * image, and how unusable trust entries are reported. The registry, KMS and Signer are small fakes.
 */
import { describe, expect, it } from 'vitest';
import type { Signing } from '../../lambdas/contract/catalog';
import type { SignatureArtifacts } from '../../lambdas/signature/artifacts';
import { verifyImage, type VerifyImageDependencies } from '../../lambdas/signature/verify-image';
import { COSIGN_CASES, EXPECTED_IMAGE, KEYS } from '../fixtures/signatures';

const NOW = new Date('2026-08-01T00:00:00.000Z');
const TRUST: Signing = {
  publicKeys: [KEYS.cosignTrusted.publicKeyPem],
  kmsKeys: [],
  signingProfiles: [],
  threshold: 1,
  lateSignatureSeconds: 120,
  pollSeconds: 15,
};
const NOTHING: SignatureArtifacts = { cosign: null, referrers: [], unreadable: [], signingInProgress: false };
/** A cosign signature by a key nobody trusts: one invalid finding. */
const UNTRUSTED_COSIGN: SignatureArtifacts = {
  ...NOTHING,
  cosign: {
    manifest: COSIGN_CASES.wrongKey.manifest,
    layers: COSIGN_CASES.wrongKey.layers.map((layer) => ({ ...layer, signatureBase64: '' })),
  },
};
const VALID_COSIGN: SignatureArtifacts = {
  ...NOTHING,
  cosign: { manifest: COSIGN_CASES.valid.manifest, layers: COSIGN_CASES.valid.layers.map((layer) => ({ ...layer, signatureBase64: '' })) },
};

function deps(artifacts: SignatureArtifacts, options: { now?: Date; kmsProblem?: string } = {}) {
  const asked: { signingStatus: boolean }[] = [];
  const dependencies: VerifyImageDependencies = {
    registry: {
      readSignatureArtifacts: async (_repository, _digest, opts) => {
        asked.push(opts);
        return artifacts;
      },
    },
    keyStore: { trustedKmsKey: async () => options.kmsProblem ?? 'does not exist (NotFoundException)' },
    signingAuthority: { revokedEntities: async () => [] },
    trustedRoots: [],
    now: () => options.now ?? NOW,
  };
  return { dependencies, asked };
}

const at = (seconds: number) => new Date(NOW.getTime() + seconds * 1000).toISOString();
const verify = (
  artifacts: SignatureArtifacts,
  waitUntil: string | null,
  options: { now?: Date; kmsProblem?: string; trust?: Signing } = {},
) => verifyImage(deps(artifacts, options).dependencies, { expected: EXPECTED_IMAGE, signing: options.trust ?? TRUST, waitUntil });

describe('verifyImage: waiting for a late signature', () => {
  it('is pending, carrying waitUntil, while nothing has arrived and the wait has not run out', async () => {
    const result = await verify(NOTHING, at(1));

    expect(result).toMatchObject({ verdict: 'pending', code: 'pending', waitUntil: at(1), evidence: [], digest: EXPECTED_IMAGE.digest });
    expect(result.reason).toBe(`no signature has arrived yet; waiting until ${at(1)}.`);
  });

  it('is unsigned once now reaches waitUntil', async () => {
    const result = await verify(NOTHING, at(0));

    expect(result).toMatchObject({ verdict: 'rejected', code: 'unsigned', waitUntil: null });
  });

  it('is unsigned at once without a wait', async () => {
    await expect(verify(NOTHING, null)).resolves.toMatchObject({ verdict: 'rejected', code: 'unsigned', waitUntil: null });
  });

  it('does not wait for a better signature when a bad one is there and nothing is signing', async () => {
    await expect(verify(UNTRUSTED_COSIGN, at(60))).resolves.toMatchObject({
      verdict: 'rejected',
      code: 'invalid-signature',
      waitUntil: null,
    });
  });

  it('waits while ECR managed signing is in progress, even beside a bad signature', async () => {
    const result = await verify({ ...UNTRUSTED_COSIGN, signingInProgress: true }, at(60));

    expect(result).toMatchObject({ verdict: 'pending', code: 'pending', waitUntil: at(60) });
    expect(result.reason).toBe(`ECR managed signing is still in progress; waiting until ${at(60)}.`);
  });

  it('says ECR managed signing was still in progress when the wait runs out with nothing signed', async () => {
    const result = await verify({ ...NOTHING, signingInProgress: true }, at(0));

    expect(result).toMatchObject({ verdict: 'rejected', code: 'unsigned' });
    expect(result.reason).toContain(' ECR managed signing was still in progress.');
  });

  it('asks ECR about managed signing only when signing profiles are trusted', async () => {
    const withoutProfiles = deps(NOTHING);
    const withProfiles = deps(NOTHING);
    const profile = 'arn:aws:signer:us-east-1:123456789012:/signing-profiles/Release';

    await verifyImage(withoutProfiles.dependencies, { expected: EXPECTED_IMAGE, signing: TRUST, waitUntil: null });
    await verifyImage(withProfiles.dependencies, {
      expected: EXPECTED_IMAGE,
      signing: { ...TRUST, signingProfiles: [profile] },
      waitUntil: null,
    });

    expect(withoutProfiles.asked).toEqual([{ signingStatus: false }]);
    expect(withProfiles.asked).toEqual([{ signingStatus: true }]);
  });
});

describe('verifyImage: what the operator is told', () => {
  it('tells how to sign an unsigned image: by its digest, with cosign or notation', async () => {
    const { reason } = await verify(NOTHING, null);

    const image = `${EXPECTED_IMAGE.repositoryUri}@${EXPECTED_IMAGE.digest}`;
    expect(reason).toContain(`${image} has no signature`);
    expect(reason).toContain(`cosign sign --key <trusted-key> ${image}`);
    expect(reason).toContain('notation sign with a trusted AWS Signer profile');
  });

  it('does not tell how to sign an image whose signature is bad', async () => {
    const { reason } = await verify(UNTRUSTED_COSIGN, null);

    expect(reason).not.toContain('cosign sign');
  });

  it('appends unusable trust entries to the reason of a rejection, naming each', async () => {
    const kmsKey = 'arn:aws:kms:us-east-1:123456789012:key/disabled';
    const trust = { ...TRUST, publicKeys: [KEYS.cosignTrusted.publicKeyPem, 'not a key'], kmsKeys: [kmsKey] };

    const { code, reason } = await verify(UNTRUSTED_COSIGN, null, { trust, kmsProblem: 'is disabled (DisabledException)' });

    expect(code).toBe('invalid-signature');
    expect(reason).toMatch(
      / \(Configuration: public key 2 .+; KMS key arn:aws:kms:us-east-1:123456789012:key\/disabled is disabled \(DisabledException\)\.\)$/,
    );
  });

  it('keeps verifying with the usable keys, and leaves the configuration out of a verified reason', async () => {
    const trust = { ...TRUST, publicKeys: ['not a key', KEYS.cosignTrusted.publicKeyPem] };

    const result = await verify(VALID_COSIGN, null, { trust });

    expect(result).toMatchObject({ verdict: 'verified', evidence: [{ signer: { id: KEYS.cosignTrusted.fingerprint } }] });
    expect(result.reason).not.toContain('Configuration');
  });
});

import { describe, expect, it } from 'vitest';
import type { SignatureEvidence } from '../../lambdas/contract/signature';
import { decideSignature, settleSignature, type SignatureWaitInput } from '../../lambdas/decisions/signature-trust';
import type { FailureCode, SignatureFinding } from '../../lambdas/signature/findings';

const EXPECTED = {
  digest: `sha256:${'3f'.repeat(32)}`,
  repositoryName: 'models/sentiment',
  repositoryUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/models/sentiment',
};
const CHECKED_AT = '2025-01-01T00:00:00.000Z';

function valid(signerId: string, signatureDigest = `sha256:${'a1'.repeat(32)}`): SignatureFinding {
  const evidence: SignatureEvidence = {
    format: 'cosign-simple-signing',
    signer: { kind: 'public-key', id: signerId },
    signatureDigest,
    signedAt: null,
  };
  return { valid: true, evidence };
}
function failed(code: FailureCode, reason = `failed with ${code}`): SignatureFinding {
  return { valid: false, code, reason, format: 'sigstore-bundle', signatureDigest: `sha256:${'b2'.repeat(32)}` };
}
const decide = (findings: SignatureFinding[], threshold = 1) =>
  decideSignature({ expected: EXPECTED, findings, threshold, checkedAt: CHECKED_AT });

describe('decideSignature', () => {
  it('is unsigned when there is no finding at all', () => {
    expect(decide([])).toMatchObject({
      verdict: 'rejected',
      code: 'unsigned',
      evidence: [],
      digest: EXPECTED.digest,
      checkedAt: CHECKED_AT,
      waitUntil: null,
    });
  });

  it('verifies with one valid finding at threshold 1, whatever else failed', () => {
    const result = decide([failed('invalid-signature'), valid('sha256:key-a'), failed('digest-mismatch')]);

    expect(result).toMatchObject({ verdict: 'verified', code: 'verified', evidence: [{ signer: { id: 'sha256:key-a' } }] });
    expect(result.reason).toContain('sha256:key-a');
  });

  it('needs 2 distinct signers at threshold 2', () => {
    const result = decide([valid('sha256:key-a'), valid('sha256:key-b')], 2);

    expect(result.verdict).toBe('verified');
    expect(result.evidence.map((e) => e.signer.id)).toEqual(['sha256:key-a', 'sha256:key-b']);
  });

  it('counts the same key signing twice once', () => {
    const result = decide([valid('sha256:key-a', `sha256:${'01'.repeat(32)}`), valid('sha256:key-a', `sha256:${'02'.repeat(32)}`)], 2);

    expect(result).toMatchObject({ verdict: 'rejected', code: 'untrusted-signer', evidence: [] });
    expect(result.reason).toMatch(/Only 1 of the 2 distinct trusted signers required/);
  });

  it('tells a public key and a KMS key with the same id apart', () => {
    const kms: SignatureFinding = {
      valid: true,
      evidence: { format: 'sigstore-bundle', signer: { kind: 'kms-key', id: 'sha256:key-a' }, signatureDigest: 'x', signedAt: null },
    };

    expect(decide([valid('sha256:key-a'), kms], 2).verdict).toBe('verified');
  });

  it.each<{ codes: FailureCode[]; decisive: FailureCode }>([
    { codes: ['untrusted-signer', 'invalid-signature'], decisive: 'invalid-signature' },
    { codes: ['invalid-signature', 'identity-mismatch'], decisive: 'identity-mismatch' },
    { codes: ['identity-mismatch', 'digest-mismatch', 'untrusted-signer'], decisive: 'digest-mismatch' },
    { codes: ['digest-mismatch', 'expired'], decisive: 'expired' },
    { codes: ['expired', 'revoked', 'invalid-signature'], decisive: 'revoked' },
  ])('explains $codes by $decisive', ({ codes, decisive }) => {
    const result = decide(codes.map((code) => failed(code)));

    expect(result).toMatchObject({ verdict: 'rejected', code: decisive });
    expect(result.reason).toMatch(new RegExp(`^None of the ${codes.length} signatures is valid: 1\\. sigstore-bundle sha256:b2`));
  });

  it('quotes a single failure', () => {
    expect(decide([failed('digest-mismatch', 'it names another digest')]).reason).toBe(
      'The signature was rejected: it names another digest.',
    );
  });
});

describe('settleSignature', () => {
  const NOW = new Date('2025-01-01T00:05:00.000Z');
  const LATER = '2025-01-01T00:10:00.000Z';
  const EARLIER = '2025-01-01T00:04:00.000Z';
  const settle = (findings: SignatureFinding[], overrides: Partial<SignatureWaitInput> = {}) =>
    settleSignature({
      result: decide(findings),
      expected: EXPECTED,
      findingCount: findings.length,
      signingInProgress: false,
      waitUntil: null,
      now: NOW,
      configurationProblems: [],
      ...overrides,
    });

  it('passes a verified result on unchanged, whatever else it is told', () => {
    const verified = decide([valid('key-1')]);
    expect(settle([valid('key-1')], { waitUntil: LATER, configurationProblems: ['public key 2 is not PEM'] })).toEqual(verified);
  });

  it('waits for a signature that has not arrived while the wait runs', () => {
    expect(settle([], { waitUntil: LATER })).toMatchObject({
      verdict: 'pending',
      code: 'pending',
      waitUntil: LATER,
      reason: `no signature has arrived yet; waiting until ${LATER}.`,
    });
  });

  it('waits while ECR managed signing is in progress, even with signatures found', () => {
    expect(settle([failed('untrusted-signer')], { waitUntil: LATER, signingInProgress: true })).toMatchObject({
      verdict: 'pending',
      reason: `ECR managed signing is still in progress; waiting until ${LATER}.`,
    });
  });

  it('does not wait for more when a signature was found and nothing is signing', () => {
    expect(settle([failed('invalid-signature')], { waitUntil: LATER })).toMatchObject({ verdict: 'rejected', code: 'invalid-signature' });
  });

  it('rejects an unsigned image once the wait has run out, or with no wait, saying how to sign it', () => {
    for (const waitUntil of [EARLIER, null]) {
      const settled = settle([], { waitUntil });
      expect(settled).toMatchObject({ verdict: 'rejected', code: 'unsigned' });
      expect(settled.reason).toContain(`cosign sign --key <trusted-key> ${EXPECTED.repositoryUri}@${EXPECTED.digest}`);
    }
  });

  it('notes that ECR was still signing, and the unusable trust entries, on a rejection', () => {
    const settled = settle([], { signingInProgress: true, configurationProblems: ['public key 2 is not PEM', 'KMS key k is disabled'] });
    expect(settled.reason).toContain(' ECR managed signing was still in progress.');
    expect(settled.reason.endsWith(' (Configuration: public key 2 is not PEM; KMS key k is disabled.)')).toBe(true);
  });
});

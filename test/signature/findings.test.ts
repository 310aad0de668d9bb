import { describe, expect, it } from 'vitest';
import type { SignatureEvidence } from '../../lambdas/contract/signature';
import { decideSignature, referenceNamesRepository, type FailureCode, type SignatureFinding } from '../../lambdas/signature/findings';

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

describe('referenceNamesRepository', () => {
  it.each([
    { reference: EXPECTED.repositoryUri, names: true },
    { reference: 'models/sentiment', names: true },
    { reference: `${EXPECTED.repositoryUri}:1.4.0`, names: true },
    { reference: `${EXPECTED.repositoryUri}@${EXPECTED.digest}`, names: true },
    { reference: `${EXPECTED.repositoryUri}:1.4.0@${EXPECTED.digest}`, names: true },
    { reference: 'models/sentiment:latest', names: true },
    { reference: '123456789012.dkr.ecr.us-east-1.amazonaws.com/models/other', names: false },
    { reference: '999999999999.dkr.ecr.us-east-1.amazonaws.com/models/sentiment', names: false },
    { reference: `${EXPECTED.repositoryUri}-evil`, names: false },
    { reference: 'sentiment', names: false },
    { reference: '', names: false },
  ])('$reference → $names', ({ reference, names }) => {
    expect(referenceNamesRepository(reference, EXPECTED)).toBe(names);
  });

  it('keeps a registry port, which is not a tag', () => {
    const local = { repositoryName: 'models/sentiment', repositoryUri: 'localhost:5000/models/sentiment' };

    expect(referenceNamesRepository('localhost:5000/models/sentiment', local)).toBe(true);
    expect(referenceNamesRepository('localhost:5000/models/sentiment:2.0', local)).toBe(true);
    expect(referenceNamesRepository('localhost:5001/models/sentiment', local)).toBe(false);
    expect(referenceNamesRepository('localhost/models/sentiment', local)).toBe(false);
  });
});

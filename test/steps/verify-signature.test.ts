import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ImageRegistry } from '../../lambdas/adapters/image-registry';
import { KeyStore } from '../../lambdas/adapters/key-store';
import { SigningAuthority } from '../../lambdas/adapters/signing-authority';
import type { SignatureResult } from '../../lambdas/contract/signature';
import type { Release } from '../../lambdas/contract/steps';
import { InvalidInputError } from '../../lambdas/errors';
import { logger } from '../../lambdas/shared/logger';
import { readRootCertificates } from '../../lambdas/signature/root-certificates';
import { createVerifySignatureHandler, type VerifySignatureInput } from '../../lambdas/steps/verify-signature';
import type { SimulatedAccount } from '../../local/simulated-account';
import { newCaseAccount, SIGNATURE_CASES, type SignatureCase, stageCase } from '../fixtures/signature-cases';
import { IMAGE, KEYS } from '../fixtures/signatures';

beforeAll(() => logger.setLogLevel('SILENT'));

/** The handler as the Lambda entry (lambdas/functions/verify-signature.ts) builds it, on the simulated account's clients. */
function handlerOn(account: SimulatedAccount, rootPem: string) {
  return createVerifySignatureHandler({
    registry: new ImageRegistry(account.ecr as never, account.fetchBlob),
    keyStore: new KeyStore(account.kms as never),
    signingAuthority: new SigningAuthority(account.signer as never),
    trustedRoots: readRootCertificates(rootPem, 'the case root'),
    now: account.clock,
  });
}

function releaseOf(account: SimulatedAccount, digest: string): Release {
  const repositoryUri = account.repositoryUri(IMAGE.repositoryName);
  return { repositoryName: IMAGE.repositoryName, repositoryUri, tag: 'v1.4.0', digest, imageUri: `${repositoryUri}@${digest}` };
}

function trustOf(c: SignatureCase) {
  return { ...c.trust, kmsKeys: c.trust.kmsKeys.map((key) => key.keyArn) };
}

/** Runs the case as the state machine does: asks again, a poll interval later, while the answer is `pending`. */
async function runCase(c: SignatureCase): Promise<{ result: SignatureResult; pending: SignatureResult[]; waitingSince: string }> {
  const account = newCaseAccount();
  stageCase(account, c);
  const verifySignature = handlerOn(account, c.rootPem);
  const waitingSince = account.clock().toISOString();
  const input = { release: releaseOf(account, c.digest), signing: trustOf(c), waitingSince };
  const pending: SignatureResult[] = [];
  let result = await verifySignature(input);
  while (result.verdict === 'pending' && pending.length < 50) {
    pending.push(result);
    account.advance(c.trust.pollSeconds);
    result = await verifySignature(input);
  }
  return { result, pending, waitingSince };
}

describe('Verify image signature, on a simulated account', () => {
  it.each(SIGNATURE_CASES.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const { result, pending, waitingSince } = await runCase(c);

    expect(result.code).toBe(c.expected.code);
    expect(result.verdict).toBe(c.expected.code === 'verified' ? 'verified' : 'rejected');
    expect(result.digest).toBe(c.digest);
    expect(result.waitUntil).toBeNull();
    if (c.expected.code === 'verified') {
      expect(
        result.evidence.map(({ format, signer, signatureDigest }) => ({
          format,
          signer: { kind: signer.kind, id: signer.id },
          signatureDigest,
        })),
      ).toEqual(c.expected.evidence);
    } else {
      expect(result.evidence).toEqual([]);
    }
    for (const words of c.expected.reasonMentions ?? []) expect(result.reason).toContain(words);

    if (c.expected.pendingReason === undefined) {
      expect(pending).toEqual([]);
    } else {
      const waitUntil = new Date(Date.parse(waitingSince) + c.trust.lateSignatureSeconds * 1000).toISOString();
      expect(pending).toHaveLength(c.expected.pendingChecks!);
      for (const p of pending) {
        expect(p).toMatchObject({ verdict: 'pending', code: 'pending', waitUntil, evidence: [] });
        expect(p.reason).toContain(c.expected.pendingReason);
        expect(p.reason).toContain(waitUntil);
      }
    }
  });

  it('logs with the release version and digest', async () => {
    const c = SIGNATURE_CASES.find((x) => x.name === 'valid cosign signature')!;
    const account = newCaseAccount();
    stageCase(account, c);
    const appendKeys = vi.spyOn(logger, 'appendKeys');

    await handlerOn(
      account,
      c.rootPem,
    )({ release: releaseOf(account, c.digest), signing: trustOf(c), waitingSince: account.clock().toISOString() });

    expect(appendKeys).toHaveBeenCalledWith({ version: 'v1.4.0', digest: c.digest });
    appendKeys.mockRestore();
  });
});

describe('Verify image signature input', () => {
  const account = newCaseAccount();
  const release = releaseOf(account, IMAGE.digest);
  const trust = {
    publicKeys: [KEYS.cosignTrusted.publicKeyPem],
    kmsKeys: [],
    signingProfiles: [],
    threshold: 1,
    lateSignatureSeconds: 0,
    pollSeconds: 15,
  };
  const waitingSince = '2026-08-01T00:00:00Z';

  it.each<[string, unknown, string]>([
    ['a missing release', { signing: trust, waitingSince }, 'release'],
    ['a digest that is not sha256', { release: { ...release, digest: 'latest' }, signing: trust, waitingSince }, 'release.digest'],
    [
      'an image URI naming another digest',
      { release: { ...release, imageUri: `${release.repositoryUri}@${IMAGE.otherDigest}` }, signing: trust, waitingSince },
      'release.imageUri',
    ],
    [
      'a repository URI of another repository',
      { release: { ...release, repositoryName: 'models/other' }, signing: trust, waitingSince },
      'release.repositoryUri',
    ],
    ['no trusted signer', { release, signing: { ...trust, publicKeys: [] }, waitingSince }, 'signing.threshold'],
    ['an empty trusted key', { release, signing: { ...trust, publicKeys: [''] }, waitingSince }, 'signing.publicKeys.0'],
    ['a threshold of 0', { release, signing: { ...trust, threshold: 0 }, waitingSince }, 'signing.threshold'],
    ['a missing poll interval', { release, signing: { ...trust, pollSeconds: undefined }, waitingSince }, 'signing.pollSeconds'],
    ['a waitingSince that is not a time', { release, signing: trust, waitingSince: 'yesterday' }, 'waitingSince'],
    ['a missing waitingSince', { release, signing: trust }, 'waitingSince'],
  ])('throws InvalidInputError naming the field for %s, before any AWS call', async (_, input, field) => {
    const verifySignature = handlerOn(account, '');

    const error = await verifySignature(input as VerifySignatureInput).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toContain(`${field}:`);
    expect(account.calls).toHaveLength(0);
  });
});

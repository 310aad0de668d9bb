import { describe, expect, it } from 'vitest';
import { sha256Digest, verifySimpleSigningLayer, type SimpleSigningLayerInput } from '../../lambdas/signature/cosign';
import {
  REPOSITORY_URI,
  PUSHED_DIGEST,
  OTHER_DIGEST,
  SIGNATURE_DIGEST,
  untrusted,
  TRUSTED_KEY,
  UNTRUSTED_KEY,
  codeOf,
  reasonOf,
  signedLayer,
  trustedSignatureOf,
  flipLastByte,
  tamper,
  simpleSigning,
} from '../fixtures/cosign-layers';

describe('verifySimpleSigningLayer', () => {
  const cases: { name: string; layer: () => SimpleSigningLayerInput; code: string; reason?: RegExp }[] = [
    { name: 'a signature by the trusted key over the pushed digest', layer: () => signedLayer(), code: 'verified' },
    {
      name: 'the trusted key after an untrusted one',
      layer: () => ({ ...signedLayer(), trustedKeys: [UNTRUSTED_KEY, TRUSTED_KEY] }),
      code: 'verified',
    },
    {
      name: 'a signature by an untrusted key',
      layer: () => signedLayer({ privateKeyPem: untrusted.privateKeyPem }),
      code: 'invalid-signature',
      reason: /does not verify with any of the 1 trusted keys: made by another key, or altered/,
    },
    {
      name: 'a tampered payload whose layer digest was updated to match',
      layer: () => {
        const layer = signedLayer();
        const payload = tamper(layer.payload);
        return { ...layer, payload, layerDigest: sha256Digest(payload) };
      },
      code: 'invalid-signature',
      reason: /does not verify/,
    },
    {
      name: 'one flipped signature byte',
      layer: () => ({ ...signedLayer(), signatureBase64: flipLastByte(signedLayer().signatureBase64) }),
      code: 'invalid-signature',
    },
    {
      name: 'a signature that is base64 but not DER',
      layer: () => ({ ...signedLayer(), signatureBase64: Buffer.alloc(64, 7).toString('base64') }),
      code: 'invalid-signature',
    },
    {
      name: 'no trusted key at all',
      layer: () => ({ ...signedLayer(), trustedKeys: [] }),
      code: 'invalid-signature',
      reason: /any of the 0 trusted keys/,
    },
    {
      name: 'a trusted signature of a payload naming another digest',
      layer: () => signedLayer({ payloadDigest: OTHER_DIGEST }),
      code: 'digest-mismatch',
      reason: new RegExp(`vouches for ${OTHER_DIGEST}, but the pushed image is ${PUSHED_DIGEST}`),
    },
    {
      name: 'a trusted signature naming another repository',
      layer: () => signedLayer({ dockerReference: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/models/other' }),
      code: 'identity-mismatch',
      reason: new RegExp(`"123456789012.dkr.ecr.eu-west-1.amazonaws.com/models/other", but the image was pushed to ${REPOSITORY_URI}`),
    },
    {
      name: 'a trusted signature naming the same repository in another registry',
      layer: () => signedLayer({ dockerReference: '999999999999.dkr.ecr.eu-west-1.amazonaws.com/models/sentiment' }),
      code: 'identity-mismatch',
    },
    { name: 'a docker-reference with a tag', layer: () => signedLayer({ dockerReference: `${REPOSITORY_URI}:1.4.0` }), code: 'verified' },
    {
      name: 'a bare repository name as docker-reference',
      layer: () => signedLayer({ dockerReference: 'models/sentiment' }),
      code: 'verified',
    },
    {
      name: 'the digest checked before the identity',
      layer: () => signedLayer({ payloadDigest: OTHER_DIGEST, dockerReference: 'models/other' }),
      code: 'digest-mismatch',
    },
    {
      name: 'a tampered payload under its original layer digest',
      layer: () => ({ ...signedLayer(), payload: tamper(signedLayer().payload) }),
      code: 'invalid-signature',
      reason: /hashes to/,
    },
    {
      name: 'a layer digest that does not match the blob',
      layer: () => ({ ...signedLayer(), layerDigest: OTHER_DIGEST }),
      code: 'invalid-signature',
      reason: /not to the layer digest/,
    },
    {
      name: 'a layer digest that is not sha256',
      layer: () => ({ ...signedLayer(), layerDigest: 'md5:abc' }),
      code: 'invalid-signature',
      reason: /"md5:abc" is not sha256/,
    },
    {
      name: 'a signature annotation that is not base64',
      layer: () => ({ ...signedLayer(), signatureBase64: 'MEUC!not*base64' }),
      code: 'invalid-signature',
      reason: /not valid base64/,
    },
    {
      name: 'an empty signature annotation',
      layer: () => ({ ...signedLayer(), signatureBase64: '' }),
      code: 'invalid-signature',
      reason: /not valid base64/,
    },
    {
      name: 'a trusted signature of a payload that is not JSON',
      layer: () => trustedSignatureOf('hello'),
      code: 'invalid-signature',
      reason: /not JSON/,
    },
    {
      name: 'a trusted signature of JSON that is not simple signing',
      layer: () => trustedSignatureOf('{"critical":{}}'),
      code: 'invalid-signature',
      reason: /not simple-signing JSON/,
    },
    {
      name: 'a trusted signature of a payload of another type',
      layer: () => trustedSignatureOf(simpleSigning(REPOSITORY_URI, PUSHED_DIGEST, 'atomic container signature')),
      code: 'invalid-signature',
      reason: /type "atomic container signature"/,
    },
    {
      name: 'a trusted signature of a hand-written payload',
      layer: () => trustedSignatureOf(simpleSigning(REPOSITORY_URI, PUSHED_DIGEST)),
      code: 'verified',
    },
  ];

  it.each(cases)('$name → $code', ({ layer, code, reason }) => {
    const finding = verifySimpleSigningLayer(layer());

    expect(codeOf(finding)).toBe(code);
    if (reason !== undefined) expect(reasonOf(finding)).toMatch(reason);
    if (!finding.valid) expect(finding).toMatchObject({ format: 'cosign-simple-signing', signatureDigest: SIGNATURE_DIGEST });
  });

  it('names the verifying key, not the first configured one, as the signer', () => {
    const finding = verifySimpleSigningLayer({ ...signedLayer(), trustedKeys: [UNTRUSTED_KEY, TRUSTED_KEY] });

    expect(finding).toEqual({
      valid: true,
      evidence: {
        format: 'cosign-simple-signing',
        signer: { kind: 'public-key', id: TRUSTED_KEY.id },
        signatureDigest: SIGNATURE_DIGEST,
        signedAt: null,
      },
    });
  });
});

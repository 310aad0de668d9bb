/**
 * Certificate-chain checks for Notation signatures (x5c / x5chain, leaf first), and the certificate hashes AWS Signer's
 * revocation check wants. Pure: no AWS SDK, no clock of its own; every problem is returned as a sentence, never thrown.
 */
import { createHash, X509Certificate } from 'node:crypto';

/** More certificates than this in one envelope is not a chain any signer makes. */
export const MAX_CHAIN_LENGTH = 10;

/** The certificates of a chain, leaf first, or why they cannot be read. */
export function parseCertificateChain(ders: readonly Uint8Array[]): X509Certificate[] | string {
  if (ders.length === 0) return 'the certificate chain is empty';
  if (ders.length > MAX_CHAIN_LENGTH) return `the certificate chain has ${ders.length} certificates, more than ${MAX_CHAIN_LENGTH}`;
  const chain: X509Certificate[] = [];
  for (const [index, der] of ders.entries()) {
    try {
      chain.push(new X509Certificate(Buffer.from(der)));
    } catch {
      return `certificate ${index + 1} of the chain is not a DER X.509 certificate`;
    }
  }
  return chain;
}

/** `CN=…, O=…` on one line, for reasons. */
export function describeCertificate(cert: X509Certificate): string {
  return cert.subject.split('\n').join(', ');
}

/**
 * Why the chain does not hold together, or null when it does: each certificate is issued and signed by the next one,
 * and every certificate after the leaf is a CA. Says nothing about whether the chain is trusted (see `trustedRootOf`).
 */
export function chainStructureProblem(chain: readonly X509Certificate[]): string | null {
  const [leaf] = chain;
  if (leaf?.ca) return `the signing certificate ${describeCertificate(leaf)} is a CA certificate`;
  for (let i = 0; i + 1 < chain.length; i++) {
    const cert = chain[i]!;
    const issuer = chain[i + 1]!;
    if (!issuer.ca) return `certificate ${describeCertificate(issuer)} issues ${describeCertificate(cert)} but is not a CA`;
    if (!cert.checkIssued(issuer) || !verifiesWith(cert, issuer)) {
      return `certificate ${describeCertificate(cert)} is not issued and signed by the next certificate in the chain, ${describeCertificate(issuer)}`;
    }
  }
  return null;
}

/**
 * The pinned root the chain leads to, or null: the chain's last certificate is one of the roots (same DER) or is issued
 * and signed by one of them. Check `chainStructureProblem` first.
 */
export function trustedRootOf(chain: readonly X509Certificate[], trustedRoots: readonly X509Certificate[]): X509Certificate | null {
  const last = chain[chain.length - 1];
  if (last === undefined) return null;
  for (const root of trustedRoots) {
    if (last.fingerprint256 === root.fingerprint256 && last.raw.equals(root.raw)) return root;
  }
  for (const root of trustedRoots) {
    if (root.ca && last.checkIssued(root) && verifiesWith(last, root)) return root;
  }
  return null;
}

/** The first certificate (chain order) not valid at `at`, as a sentence, or null when all are. */
export function validityProblem(chain: readonly X509Certificate[], at: Date): string | null {
  for (const cert of chain) {
    const from = new Date(cert.validFrom);
    const to = new Date(cert.validTo);
    if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) {
      return `certificate ${describeCertificate(cert)} has an unreadable validity period (${cert.validFrom} – ${cert.validTo})`;
    }
    if (at.getTime() > to.getTime()) {
      return `certificate ${describeCertificate(cert)} expired at ${to.toISOString()}, before the signing time ${at.toISOString()}`;
    }
    if (at.getTime() < from.getTime()) {
      return `certificate ${describeCertificate(cert)} is valid only from ${from.toISOString()}, after the signing time ${at.toISOString()}`;
    }
  }
  return null;
}

/**
 * What `signer:GetRevocationStatus` takes as `certificateHashes`, computed as the AWS Signer Notation plugin does: for each
 * certificate (leaf first) the hex SHA-384 of its TBSCertificate followed by that of its issuer; the last certificate
 * (the root) is followed by itself. Null when a certificate's DER cannot be cut apart.
 */
export function revocationCertificateHashes(chain: readonly X509Certificate[]): string[] | null {
  const hashes: string[] = [];
  for (const cert of chain) {
    const tbs = tbsCertificate(cert.raw);
    if (tbs === null) return null;
    hashes.push(createHash('sha384').update(tbs).digest('hex'));
  }
  return hashes.map((hash, i) => hash + (hashes[i + 1] ?? hash));
}

/**
 * The TBSCertificate of a DER certificate, tag and length included: the first element of the outer SEQUENCE
 * (`Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }`). Null when the DER is not shaped so.
 */
export function tbsCertificate(der: Uint8Array): Uint8Array | null {
  const outer = readDerElement(der, 0);
  if (outer === null || outer.tag !== 0x30 || outer.end !== der.length) return null;
  const tbs = readDerElement(der, outer.contentStart);
  if (tbs === null || tbs.tag !== 0x30 || tbs.end > outer.end) return null;
  return der.subarray(outer.contentStart, tbs.end);
}

/** One DER element's tag, where its content starts and where it ends. Definite lengths of up to 4 bytes only. */
function readDerElement(der: Uint8Array, offset: number): { tag: number; contentStart: number; end: number } | null {
  if (offset + 2 > der.length) return null;
  const tag = der[offset]!;
  const first = der[offset + 1]!;
  let length = first;
  let contentStart = offset + 2;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 4 || contentStart + count > der.length) return null;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + der[contentStart + i]!;
    contentStart += count;
  }
  const end = contentStart + length;
  return end > der.length ? null : { tag, contentStart, end };
}

function verifiesWith(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

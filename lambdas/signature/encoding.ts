/**
 * Decoding what signatures are made of, strictly: a verifier must never accept bytes a lenient decoder made up.
 * Every function returns a value or a reason; none throws.
 */

/** JSON.parse as a result instead of an exception. */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

/**
 * Base64 that must be exactly that: Node's decoder silently skips characters it does not know.
 * `standard`: the padded standard alphabet (cosign's annotation). `any`: standard or URL-safe, padded or not
 * (protobuf JSON, as in Sigstore bundles).
 */
export function decodeBase64Strict(text: string, alphabet: 'standard' | 'any' = 'standard'): Uint8Array | null {
  if (alphabet === 'standard') {
    if (text.length === 0 || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return null;
    return Buffer.from(text, 'base64');
  }
  if (text.length === 0 || text.length % 4 === 1 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) return null;
  return Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

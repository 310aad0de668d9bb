/**
 * Decoding what signatures are made of, strictly: a verifier must never accept bytes a lenient decoder made up.
 * Every function returns a value or a reason; none throws.
 */
import type * as z from 'zod';

/** JSON.parse as a result instead of an exception. */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

/** UTF-8 bytes (invalid sequences refused, not replaced) parsed as JSON. */
export function parseJsonUtf8(bytes: Uint8Array): { ok: true; value: unknown } | { ok: false; reason: string } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, reason: 'not UTF-8' };
  }
  return parseJson(text);
}

/** A schema mismatch in one line: `path: problem; …`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
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

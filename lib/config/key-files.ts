/** Key and certificate files the configuration names: existence, and their contents as PEM. */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { unsupportedKeyReason } from '../../lambdas/signature/keys';
import { certificateFileToPem, readRootCertificates } from '../../lambdas/signature/root-certificates';
import { ConfigError } from './config-error';
import type { RolloutConfig } from './types';

export function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Reads one key file and returns its public key as SPKI PEM; `where` names the field, service and file in errors. */
export function readPublicKey(file: string, where: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw ConfigError.invalid([`${where}: cannot read ${file}: ${(error as Error).message}`]);
  }
  // createPublicKey() also accepts a private key (and derives its public half): check the PEM label first so that a
  // private key named by mistake is refused instead of being copied into the Lambda environment.
  const labels = [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----/g)].map((m) => m[1]);
  if (labels.length !== 1 || labels[0] !== 'PUBLIC KEY') {
    const found = labels.length === 0 ? 'no PEM block' : labels.map((l) => `"${l}"`).join(', ');
    throw ConfigError.invalid([`${where}: expected exactly one "PUBLIC KEY" PEM block (as printed by cosign public-key), found ${found}`]);
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: text, format: 'pem' });
  } catch (error) {
    throw ConfigError.invalid([`${where}: not a readable public key: ${(error as Error).message}`]);
  }
  const unsupported = unsupportedKeyReason(key);
  if (unsupported !== null) {
    throw ConfigError.invalid([`${where}: ${unsupported}; signatures need an EC P-256 / P-384 or RSA (2048 bits or more) public key`]);
  }
  // Re-exported so that the catalog holds exactly the key, whatever comments or spacing the file had.
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

/**
 * The pinned AWS Signer root certificate as PEM (the verify step's SIGNER_ROOT_CERTIFICATES), or '' when none is
 * configured.
 * @throws ConfigError when the file is unreadable or is not a CA certificate
 */
export function readSignerRootCertificate(config: RolloutConfig, baseDir: string): string {
  if (config.signerRootCertificate === undefined) return '';
  const file = path.resolve(baseDir, config.signerRootCertificate);
  const where = `signerRootCertificate (file ${config.signerRootCertificate})`;
  try {
    const pem = certificateFileToPem(readFileSync(file), file);
    readRootCertificates(pem, file);
    return pem;
  } catch (error) {
    throw ConfigError.invalid([`${where}: ${(error as Error).message}`]);
  }
}

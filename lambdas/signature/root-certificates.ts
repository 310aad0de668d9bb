/** Reading pinned root certificates (the AWS Signer Notation root) from PEM text: the Lambda's environment or a file. */
import { X509Certificate } from 'node:crypto';
import { FunctionMisconfiguredError } from '../errors';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Every certificate in `pem` (empty text: none, so no Notation signature can verify). A certificate that does not
 * parse, or is not a CA, is a configuration error: thrown, naming `source`.
 */
export function readRootCertificates(pem: string, source: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0 && pem.trim() !== '')
    throw new FunctionMisconfiguredError(`${source} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return blocks.map((block, index) => {
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(block);
    } catch (error) {
      throw new FunctionMisconfiguredError(`${source}: certificate ${index + 1} does not parse: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (!certificate.ca)
      throw new FunctionMisconfiguredError(
        `${source}: certificate ${index + 1} (${certificate.subject.replace(/\n/g, ', ')}) is not a CA certificate`,
      );
    return certificate;
  });
}

/** A certificate file may be PEM or DER (AWS publishes the Signer root as DER `.cert`); returns PEM text. */
export function certificateFileToPem(bytes: Uint8Array, source: string): string {
  const text = Buffer.from(bytes).toString('utf8');
  if (text.includes('-----BEGIN CERTIFICATE-----')) return text;
  try {
    return new X509Certificate(Buffer.from(bytes)).toString();
  } catch (error) {
    throw new FunctionMisconfiguredError(`${source} is neither a PEM nor a DER certificate: ${(error as Error).message}`, { cause: error });
  }
}

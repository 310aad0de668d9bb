/**
 * ECR's manifests and layer blobs, read one at a time: BatchGetImage answers turned into a manifest or "no such image",
 * and layers downloaded from the pre-signed URL GetDownloadUrlForLayer returns, never more than the caller allows.
 */
import {
  BatchGetImageCommand,
  GetDownloadUrlForLayerCommand,
  type ECRClient,
  type Image,
  type ImageFailure,
  type ImageIdentifier,
} from '@aws-sdk/client-ecr';
import { TransientAwsError, UnexpectedAwsAnswerError, callAws } from '../errors';

/** Downloads a blob from a pre-signed layer URL, refusing more than `limit` bytes. */
export type FetchBlob = (url: string, limit: number) => Promise<Uint8Array>;

/** A download that returned more bytes than the caller allowed: the blob is not what its manifest declares. */
export class BlobTooLargeError extends Error {
  readonly name = 'BlobTooLargeError';
}

/** Failure codes meaning "there is no such tag", i.e. the image is unsigned (ECR answers ImageNotFound for a missing tag). */
const TAG_MISSING_CODES = new Set(['ImageTagDoesNotExist', 'ImageNotFound']);
/** Failure codes of an upstream or KMS hiccup, worth a retry. */
const TRANSIENT_FAILURE_CODES = new Set(['KmsError', 'UpstreamTooManyRequests', 'UpstreamUnavailable']);

export class EcrContent {
  constructor(
    private readonly ecr: Pick<ECRClient, 'send'>,
    private readonly fetchBlob: FetchBlob = fetchViaHttps,
  ) {}

  /** BatchGetImage of one image, as ECR answers it (read it with manifestOrNull). */
  async getImage(repositoryName: string, imageId: ImageIdentifier, acceptedMediaTypes: readonly string[], reference: string) {
    const command = new BatchGetImageCommand({ repositoryName, imageIds: [imageId], acceptedMediaTypes: [...acceptedMediaTypes] });
    return callAws(`BatchGetImage ${reference}`, () => this.ecr.send(command));
  }

  /** The manifest of `repositoryName@digest` in one of the accepted media types; null when there is no such image. */
  async manifest(repositoryName: string, digest: string, acceptedMediaTypes: readonly string[]): Promise<string | null> {
    const reference = `${repositoryName}@${digest}`;
    const response = await this.getImage(repositoryName, { imageDigest: digest }, acceptedMediaTypes, reference);
    return manifestOrNull(response.images, response.failures, reference);
  }

  /** The layer's bytes, at most `limit` of them; a failed download is transient (the next attempt gets a fresh URL). */
  async downloadLayer(repositoryName: string, layerDigest: string, limit: number): Promise<Uint8Array> {
    const during = `GetDownloadUrlForLayer ${repositoryName}@${layerDigest}`;
    const command = new GetDownloadUrlForLayerCommand({ repositoryName, layerDigest });
    const { downloadUrl } = await callAws(during, () => this.ecr.send(command));
    if (!downloadUrl) throw new UnexpectedAwsAnswerError(`${during} returned no download URL`);
    try {
      return await this.fetchBlob(downloadUrl, limit);
    } catch (error) {
      if (error instanceof TransientAwsError || error instanceof BlobTooLargeError) throw error;
      // Each attempt asks ECR for a fresh URL, so retrying the step is the right answer to an expired or failed download.
      throw new TransientAwsError(`Downloading layer ${layerDigest} of ${repositoryName} failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}

/** The manifest of the one image asked for; null when ECR says there is no such image or tag. */
export function manifestOrNull(images: Image[] | undefined, failures: ImageFailure[] | undefined, reference: string): string | null {
  const image = images?.[0];
  if (image) return image.imageManifest ?? '';
  const failure = failures?.[0];
  if (!failure || TAG_MISSING_CODES.has(failure.failureCode ?? '')) return null;
  const message = `BatchGetImage ${reference} failed: ${failure.failureCode}: ${failure.failureReason ?? 'no reason given'}`;
  if (TRANSIENT_FAILURE_CODES.has(failure.failureCode ?? '')) throw new TransientAwsError(message);
  throw new UnexpectedAwsAnswerError(message);
}

/** Hosts a local ECR emulator serves blobs from over plain http; nothing else may. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', '[::1]', 'localhost']);

function checkDownloadUrl(url: string): void {
  const { protocol, hostname } = new URL(url);
  if (protocol === 'https:') return;
  if (protocol === 'http:' && LOOPBACK_HOSTS.has(hostname)) return;
  throw new UnexpectedAwsAnswerError(
    `Refusing to download a layer over ${protocol}//${hostname} (expected https:, or http: on a loopback host)`,
  );
}

/**
 * The production FetchBlob: a GET of the pre-signed URL ECR returned, over https (plain http only to a loopback host,
 * where a local ECR emulator listens), throwing on a non-2xx status and refusing more than `limit` bytes.
 */
export async function fetchViaHttps(url: string, limit: number): Promise<Uint8Array> {
  checkDownloadUrl(url);
  const response = await fetch(url);
  // A redirect must not lead somewhere the URL itself could not have pointed to.
  if (response.url) checkDownloadUrl(response.url);
  if (!response.ok) throw new UnexpectedAwsAnswerError(`GET layer URL answered HTTP ${response.status}`);
  return readAtMost(response, limit);
}

/** Reads a response body, giving up as soon as it grows past `limit` (a hostile layer must not exhaust memory). */
async function readAtMost(response: Response, limit: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > limit) throw new BlobTooLargeError(`layer is larger than ${limit} bytes (Content-Length ${declared})`);
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of response.body ?? []) {
    length += chunk.length;
    if (length > limit) throw new BlobTooLargeError(`layer is larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

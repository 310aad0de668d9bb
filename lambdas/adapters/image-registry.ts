/**
 * ECR, as the signature check sees it: reads the cosign signature stored next to an image.
 * Uses only BatchGetImage and GetDownloadUrlForLayer (read-only, and what the local simulator implements).
 */
import { BatchGetImageCommand, ECRClient, GetDownloadUrlForLayerCommand, type Image, type ImageFailure } from '@aws-sdk/client-ecr';
import { classifyAwsError, TransientAwsError } from '../errors';
import {
  isUsableLayer,
  MAX_SIMPLE_SIGNING_PAYLOAD_BYTES,
  parseSignatureManifest,
  SIGNATURE_MANIFEST_MEDIA_TYPES,
  signatureTagFor,
} from '../signature/cosign';

/** Downloads a blob from a pre-signed layer URL. */
export type FetchBlob = (url: string) => Promise<Uint8Array>;

export interface CosignSignatureBlobs {
  /** The signature manifest, as ECR returned it. */
  manifest: string;
  /** One entry per manifest layer worth verifying, in manifest order. */
  layers: { digest: string; payload: Uint8Array; signatureBase64: string }[];
}

/** Failure codes meaning "there is no such tag", i.e. the image is unsigned (ECR answers ImageNotFound for a missing tag). */
const TAG_MISSING_CODES = new Set(['ImageTagDoesNotExist', 'ImageNotFound']);
/** Failure codes of an upstream or KMS hiccup, worth a retry. */
const TRANSIENT_FAILURE_CODES = new Set(['KmsError', 'UpstreamTooManyRequests', 'UpstreamUnavailable']);

export class ImageRegistry {
  constructor(
    private readonly ecr: Pick<ECRClient, 'send'>,
    private readonly fetchBlob: FetchBlob = fetchViaHttps,
  ) {}

  /**
   * The cosign signature stored for `digest` in `repositoryName`, or null when the image has none.
   * The manifest is returned even when unusable, so the verifier can say why it rejects it.
   */
  async readCosignSignature(repositoryName: string, digest: string): Promise<CosignSignatureBlobs | null> {
    const manifest = await this.readSignatureManifest(repositoryName, signatureTagFor(digest));
    if (manifest === null) return null;
    const parsed = parseSignatureManifest(manifest);
    if (!parsed.ok) return { manifest, layers: [] };

    const download = this.downloadOncePerDigest(repositoryName);
    const layers = await Promise.all(
      parsed.layers.filter(isUsableLayer).map(async (layer) => ({
        digest: layer.digest,
        payload: await download(layer.digest),
        signatureBase64: layer.signatureBase64,
      })),
    );
    return { manifest, layers };
  }

  private async readSignatureManifest(repositoryName: string, signatureTag: string): Promise<string | null> {
    const command = new BatchGetImageCommand({
      repositoryName,
      imageIds: [{ imageTag: signatureTag }],
      acceptedMediaTypes: [...SIGNATURE_MANIFEST_MEDIA_TYPES],
    });
    const response = await classified(() => this.ecr.send(command), `BatchGetImage ${repositoryName}:${signatureTag}`);
    return manifestOrNull(response.images, response.failures, `${repositoryName}:${signatureTag}`);
  }

  /** Several keys signing the same image share one payload: download it once. */
  private downloadOncePerDigest(repositoryName: string): (layerDigest: string) => Promise<Uint8Array> {
    const downloads = new Map<string, Promise<Uint8Array>>();
    return (layerDigest) => {
      const download = downloads.get(layerDigest) ?? this.downloadLayer(repositoryName, layerDigest);
      downloads.set(layerDigest, download);
      return download;
    };
  }

  private async downloadLayer(repositoryName: string, layerDigest: string): Promise<Uint8Array> {
    const during = `GetDownloadUrlForLayer ${repositoryName}@${layerDigest}`;
    const command = new GetDownloadUrlForLayerCommand({ repositoryName, layerDigest });
    const { downloadUrl } = await classified(() => this.ecr.send(command), during);
    if (!downloadUrl) throw new Error(`${during} returned no download URL`);
    try {
      return await this.fetchBlob(downloadUrl);
    } catch (error) {
      // Each attempt asks ECR for a fresh URL, so retrying the step is the right answer to an expired or failed download.
      if (error instanceof TransientAwsError) throw error;
      throw new TransientAwsError(`Downloading layer ${layerDigest} of ${repositoryName} failed: ${(error as Error).message}`, { cause: error });
    }
  }
}

/** Runs an SDK call, turning throttling and server faults into TransientAwsError. */
async function classified<T>(call: () => Promise<T>, during: string): Promise<T> {
  try {
    return await call();
  } catch (error) {
    return classifyAwsError(error, during);
  }
}

function manifestOrNull(images: Image[] | undefined, failures: ImageFailure[] | undefined, reference: string): string | null {
  const image = images?.[0];
  if (image) return image.imageManifest ?? '';
  const failure = failures?.[0];
  if (!failure || TAG_MISSING_CODES.has(failure.failureCode ?? '')) return null;
  const message = `BatchGetImage ${reference} failed: ${failure.failureCode}: ${failure.failureReason ?? 'no reason given'}`;
  if (TRANSIENT_FAILURE_CODES.has(failure.failureCode ?? '')) throw new TransientAwsError(message);
  throw new Error(message);
}

/**
 * The production FetchBlob: an HTTPS GET of the pre-signed URL ECR returned, throwing on a non-2xx status and
 * refusing more bytes than a simple-signing payload may have.
 */
export async function fetchViaHttps(url: string): Promise<Uint8Array> {
  if (new URL(url).protocol !== 'https:') throw new Error(`Refusing to download a layer over ${new URL(url).protocol} (expected https:)`);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET layer URL answered HTTP ${response.status}`);
  return readAtMost(response, MAX_SIMPLE_SIGNING_PAYLOAD_BYTES);
}

/** Reads a response body, giving up as soon as it grows past `limit` (a hostile layer must not exhaust memory). */
async function readAtMost(response: Response, limit: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of response.body ?? []) {
    length += chunk.length;
    if (length > limit) throw new Error(`layer is larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

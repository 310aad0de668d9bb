/**
 * ECR, as the signature check sees it: every signature stored for one image digest, as raw bytes.
 *
 * - the cosign legacy layout: the `sha256-<hex>.sig` tag and its simple-signing payloads;
 * - OCI 1.1 referrers of the image that hold signatures (Sigstore bundles, Notation signatures), each downloaded and
 *   checked against the digest and size its manifest declares;
 * - whether ECR managed signing is still signing the image.
 *
 * Read-only: BatchGetImage, GetDownloadUrlForLayer, ListImageReferrers and DescribeImageSigningStatus (what the local
 * simulator implements). A referrer that cannot be used is reported as an UnreadableReferrer, never thrown: a hostile
 * or broken signature must only ever lead to "do not deploy", and must not hide the other signatures.
 */
import {
  BatchGetImageCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  DescribeImageSigningStatusCommand,
  type ECRClient,
  GetDownloadUrlForLayerCommand,
  ListImageReferrersCommand,
  type Image,
  type ImageFailure,
  type ImageReferrer,
} from '@aws-sdk/client-ecr';
import * as z from 'zod';
import { SHA256_DIGEST } from '../contract/catalog';
import { TransientAwsError, UnexpectedAwsAnswerError, callAws, classifyAwsError } from '../errors';
import {
  MAX_ENVELOPE_BYTES,
  NOTATION_COSE_MEDIA_TYPE,
  NOTATION_JWS_MEDIA_TYPE,
  NOTATION_SIGNATURE_ARTIFACT_TYPE,
  SIGNATURE_ARTIFACT_TYPES,
  SIGSTORE_BUNDLE_MEDIA_TYPE,
  SIGSTORE_BUNDLE_MEDIA_TYPE_PARAMETERISED,
  type CosignSignatureBlobs,
  type ReferrerSignature,
  type SignatureArtifacts,
  type UnreadableReferrer,
} from '../signature/artifacts';
import {
  isUsableLayer,
  MAX_SIMPLE_SIGNING_PAYLOAD_BYTES,
  OCI_MANIFEST_MEDIA_TYPE,
  parseSignatureManifest,
  SIGNATURE_MANIFEST_MEDIA_TYPES,
  sha256Digest,
  signatureTagFor,
} from '../signature/cosign';
import { describeIssues, parseJson, parseJsonUtf8 } from '../signature/encoding';

export type { CosignSignatureBlobs } from '../signature/artifacts';

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
/** GetDownloadUrlForLayer errors that mean this referrer's layer is not there: the referrer is unreadable. */
const LAYER_MISSING_ERRORS = new Set(['LayersNotFoundException', 'LayerInaccessibleException']);
/**
 * DescribeImageSigningStatus answers meaning "nothing is signing this image". ECR documents an empty signingStatuses
 * list for an image no signing rule matched; ImageNotFound (nothing to sign) and SigningConfigurationNotFound (the
 * registry has no signing configuration) are read the same way. Anything else (AccessDenied, Validation) is thrown.
 */
const NOT_SIGNING_ERRORS = new Set(['ImageNotFoundException', 'SigningConfigurationNotFoundException']);
/** Which layer media types each signature artifact type may hold. */
const ENVELOPE_MEDIA_TYPES: Record<string, readonly string[]> = {
  [NOTATION_SIGNATURE_ARTIFACT_TYPE]: [NOTATION_JWS_MEDIA_TYPE, NOTATION_COSE_MEDIA_TYPE],
  [SIGSTORE_BUNDLE_MEDIA_TYPE]: [SIGSTORE_BUNDLE_MEDIA_TYPE, SIGSTORE_BUNDLE_MEDIA_TYPE_PARAMETERISED],
  [SIGSTORE_BUNDLE_MEDIA_TYPE_PARAMETERISED]: [SIGSTORE_BUNDLE_MEDIA_TYPE, SIGSTORE_BUNDLE_MEDIA_TYPE_PARAMETERISED],
};
/** Image manifests and indexes, OCI and Docker: what a model-serving image is pushed as. */
const IMAGE_MANIFEST_MEDIA_TYPES = [OCI_MANIFEST_MEDIA_TYPE, 'application/vnd.docker.distribution.manifest.v2+json'] as const;
const IMAGE_INDEX_MEDIA_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
] as const;
/** An image config is a few KB; labels are read from it, never from anything larger. */
const MAX_IMAGE_CONFIG_BYTES = 1024 * 1024;
interface ImageManifest {
  config?: { digest?: string; size?: number };
  manifests?: { digest?: string }[];
}
function asImageManifest(text: string | null): ImageManifest | null {
  const parsed = text === null ? null : parseJson(text);
  return parsed?.ok && typeof parsed.value === 'object' && parsed.value !== null ? (parsed.value as ImageManifest) : null;
}
/** A registry that keeps answering with a next page is broken; stop rather than loop for the Lambda's lifetime. */
const MAX_REFERRER_PAGES = 20;

const descriptorSchema = z.object({
  mediaType: z.string(),
  digest: z.string(),
  size: z.number().int().nonnegative(),
});
/** An OCI 1.1 image manifest used as an artifact (what Notation and cosign v3 push). */
const referrerManifestSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.literal(OCI_MANIFEST_MEDIA_TYPE).optional(),
  artifactType: z.string().optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema),
  subject: z.object({ digest: z.string() }).optional(),
});
type Descriptor = z.infer<typeof descriptorSchema>;

export class ImageRegistry {
  constructor(
    private readonly ecr: Pick<ECRClient, 'send'>,
    private readonly fetchBlob: FetchBlob = fetchViaHttps,
  ) {}

  /**
   * Everything stored for `digest` in `repositoryName` that may be a signature. `signingStatus`: also ask whether ECR
   * managed signing is still signing it (only worth a call when signing profiles are trusted).
   */
  async readSignatureArtifacts(repositoryName: string, digest: string, options: { signingStatus: boolean }): Promise<SignatureArtifacts> {
    const [cosign, referrers, signingInProgress] = await Promise.all([
      this.readCosignSignature(repositoryName, digest),
      this.readReferrers(repositoryName, digest),
      options.signingStatus ? this.isSigningInProgress(repositoryName, digest) : Promise.resolve(false),
    ]);
    return {
      cosign,
      referrers: referrers.flatMap((r) => ('envelope' in r ? [r] : [])),
      unreadable: referrers.flatMap((r) => ('problem' in r ? [r] : [])),
      signingInProgress,
    };
  }

  /**
   * The repository's URI (`<registry>/<name>`) as ECR spells it: what signatures name as their identity. The pipeline
   * derives it from the push event; `model-rollout verify` asks here.
   */
  async repositoryUri(repositoryName: string): Promise<string> {
    const command = new DescribeRepositoriesCommand({ repositoryNames: [repositoryName] });
    const { repositories } = await callAws(`DescribeRepositories ${repositoryName}`, () => this.ecr.send(command));
    const uri = repositories?.[0]?.repositoryUri;
    if (!uri) throw new UnexpectedAwsAnswerError(`DescribeRepositories ${repositoryName} returned no repository URI`);
    return uri;
  }

  // ---- what the image says about itself, and what the repository holds

  /**
   * The labels of the image's config (`org.opencontainers.image.version`, `model_id`, `accuracy`, …): the model
   * metadata the ledger keeps. Only string values; a multi-platform index is read through its first image manifest.
   * Empty when the image has no config labels.
   */
  async readImageLabels(repositoryName: string, digest: string): Promise<Record<string, string>> {
    const reference = `${repositoryName}@${digest}`;
    const image = await this.manifest(repositoryName, digest, [...IMAGE_MANIFEST_MEDIA_TYPES, ...IMAGE_INDEX_MEDIA_TYPES]);
    if (image === null) throw new UnexpectedAwsAnswerError(`BatchGetImage ${reference} returned no manifest`);
    let manifest = asImageManifest(image);
    const firstImage = manifest?.manifests?.[0]?.digest;
    if (firstImage) manifest = asImageManifest(await this.manifest(repositoryName, firstImage, IMAGE_MANIFEST_MEDIA_TYPES));
    const config = manifest?.config;
    if (!config || !SHA256_DIGEST.test(config.digest ?? '') || typeof config.size !== 'number') {
      throw new UnexpectedAwsAnswerError(`The manifest of ${reference} names no image config to read labels from`);
    }
    const bytes = await this.downloadLayer(repositoryName, config.digest!, Math.min(config.size, MAX_IMAGE_CONFIG_BYTES));
    const parsed = parseJsonUtf8(bytes);
    const labels = parsed.ok ? (parsed.value as { config?: { Labels?: unknown } })?.config?.Labels : undefined;
    if (!labels || typeof labels !== 'object') return {};
    return Object.fromEntries(Object.entries(labels).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  }

  /** Every tag in the repository with the digest it points to (what the reconciliation compares with the ledger). */
  async listTaggedImages(repositoryName: string): Promise<{ tag: string; digest: string }[]> {
    const images: { tag: string; digest: string }[] = [];
    let nextToken: string | undefined;
    do {
      const command = new DescribeImagesCommand({ repositoryName, filter: { tagStatus: 'TAGGED' }, nextToken, maxResults: 1000 });
      const page = await callAws(`DescribeImages ${repositoryName}`, () => this.ecr.send(command));
      for (const detail of page.imageDetails ?? []) {
        for (const tag of detail.imageTags ?? []) if (detail.imageDigest) images.push({ tag, digest: detail.imageDigest });
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return images;
  }

  private async manifest(repositoryName: string, digest: string, acceptedMediaTypes: readonly string[]): Promise<string | null> {
    const reference = `${repositoryName}@${digest}`;
    const command = new BatchGetImageCommand({
      repositoryName,
      imageIds: [{ imageDigest: digest }],
      acceptedMediaTypes: [...acceptedMediaTypes],
    });
    const response = await callAws(`BatchGetImage ${reference}`, () => this.ecr.send(command));
    return manifestOrNull(response.images, response.failures, reference);
  }

  // ---- cosign legacy layout

  /**
   * The cosign signature stored under the `sha256-<hex>.sig` tag, or null when there is none. The manifest is returned
   * even when unusable, so the verifier can say why it rejects it.
   */
  private async readCosignSignature(repositoryName: string, digest: string): Promise<CosignSignatureBlobs | null> {
    const signatureTag = signatureTagFor(digest);
    const command = new BatchGetImageCommand({
      repositoryName,
      imageIds: [{ imageTag: signatureTag }],
      acceptedMediaTypes: [...SIGNATURE_MANIFEST_MEDIA_TYPES],
    });
    const response = await callAws(`BatchGetImage ${repositoryName}:${signatureTag}`, () => this.ecr.send(command));
    const manifest = manifestOrNull(response.images, response.failures, `${repositoryName}:${signatureTag}`);
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

  /** Several keys signing the same image share one payload: download it once. */
  private downloadOncePerDigest(repositoryName: string): (layerDigest: string) => Promise<Uint8Array> {
    const downloads = new Map<string, Promise<Uint8Array>>();
    return (layerDigest) => {
      const download = downloads.get(layerDigest) ?? this.downloadLayer(repositoryName, layerDigest, MAX_SIMPLE_SIGNING_PAYLOAD_BYTES);
      downloads.set(layerDigest, download);
      return download;
    };
  }

  // ---- OCI 1.1 referrers

  private async readReferrers(repositoryName: string, digest: string): Promise<(ReferrerSignature | UnreadableReferrer)[]> {
    const listed = await this.listSignatureReferrers(repositoryName, digest);
    return Promise.all(listed.map((referrer) => this.readReferrer(repositoryName, digest, referrer)));
  }

  /** The image's ACTIVE referrers whose artifact type holds a signature, following every page. */
  private async listSignatureReferrers(repositoryName: string, digest: string): Promise<ImageReferrer[]> {
    const referrers: ImageReferrer[] = [];
    let nextToken: string | undefined;
    for (let page = 0; page < MAX_REFERRER_PAGES; page++) {
      const command = new ListImageReferrersCommand({
        repositoryName,
        subjectId: { imageDigest: digest },
        filter: { artifactTypes: [...SIGNATURE_ARTIFACT_TYPES], artifactStatus: 'ACTIVE' },
        ...(nextToken ? { nextToken } : {}),
      });
      const response = await callAws(`ListImageReferrers ${repositoryName}@${digest}`, () => this.ecr.send(command));
      referrers.push(...(response.referrers ?? []));
      nextToken = response.nextToken || undefined;
      if (!nextToken) break;
    }
    if (nextToken)
      throw new UnexpectedAwsAnswerError(`ListImageReferrers ${repositoryName}@${digest} still had more pages after ${MAX_REFERRER_PAGES}`);
    // The filter is ECR's; checking again costs nothing and keeps SBOMs and archived signatures out whatever answers.
    return referrers.filter(
      (r) =>
        (SIGNATURE_ARTIFACT_TYPES as readonly string[]).includes(r.artifactType ?? '') &&
        (r.artifactStatus === undefined || r.artifactStatus === 'ACTIVE'),
    );
  }

  private async readReferrer(
    repositoryName: string,
    digest: string,
    referrer: ImageReferrer,
  ): Promise<ReferrerSignature | UnreadableReferrer> {
    const artifactType = referrer.artifactType ?? '';
    const manifestDigest = referrer.digest ?? '';
    const unreadable = (problem: string): UnreadableReferrer => ({ artifactType, manifestDigest, problem });

    if (!SHA256_DIGEST.test(manifestDigest)) return unreadable(`its digest "${manifestDigest}" is not sha256:<64 hex characters>`);
    if (referrer.mediaType !== OCI_MANIFEST_MEDIA_TYPE) {
      return unreadable(`it is a ${referrer.mediaType}, not an OCI image manifest (${OCI_MANIFEST_MEDIA_TYPE})`);
    }

    const command = new BatchGetImageCommand({
      repositoryName,
      imageIds: [{ imageDigest: manifestDigest }],
      acceptedMediaTypes: [OCI_MANIFEST_MEDIA_TYPE],
    });
    const reference = `${repositoryName}@${manifestDigest}`;
    const response = await callAws(`BatchGetImage ${reference}`, () => this.ecr.send(command));
    let manifestText: string | null;
    try {
      manifestText = manifestOrNull(response.images, response.failures, reference);
    } catch (error) {
      if (error instanceof TransientAwsError) throw error;
      return unreadable(`ECR could not return its manifest (${(error as Error).message})`);
    }
    if (manifestText === null) return unreadable('ECR lists it, but does not return its manifest (deleted since?)');
    if (sha256Digest(Buffer.from(manifestText, 'utf8')) !== manifestDigest) {
      return unreadable('the manifest ECR returned does not hash to the digest it is listed under');
    }

    const layer = envelopeLayer(manifestText, artifactType, digest);
    if (typeof layer === 'string') return unreadable(layer);

    let envelope: Uint8Array;
    try {
      envelope = await this.downloadLayer(repositoryName, layer.digest, layer.size);
    } catch (error) {
      if (error instanceof BlobTooLargeError)
        return unreadable(`its layer ${layer.digest} is larger than the ${layer.size} bytes its manifest declares`);
      if (LAYER_MISSING_ERRORS.has((error as Error).name))
        return unreadable(`its layer ${layer.digest} is not in the repository (${(error as Error).name})`);
      throw error;
    }
    if (envelope.length !== layer.size) {
      return unreadable(`its layer ${layer.digest} has ${envelope.length} bytes, not the ${layer.size} its manifest declares`);
    }
    if (sha256Digest(envelope) !== layer.digest) {
      return unreadable(`the bytes downloaded for its layer hash to ${sha256Digest(envelope)}, not ${layer.digest}`);
    }
    return { artifactType, manifestDigest, mediaType: layer.mediaType, envelope };
  }

  // ---- ECR managed signing

  private async isSigningInProgress(repositoryName: string, digest: string): Promise<boolean> {
    const command = new DescribeImageSigningStatusCommand({ repositoryName, imageId: { imageDigest: digest } });
    try {
      const response = await this.ecr.send(command);
      return (response.signingStatuses ?? []).some((s) => s.status === 'IN_PROGRESS');
    } catch (error) {
      if (NOT_SIGNING_ERRORS.has((error as Error)?.name)) return false;
      return classifyAwsError(error, `DescribeImageSigningStatus ${repositoryName}@${digest}`);
    }
  }

  // ---- blobs

  private async downloadLayer(repositoryName: string, layerDigest: string, limit: number): Promise<Uint8Array> {
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

/**
 * The one layer of a signature referrer that holds its envelope, or why the manifest cannot be used: not an OCI
 * manifest, another artifact type than ECR listed, about another image, not exactly one layer, a layer media type the
 * artifact type does not hold, or an envelope too large to be a signature.
 */
function envelopeLayer(manifestText: string, artifactType: string, subjectDigest: string): Descriptor | string {
  const json = parseJson(manifestText);
  if (!json.ok) return 'its manifest is not JSON';
  const parsed = referrerManifestSchema.safeParse(json.value);
  if (!parsed.success) return `its manifest is not an OCI image manifest (${describeIssues(parsed.error)})`;
  const manifest = parsed.data;
  // OCI 1.1: without artifactType, the config media type is the artifact type.
  const declaredType = manifest.artifactType ?? manifest.config.mediaType;
  if (declaredType !== artifactType) return `its manifest declares artifact type "${declaredType}", not the "${artifactType}" ECR lists`;
  if (manifest.subject !== undefined && manifest.subject.digest !== subjectDigest) {
    return `its manifest's subject is ${manifest.subject.digest}, not ${subjectDigest}`;
  }
  if (manifest.layers.length !== 1) return `its manifest has ${manifest.layers.length} layers, not exactly one`;
  const layer = manifest.layers[0]!;
  const expected = ENVELOPE_MEDIA_TYPES[artifactType] ?? [];
  if (!expected.includes(layer.mediaType)) return `its layer has media type "${layer.mediaType}", not ${expected.join(' or ')}`;
  if (!SHA256_DIGEST.test(layer.digest)) return `its layer digest "${layer.digest}" is not sha256:<64 hex characters>`;
  if (layer.size > MAX_ENVELOPE_BYTES)
    return `its layer declares ${layer.size} bytes, more than the ${MAX_ENVELOPE_BYTES} a signature envelope may have`;
  return layer;
}

function manifestOrNull(images: Image[] | undefined, failures: ImageFailure[] | undefined, reference: string): string | null {
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

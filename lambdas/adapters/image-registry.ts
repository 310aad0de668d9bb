/**
 * ECR, as the pipeline reads it: the signatures stored for an image (signature-artifacts.ts), the model metadata in
 * its config's labels, the repository's tagged images and its URI. Read-only.
 */
import { DescribeImagesCommand, DescribeRepositoriesCommand, type ECRClient } from '@aws-sdk/client-ecr';
import { SHA256_DIGEST } from '../contract/catalog';
import { UnexpectedAwsAnswerError, callAws } from '../errors';
import type { SignatureArtifacts } from '../signature/artifacts';
import { OCI_MANIFEST_MEDIA_TYPE } from '../signature/cosign';
import { parseJson, parseJsonUtf8 } from '../signature/encoding';
import { EcrContent, type FetchBlob, fetchViaHttps } from './ecr-content';
import type { SignatureRegistry } from '../signature/ports';
import type * as ports from '../steps/ports/image-registry';
import { SignatureArtifactReader } from './signature-artifacts';

export { BlobTooLargeError, type FetchBlob, fetchViaHttps } from './ecr-content';
export type { CosignSignatureBlobs } from '../signature/artifacts';

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

export class ImageRegistry implements ports.ImageRegistry, SignatureRegistry {
  private readonly content: EcrContent;
  private readonly signatures: SignatureArtifactReader;

  constructor(
    private readonly ecr: Pick<ECRClient, 'send'>,
    fetchBlob: FetchBlob = fetchViaHttps,
  ) {
    this.content = new EcrContent(ecr, fetchBlob);
    this.signatures = new SignatureArtifactReader(ecr, this.content);
  }

  /**
   * Everything stored for `digest` in `repositoryName` that may be a signature. `signingStatus`: also ask whether ECR
   * managed signing is still signing it (only worth a call when signing profiles are trusted).
   */
  async readSignatureArtifacts(repositoryName: string, digest: string, options: { signingStatus: boolean }): Promise<SignatureArtifacts> {
    return this.signatures.readSignatureArtifacts(repositoryName, digest, options);
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
    const image = await this.content.manifest(repositoryName, digest, [...IMAGE_MANIFEST_MEDIA_TYPES, ...IMAGE_INDEX_MEDIA_TYPES]);
    if (image === null) throw new UnexpectedAwsAnswerError(`BatchGetImage ${reference} returned no manifest`);
    let manifest = asImageManifest(image);
    const firstImage = manifest?.manifests?.[0]?.digest;
    if (firstImage) manifest = asImageManifest(await this.content.manifest(repositoryName, firstImage, IMAGE_MANIFEST_MEDIA_TYPES));
    const config = manifest?.config;
    if (!config || !SHA256_DIGEST.test(config.digest ?? '') || typeof config.size !== 'number') {
      throw new UnexpectedAwsAnswerError(`The manifest of ${reference} names no image config to read labels from`);
    }
    const bytes = await this.content.downloadLayer(repositoryName, config.digest!, Math.min(config.size, MAX_IMAGE_CONFIG_BYTES));
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
}

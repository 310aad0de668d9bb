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
import { DescribeImageSigningStatusCommand, type ECRClient, ListImageReferrersCommand, type ImageReferrer } from '@aws-sdk/client-ecr';
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
import { describeIssues, parseJson } from '../signature/encoding';
import { BlobTooLargeError, type EcrContent, manifestOrNull } from './ecr-content';

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

export class SignatureArtifactReader {
  constructor(
    private readonly ecr: Pick<ECRClient, 'send'>,
    private readonly content: EcrContent,
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

  // ---- cosign legacy layout

  /**
   * The cosign signature stored under the `sha256-<hex>.sig` tag, or null when there is none. The manifest is returned
   * even when unusable, so the verifier can say why it rejects it.
   */
  private async readCosignSignature(repositoryName: string, digest: string): Promise<CosignSignatureBlobs | null> {
    const signatureTag = signatureTagFor(digest);
    const reference = `${repositoryName}:${signatureTag}`;
    const response = await this.content.getImage(repositoryName, { imageTag: signatureTag }, SIGNATURE_MANIFEST_MEDIA_TYPES, reference);
    const manifest = manifestOrNull(response.images, response.failures, reference);
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
      const download =
        downloads.get(layerDigest) ?? this.content.downloadLayer(repositoryName, layerDigest, MAX_SIMPLE_SIGNING_PAYLOAD_BYTES);
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
    const manifestText = await this.referrerManifest(repositoryName, manifestDigest);
    if (typeof manifestText !== 'object') return unreadable(manifestText);

    const layer = envelopeLayer(manifestText.text, artifactType, digest);
    if (typeof layer === 'string') return unreadable(layer);
    const envelope = await this.downloadEnvelope(repositoryName, layer);
    if (typeof envelope === 'string') return unreadable(envelope);
    return { artifactType, manifestDigest, mediaType: layer.mediaType, envelope };
  }

  /** The referrer's manifest, which must hash to the digest it is listed under; otherwise why it cannot be used. */
  private async referrerManifest(repositoryName: string, manifestDigest: string): Promise<{ text: string } | string> {
    const reference = `${repositoryName}@${manifestDigest}`;
    const response = await this.content.getImage(repositoryName, { imageDigest: manifestDigest }, [OCI_MANIFEST_MEDIA_TYPE], reference);
    let manifestText: string | null;
    try {
      manifestText = manifestOrNull(response.images, response.failures, reference);
    } catch (error) {
      if (error instanceof TransientAwsError) throw error;
      return `ECR could not return its manifest (${(error as Error).message})`;
    }
    if (manifestText === null) return 'ECR lists it, but does not return its manifest (deleted since?)';
    if (sha256Digest(Buffer.from(manifestText, 'utf8')) !== manifestDigest) {
      return 'the manifest ECR returned does not hash to the digest it is listed under';
    }
    return { text: manifestText };
  }

  /** The envelope layer's bytes, exactly the size and digest the manifest declares; otherwise why it cannot be used. */
  private async downloadEnvelope(repositoryName: string, layer: Descriptor): Promise<Uint8Array | string> {
    let envelope: Uint8Array;
    try {
      envelope = await this.content.downloadLayer(repositoryName, layer.digest, layer.size);
    } catch (error) {
      if (error instanceof BlobTooLargeError)
        return `its layer ${layer.digest} is larger than the ${layer.size} bytes its manifest declares`;
      if (LAYER_MISSING_ERRORS.has((error as Error).name))
        return `its layer ${layer.digest} is not in the repository (${(error as Error).name})`;
      throw error;
    }
    if (envelope.length !== layer.size) {
      return `its layer ${layer.digest} has ${envelope.length} bytes, not the ${layer.size} its manifest declares`;
    }
    if (sha256Digest(envelope) !== layer.digest) {
      return `the bytes downloaded for its layer hash to ${sha256Digest(envelope)}, not ${layer.digest}`;
    }
    return envelope;
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

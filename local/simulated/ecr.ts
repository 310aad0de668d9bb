/**
 * ECR repositories as the pipeline reads them: images and cosign signature tags (possibly arriving late), OCI 1.1
 * referrers (ListImageReferrers, default page size 20), layer download URLs, DescribeImages, and ECR managed signing
 * status (DescribeImageSigningStatus). Digests are the sha256 of the manifest text, as in a real registry.
 * References: https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ListImageReferrers.html,
 * API_BatchGetImage.html, API_DescribeImageSigningStatus.html.
 *
 * Every completed push puts an "ECR Image Action" event on the default bus when it completes (at its arrival, for one
 * that appears late): one per tag, none of `image-tag` for an untagged push
 * (https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html). ECR managed signing's own signature
 * is stored by ECR, not pushed, and no event is documented for it: it sends none here.
 */
import { createHash } from 'node:crypto';
import { SimulatedAwsError } from './aws-error';
import type { Clock } from './clock';
import type { AwsEvent } from './ecs-model';

/** When something pushed becomes visible: `appearsAfterSeconds` of simulated time after the push (0: at once). */
export interface Arrival {
  /** Simulated seconds from the push until the registry shows it (a late signature, or one ECR is still making). */
  appearsAfterSeconds?: number;
}

/** An OCI 1.1 referrer (a signature, an SBOM...) of an image, as `oras attach`, `notation sign` or cosign v3 push it. */
export interface SimulatedReferrer extends Arrival {
  repositoryName: string;
  /** The image it refers to (the manifest's `subject`). */
  subjectDigest: string;
  artifactType: string;
  /** The referrer manifest, exactly as the registry serves it; its digest is the sha256 of this text. */
  manifest: string;
  /** The blobs its manifest points to, by digest (served as stored: a wrong one stays wrong). */
  blobs: Map<string, Uint8Array>;
  /** The referrer's artifactStatus in ListImageReferrers; default ACTIVE. */
  artifactStatus?: 'ACTIVE' | 'ARCHIVED' | 'ACTIVATING';
  /** Stored by ECR managed signing rather than pushed by a client: no push event (none is documented for it). */
  storedByManagedSigning?: boolean;
}

/** ECR managed signing of one image by one signing profile: IN_PROGRESS for a while, then COMPLETE or FAILED. */
export interface SimulatedSigning {
  signingProfileArn: string;
  /** Simulated seconds from now during which the status is IN_PROGRESS. */
  inProgressForSeconds: number;
  /** The status once that time has passed. */
  then: 'COMPLETE' | 'FAILED';
}

interface StoredImage {
  manifest: string;
  mediaType: string;
  /** Simulated epoch milliseconds from which the registry shows it. */
  visibleFrom: number;
}
interface StoredReferrer {
  subjectDigest: string;
  digest: string;
  artifactType: string;
  size: number;
  annotations?: Record<string, string>;
  artifactStatus: 'ACTIVE' | 'ARCHIVED' | 'ACTIVATING';
}
interface Repository {
  imagesByDigest: Map<string, StoredImage>;
  digestByTag: Map<string, string>;
  referrers: StoredReferrer[];
}

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const BLOB_HOST = 'https://simulated-ecr.invalid';
/** ListImageReferrers' page size when the caller does not ask for one (ECR's default). */
const REFERRERS_PAGE_SIZE = 20;

export class SimulatedEcr {
  private readonly repositories = new Map<string, Repository>();
  private readonly blobs = new Map<string, { bytes: Uint8Array; visibleFrom: number }>();
  private readonly signings = new Map<string, { signingProfileArn: string; completesAt: number; then: 'COMPLETE' | 'FAILED' }[]>();
  /** Push events not sent yet: their push completes (the manifest appears) later. */
  private readonly unsentPushEvents: { completesAt: number; event: AwsEvent }[] = [];
  private pushEventCount = 0;

  constructor(
    private readonly clock: Clock,
    private readonly account: string,
    private readonly region: string,
    /** Where the registry puts its events (the default bus). */
    private readonly emit: (event: AwsEvent) => void = () => {},
  ) {}

  /** Sends the push events of pushes that have completed by now, oldest first. */
  settle(): void {
    const now = this.clock().getTime();
    this.unsentPushEvents.sort((a, b) => a.completesAt - b.completesAt);
    while (this.unsentPushEvents.length > 0 && this.unsentPushEvents[0]!.completesAt <= now)
      this.emit(this.unsentPushEvents.shift()!.event);
  }

  /** When the next late push completes (its event is sent); null: none is on its way. */
  nextPushAt(): number | null {
    const times = this.unsentPushEvents.map((e) => e.completesAt);
    return times.length === 0 ? null : Math.min(...times);
  }

  repositoryUri(repositoryName: string): string {
    return `${this.account}.dkr.ecr.${this.region}.amazonaws.com/${repositoryName}`;
  }

  /**
   * The digest an image reference names: `<uri>@sha256:…` itself, `<uri>:<tag>` what the tag names now (as ECS resolves
   * a tag to a digest when it starts a deployment: ECS developer guide, "Container image resolution"); null when the
   * reference is not to an image of this registry.
   */
  resolveImage(image: string): string | null {
    if (image.includes('@')) return image.slice(image.indexOf('@') + 1);
    const prefix = `${this.repositoryUri('')}`;
    const colon = image.lastIndexOf(':');
    if (!image.startsWith(prefix) || colon < prefix.length) return null;
    return this.repositories.get(image.slice(prefix.length, colon))?.digestByTag.get(image.slice(colon + 1)) ?? null;
  }

  /**
   * Stores an image under a tag and returns its digest (derived from the manifest, as in a real registry). Its config
   * carries `labels` (the model metadata), with `org.opencontainers.image.version` set to the tag unless given.
   */
  pushImage(repositoryName: string, tag: string, labels: Record<string, string> = {}): string {
    const config = Buffer.from(
      JSON.stringify({ architecture: 'arm64', os: 'linux', config: { Labels: { 'org.opencontainers.image.version': tag, ...labels } } }),
    );
    const configDigest = this.storeBlob(config);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [],
      annotations: { 'org.opencontainers.image.ref.name': `${repositoryName}:${tag}` },
    });
    const digest = this.storeManifest(repositoryName, tag, manifest, OCI_MANIFEST);
    return digest;
  }

  /** Adds a tag to an image already pushed (`docker tag` + push of the same image: no new digest). */
  tagImage(repositoryName: string, tag: string, digest: string): void {
    this.repository(repositoryName).digestByTag.set(tag, digest);
    this.announcePush(repositoryName, tag, digest, Number.NEGATIVE_INFINITY);
  }

  /**
   * Holds an image under a digest chosen by the caller (no content): for signature fixtures, which sign made-up digests,
   * when a call needs the image itself to exist (e.g. DescribeImageSigningStatus).
   */
  holdImageAt(repositoryName: string, digest: string): void {
    const repository = this.repositoryCreatedOnPush(repositoryName);
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, layers: [] });
    repository.imagesByDigest.set(digest, { manifest, mediaType: OCI_MANIFEST, visibleFrom: Number.NEGATIVE_INFINITY });
  }

  /**
   * Stores a cosign signature manifest (and its payload blobs) under its `sha256-<hex>.sig` tag; with
   * `appearsAfterSeconds`, the tag only exists once that much simulated time has passed (a late signature).
   */
  pushSignature(
    repositoryName: string,
    signature: { signatureTag: string; manifest: string; manifestMediaType: string; blobs: Map<string, Uint8Array> },
    arrival: Arrival = {},
  ): void {
    const visibleFrom = this.arrivalTime(arrival);
    for (const [digest, bytes] of signature.blobs) this.storeBlobAt(digest, bytes, visibleFrom);
    this.storeManifest(repositoryName, signature.signatureTag, signature.manifest, signature.manifestMediaType, visibleFrom);
  }

  /**
   * Stores an OCI 1.1 referrer of `subjectDigest` (manifest and blobs), listed by ListImageReferrers and served by
   * BatchGetImage by digest; with `appearsAfterSeconds`, only once that much simulated time has passed. Returns the
   * referrer manifest's digest.
   */
  pushReferrer(referrer: SimulatedReferrer): string {
    const visibleFrom = this.arrivalTime(referrer);
    for (const [digest, bytes] of referrer.blobs) this.storeBlobAt(digest, bytes, visibleFrom);
    const digest = this.storeManifest(
      referrer.repositoryName,
      null,
      referrer.manifest,
      OCI_MANIFEST,
      visibleFrom,
      !referrer.storedByManagedSigning,
    );
    let annotations: Record<string, string> | undefined;
    try {
      annotations = JSON.parse(referrer.manifest)?.annotations;
    } catch {
      annotations = undefined; // a broken manifest is still listed, as a registry would
    }
    this.repositories.get(referrer.repositoryName)!.referrers.push({
      subjectDigest: referrer.subjectDigest,
      digest,
      artifactType: referrer.artifactType,
      size: Buffer.byteLength(referrer.manifest),
      annotations,
      artifactStatus: referrer.artifactStatus ?? 'ACTIVE',
    });
    return digest;
  }

  /**
   * ECR managed signing for an image: DescribeImageSigningStatus answers IN_PROGRESS for `inProgressForSeconds` of
   * simulated time, then `then`. Call once per signing profile. (Push the signature it produces with pushReferrer and
   * the same `appearsAfterSeconds` to simulate the whole of managed signing.)
   */
  setSigningStatus(repositoryName: string, digest: string, signing: SimulatedSigning): void {
    const key = `${repositoryName}@${digest}`;
    const statuses = (this.signings.get(key) ?? []).filter((s) => s.signingProfileArn !== signing.signingProfileArn);
    statuses.push({
      signingProfileArn: signing.signingProfileArn,
      completesAt: this.clock().getTime() + signing.inProgressForSeconds * 1000,
      then: signing.then,
    });
    this.signings.set(key, statuses);
  }

  readonly fetchBlob = async (url: string): Promise<Uint8Array> => {
    const digest = url.startsWith(BLOB_HOST) ? url.split('/').pop() : undefined;
    const blob = digest ? this.visibleBlob(digest) : undefined;
    if (!blob) throw new Error(`simulated registry: no blob at ${url}`);
    return blob;
  };

  batchGetImage(input: { repositoryName: string; imageIds: { imageTag?: string; imageDigest?: string }[] }) {
    const repository = this.repository(input.repositoryName);
    const images = [];
    const failures = [];
    for (const imageId of input.imageIds) {
      const digest = imageId.imageDigest ?? repository.digestByTag.get(imageId.imageTag ?? '');
      const stored = digest ? repository.imagesByDigest.get(digest) : undefined;
      const image = stored && this.isVisible(stored.visibleFrom) ? stored : undefined;
      if (digest && image) {
        images.push({
          registryId: this.account,
          repositoryName: input.repositoryName,
          imageId: { ...imageId, imageDigest: digest },
          imageManifest: image.manifest,
          imageManifestMediaType: image.mediaType,
        });
      } else {
        failures.push({
          imageId,
          failureCode: imageId.imageTag ? 'ImageTagDoesNotExist' : 'ImageNotFound',
          failureReason: 'Requested image not found',
        });
      }
    }
    return { images, failures };
  }

  getDownloadUrlForLayer(input: { repositoryName: string; layerDigest: string }) {
    if (!this.visibleBlob(input.layerDigest)) {
      throw new SimulatedAwsError('LayersNotFoundException', `The layer ${input.layerDigest} does not exist in ${input.repositoryName}`);
    }
    return { layerDigest: input.layerDigest, downloadUrl: `${BLOB_HOST}/v2/${input.repositoryName}/blobs/${input.layerDigest}` };
  }

  /** Pages through the subject's visible referrers; the nextToken is the index of the next one. */
  listImageReferrers(input: {
    repositoryName: string;
    subjectId: { imageDigest: string };
    filter?: { artifactTypes?: string[]; artifactStatus?: string };
    nextToken?: string;
    maxResults?: number;
  }) {
    const repository = this.repository(input.repositoryName);
    const wantedStatus = input.filter?.artifactStatus ?? 'ACTIVE';
    const matching = repository.referrers.filter(
      (r) =>
        r.subjectDigest === input.subjectId.imageDigest &&
        this.isVisible(repository.imagesByDigest.get(r.digest)!.visibleFrom) &&
        (!input.filter?.artifactTypes?.length || input.filter.artifactTypes.includes(r.artifactType)) &&
        (wantedStatus === 'ANY' || r.artifactStatus === wantedStatus),
    );
    const start = input.nextToken === undefined ? 0 : Number(input.nextToken);
    if (!Number.isInteger(start) || start < 0 || start > matching.length) {
      throw new SimulatedAwsError('InvalidParameterException', `Invalid parameter: nextToken '${input.nextToken}' is not valid`);
    }
    const end = start + (input.maxResults ?? REFERRERS_PAGE_SIZE);
    return {
      referrers: matching.slice(start, end).map((r) => ({
        digest: r.digest,
        mediaType: OCI_MANIFEST,
        artifactType: r.artifactType,
        size: r.size,
        ...(r.annotations ? { annotations: r.annotations } : {}),
        artifactStatus: r.artifactStatus,
      })),
      ...(end < matching.length ? { nextToken: String(end) } : {}),
    };
  }

  describeRepositories(input: { repositoryNames?: string[] }) {
    const names = input.repositoryNames ?? [...this.repositories.keys()];
    for (const name of names) {
      if (!this.repositories.has(name)) {
        throw new SimulatedAwsError(
          'RepositoryNotFoundException',
          `The repository with name '${name}' does not exist in the registry with id '${this.account}'`,
        );
      }
    }
    return {
      repositories: names.map((name) => ({
        repositoryName: name,
        repositoryArn: `arn:aws:ecr:${this.region}:${this.account}:repository/${name}`,
        registryId: this.account,
        repositoryUri: this.repositoryUri(name),
      })),
    };
  }

  /** Tagged images with their tags, in one page (the adapter follows nextToken; no repository here needs a second). */
  describeImages(input: { repositoryName: string; filter?: { tagStatus?: string } }) {
    const repository = this.repository(input.repositoryName);
    const tagsByDigest = new Map<string, string[]>();
    for (const [tag, digest] of repository.digestByTag) tagsByDigest.set(digest, [...(tagsByDigest.get(digest) ?? []), tag]);
    const imageDetails = [...repository.imagesByDigest.entries()]
      .filter(([digest, image]) => this.isVisible(image.visibleFrom) && (input.filter?.tagStatus !== 'TAGGED' || tagsByDigest.has(digest)))
      .map(([digest, image]) => ({
        registryId: this.account,
        repositoryName: input.repositoryName,
        imageDigest: digest,
        imageTags: tagsByDigest.get(digest),
        imageManifestMediaType: image.mediaType,
      }));
    return { imageDetails };
  }

  /** One status per signing profile set with setSigningStatus; none (an empty list) for an image nothing signs. */
  describeImageSigningStatus(input: { repositoryName: string; imageId: { imageDigest?: string; imageTag?: string } }) {
    const repository = this.repository(input.repositoryName);
    const digest = input.imageId.imageDigest ?? repository.digestByTag.get(input.imageId.imageTag ?? '');
    const image = digest ? repository.imagesByDigest.get(digest) : undefined;
    if (!digest || !image || !this.isVisible(image.visibleFrom)) {
      throw new SimulatedAwsError('ImageNotFoundException', `The image requested does not exist in the specified repository.`);
    }
    const now = this.clock().getTime();
    return {
      registryId: this.account,
      repositoryName: input.repositoryName,
      imageId: { imageDigest: digest },
      signingStatuses: (this.signings.get(`${input.repositoryName}@${digest}`) ?? []).map((s) => {
        const status = now < s.completesAt ? 'IN_PROGRESS' : s.then;
        return {
          signingProfileArn: s.signingProfileArn,
          status,
          ...(status === 'FAILED' ? { failureCode: 'SigningFailed', failureReason: 'simulated managed signing failure' } : {}),
        };
      }),
    };
  }
  // ---- internals
  private storeBlob(bytes: Uint8Array): string {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    this.storeBlobAt(digest, bytes, Number.NEGATIVE_INFINITY);
    return digest;
  }

  /** Blobs are stored under the digest the caller names (a tampered one keeps its claimed digest); the earliest arrival wins. */
  private storeBlobAt(digest: string, bytes: Uint8Array, visibleFrom: number): void {
    const existing = this.blobs.get(digest);
    this.blobs.set(digest, { bytes, visibleFrom: Math.min(visibleFrom, existing?.visibleFrom ?? Number.POSITIVE_INFINITY) });
  }

  private visibleBlob(digest: string): Uint8Array | undefined {
    const blob = this.blobs.get(digest);
    return blob && this.isVisible(blob.visibleFrom) ? blob.bytes : undefined;
  }

  private storeManifest(
    repositoryName: string,
    tag: string | null,
    manifest: string,
    mediaType: string,
    visibleFrom = Number.NEGATIVE_INFINITY,
    pushed = true,
  ): string {
    const repository = this.repositoryCreatedOnPush(repositoryName);
    const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
    const earliest = Math.min(visibleFrom, repository.imagesByDigest.get(digest)?.visibleFrom ?? Number.POSITIVE_INFINITY);
    repository.imagesByDigest.set(digest, { manifest, mediaType, visibleFrom: earliest });
    if (tag !== null) repository.digestByTag.set(tag, digest);
    if (pushed) this.announcePush(repositoryName, tag, digest, visibleFrom);
    return digest;
  }

  /** The push's "ECR Image Action" event, sent once the push completes (now, or at a late push's arrival). */
  private announcePush(repositoryName: string, tag: string | null, digest: string, completesAt: number): void {
    const at = Math.max(completesAt, this.clock().getTime());
    const event: AwsEvent = {
      version: '0',
      id: `local-ecr-event-${++this.pushEventCount}`,
      'detail-type': 'ECR Image Action',
      source: 'aws.ecr',
      account: this.account,
      time: new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: this.region,
      resources: [],
      detail: {
        result: 'SUCCESS',
        'repository-name': repositoryName,
        'image-digest': digest,
        'action-type': 'PUSH',
        ...(tag === null ? {} : { 'image-tag': tag }),
      },
    };
    this.unsentPushEvents.push({ completesAt: at, event });
    this.settle();
  }

  /** The repository, created empty by the first push to it (as ECR's create-on-push would). */
  private repositoryCreatedOnPush(repositoryName: string): Repository {
    const repository = this.repositories.get(repositoryName) ?? { imagesByDigest: new Map(), digestByTag: new Map(), referrers: [] };
    this.repositories.set(repositoryName, repository);
    return repository;
  }

  private repository(repositoryName: string): Repository {
    const repository = this.repositories.get(repositoryName);
    if (!repository) throw new SimulatedAwsError('RepositoryNotFoundException', `The repository '${repositoryName}' does not exist`);
    return repository;
  }

  private arrivalTime(arrival: Arrival): number {
    return arrival.appearsAfterSeconds ? this.clock().getTime() + arrival.appearsAfterSeconds * 1000 : Number.NEGATIVE_INFINITY;
  }

  private isVisible(visibleFrom: number): boolean {
    return this.clock().getTime() >= visibleFrom;
  }
}

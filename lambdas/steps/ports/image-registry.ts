/**
 * The image registry as the steps use it besides signatures (lambdas/signature/ports.ts): the model metadata in an
 * image's labels, and a repository's tagged images. Declared here, where it is used; `adapters/image-registry.ts`
 * implements it on ECR.
 */
export interface ImageRegistry {
  /** The string labels of the image's config: the model metadata the ledger keeps. */
  readImageLabels(repositoryName: string, digest: string): Promise<Record<string, string>>;
  /** Every tag in the repository with the digest it points to. */
  listTaggedImages(repositoryName: string): Promise<{ tag: string; digest: string }[]>;
}

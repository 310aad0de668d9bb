/** What the reconciliation would release for a service: the newest tag in ECR the release policy allows there. Pure. */
import type { Environment } from '../contract/catalog';
import { compareReleaseTags, evaluateTagPolicy, parseReleaseTag } from './tag-policy';

export interface TaggedImage {
  tag: string;
  digest: string;
}

/** The highest-ranked allowed tag (invalid tags and development tags in production are skipped); null when none. */
export function newestAllowedRelease(images: TaggedImage[], environment: Environment): TaggedImage | null {
  let newest: { image: TaggedImage; rank: NonNullable<ReturnType<typeof parseReleaseTag>> } | null = null;
  for (const image of images) {
    if (evaluateTagPolicy({ tag: image.tag, environment, runningVersion: null }).verdict !== 'accepted') continue;
    const rank = parseReleaseTag(image.tag)!;
    if (!newest || compareReleaseTags(rank, newest.rank) > 0) newest = { image, rank };
  }
  return newest?.image ?? null;
}

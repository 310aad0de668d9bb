import type { CatalogEntry } from '../contract/catalog';

/** `ECS service "<service>" in cluster "<cluster>"`: how messages name a catalog entry's ECS service. */
export function ecsServiceLabel(entry: Pick<CatalogEntry, 'service' | 'cluster'>): string {
  return `ECS service "${entry.service}" in cluster "${entry.cluster}"`;
}

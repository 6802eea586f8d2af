/**
 * Storage key layout: `/registry/<group or "core">/<plural>/<namespace>/<name>` for namespaced
 * resources, `/registry/<group or "core">/<plural>/<name>` for cluster-scoped ones. Keys sort so that a
 * prefix scan of one namespace is one range.
 */
import type { ResourceInfo } from '../../api/resources.js';

/** Prefix of every key of `info` (optionally restricted to one namespace). Ends with '/'. */
export function resourcePrefix(info: ResourceInfo, namespace?: string): string {
  const base = `/registry/${info.group || 'core'}/${info.plural}/`;
  return info.namespaced && namespace ? `${base}${namespace}/` : base;
}

/** The storage key of one object. */
export function objectStorageKey(info: ResourceInfo, namespace: string | undefined, name: string): string {
  return info.namespaced ? `${resourcePrefix(info)}${namespace ?? ''}/${name}` : `${resourcePrefix(info)}${name}`;
}

/** `namespace/name` (or `name`) from a storage key of `info`. */
export function cacheKeyFromStorageKey(info: ResourceInfo, key: string): string {
  return key.slice(resourcePrefix(info).length);
}

/** The watch-cache key of one object: `namespace/name` (or `name`). */
export function objectCacheKey(info: ResourceInfo, namespace: string | undefined, name: string): string {
  return info.namespaced ? `${namespace ?? ''}/${name}` : name;
}

/**
 * The shape every stored object has. Concrete kinds come from the `kubernetes-types` package
 * (e.g. `import type { Service } from 'kubernetes-types/core/v1.js'` — note the .js, required by NodeNext resolution); this file only names what
 * generic code (storage, registry, informers) relies on.
 */
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';

/**
 * Any Kubernetes object: apiVersion, kind, metadata (and whatever else the kind has). No index
 * signature, so the `kubernetes-types` interfaces (Service, Pod, ...) satisfy it; generic code that
 * needs other fields reads them through `fieldsOf(obj)`.
 */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

/** The object as a plain record, for generic code that walks arbitrary fields (spec, status...). */
export function fieldsOf(obj: KubeObject): Record<string, unknown> {
  return obj as unknown as Record<string, unknown>;
}

/** A list as the API returns it. */
export interface KubeList<T = KubeObject> {
  apiVersion: string;
  kind: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

/** `namespace/name` (or just `name` for cluster-scoped objects): the key work queues and caches use. */
export function objectKey(obj: { metadata?: { namespace?: string; name?: string } }): string {
  const ns = obj.metadata?.namespace;
  return ns ? `${ns}/${obj.metadata?.name ?? ''}` : obj.metadata?.name ?? '';
}

/** Splits a `namespace/name` key; namespace is '' for cluster-scoped keys. */
export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/** Deep copy for JSON-shaped objects. Cached objects are never mutated: copy before changing. */
export function deepCopy<T>(obj: T): T {
  return structuredClone(obj);
}

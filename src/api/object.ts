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

/**
 * Deep copy for JSON-shaped objects. Cached objects are never mutated: copy before changing.
 * Plain objects and arrays are copied; anything else (a Date, a Buffer) is shared as it is — the
 * copy serializes to the same JSON. A hand-written walk: this runs on every API write and is several
 * times faster than `structuredClone`, which serializes through a transfer format.
 */
export function deepCopy<T>(obj: T): T {
  return copyValue(obj) as T;
}

function copyValue(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    const a = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) a[i] = copyValue(v[i]);
    return a;
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) return v;
  const src = v as Record<string, unknown>;
  const o: Record<string, unknown> = {};
  for (const k in src) {
    // JSON.parse makes "__proto__" an own key; assigning it would set the copy's prototype instead.
    if (k === '__proto__') Object.defineProperty(o, k, { value: copyValue(src[k]), enumerable: true, writable: true, configurable: true });
    else o[k] = copyValue(src[k]);
  }
  return o;
}

/**
 * Freezes a JSON-shaped object and everything in it, so an accidental write to a shared object
 * throws (ES modules are strict mode) instead of silently changing what other readers see.
 */
export function deepFreeze<T>(obj: T): T {
  if (typeof obj !== 'object' || obj === null || Object.isFrozen(obj)) return obj;
  if (Array.isArray(obj)) {
    for (const x of obj) deepFreeze(x);
  } else {
    const proto = Object.getPrototypeOf(obj) as unknown;
    if (proto !== Object.prototype && proto !== null) return obj; // not JSON-shaped (a Buffer cannot be frozen)
    for (const k in obj) deepFreeze((obj as Record<string, unknown>)[k]);
  }
  return Object.freeze(obj);
}

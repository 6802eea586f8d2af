/**
 * Per-kind behaviour of the generic store, as Kubernetes' REST strategies and store hooks carry it
 * (PrepareForCreate / PrepareForUpdate, BeginCreate / BeginUpdate / AfterDelete, graceful deletion,
 * field selectors). The store (store.ts) calls these at fixed points of its one write path; a kind
 * with rules of its own overrides some of them in `strategies/<kind>.ts`, and `strategies.ts` picks
 * the strategy of each resource. Everything here is pure or mutates only the private copy it is
 * given, except the hooks, whose side effects (ClusterIP allocation) are undone through `Finish`.
 */
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import { deepCopy, fieldsOf, type KubeObject } from '../../api/object.js';
import type { DeleteOptions } from '../../api/requests.js';
import type { ResourceInfo } from '../../api/resources.js';
import { rfc3339 } from './meta.js';

/** What a DELETE does to the current object. */
export type Deletion =
  /** Remove the key now. */
  | { kind: 'remove' }
  /** Store this new version (deletionTimestamp, finalizers, phase) and keep the object for now. */
  | { kind: 'mark'; obj: KubeObject }
  /** The object is already marked as this delete asks: nothing to write. */
  | { kind: 'unchanged' };

/**
 * Called once a write hook's storage write has succeeded (true) or failed, was a dry run or a no-op
 * (false) — Kubernetes' FinishFunc. Undoes or keeps what the hook did. Hooks and Finish may be
 * asynchronous (an allocation kept in storage); synchronous ones cost the write path nothing.
 */
export type Finish = (success: boolean) => void | Promise<void>;

/** What a write hook is told about the write. */
export interface HookOptions {
  /** The write will not be stored (dryRun=All): allocate nothing that outlives it. */
  dryRun: boolean;
}

/** A Finish that does nothing. */
export const NOTHING_TO_FINISH: Finish = () => {};

export interface Strategy {
  readonly info: ResourceInfo;
  /** Field-selector fields the kind supports (metadata.name and metadata.namespace always). */
  readonly selectableFields: readonly string[];
  /** Whether objects carry metadata.generation, bumped when anything but metadata and status changes. */
  readonly tracksGeneration: boolean;
  /** Reads field `f` of `obj` for field-selector matching ('' for unset fields, like Kubernetes). */
  fieldValue(obj: KubeObject, f: string): string;
  /** PrepareForCreate: what the server resets on a new object (status, spec.finalizers). Mutates `obj`. */
  prepareForCreate(obj: KubeObject): void;
  /** PrepareForUpdate of a main-resource write: keeps what the client may not change this way. Mutates `next`. */
  prepareForUpdate(next: KubeObject, old: KubeObject): void;
  /** BeginCreate: after admission, before storage (ClusterIP allocation). Mutates `obj`. */
  beginCreate(obj: KubeObject, opts: HookOptions): Finish | Promise<Finish>;
  /** BeginUpdate: before admission of a main-resource update (an omitted clusterIP keeps the old one). Mutates `next`. */
  beginUpdate(next: KubeObject, old: KubeObject, opts: HookOptions): Finish | Promise<Finish>;
  /** AfterDelete: the object left storage; free what it held (a failure is logged, never the client's). */
  afterDelete(obj: KubeObject): void | Promise<void>;
  /** Whether an object marked for deletion may leave storage now (nothing holds it any more). */
  canRemove(obj: KubeObject): boolean;
  /** What DELETE does to `cur`: remove, mark (graceful deletion, finalizers), or nothing new. */
  deletion(cur: KubeObject, opts: DeleteOptions, now: Date): Deletion;
  /** POST <plural>/NAME/binding: the new object, or a 409 ApiError. Absent: the kind has no binding. */
  bind?(cur: KubeObject, target: { name: string }, now: Date): KubeObject;
  /** PUT <plural>/NAME/finalize: the new object. Absent: the kind has no finalize subresource. */
  finalize?(cur: KubeObject, input: KubeObject): KubeObject;
  /**
   * Defaulting and validation of a write (422 with every field error). Absent: the built-in
   * semantics (admission.ts `admitObject`); custom resources bring their CRD's schema.
   */
  admit?(obj: KubeObject, old?: KubeObject): void;
  /** The status subresource writes only status; absent: copy `input`'s status over `cur`. */
  statusUpdate?(cur: KubeObject, input: KubeObject): KubeObject;
  /**
   * POST <plural>/NAME/<sub> of a subresource that is answered, not stored (serviceaccounts/NAME/token):
   * the answer for `input` given the current object. Absent: the kind has none (404).
   */
  createSubresource?(sub: string, cur: KubeObject, input: unknown, opts: { dryRun: boolean }): Promise<KubeObject>;
  /**
   * PUT/PATCH pods/NAME/ephemeralcontainers: the current object with only the input's
   * spec.ephemeralContainers taken, defaulted and validated (422 ApiError). Absent: not served.
   */
  ephemeralContainers?(cur: KubeObject, input: KubeObject): KubeObject;
}

/** A private, mutable copy. */
export function copyOf<T>(o: T): T {
  return deepCopy(o);
}

/** ObjectMeta without the readonly modifiers, for the server's own private copies. */
export type MutableMeta = { -readonly [K in keyof ObjectMeta]: ObjectMeta[K] };

/** `obj.metadata` as a mutable record (created when absent). */
export function metaOf(obj: KubeObject): MutableMeta {
  return ((obj as { metadata?: MutableMeta }).metadata ??= {});
}

/** The value at a dotted path, as a field selector compares it (objects as JSON). */
export function dig(obj: unknown, path: string): string | undefined {
  let cur: unknown = obj;
  for (const p of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  if (cur === undefined || cur === null) return undefined;
  return typeof cur === 'object' ? JSON.stringify(cur) : String(cur);
}

/** Finalizers after applying the delete's propagationPolicy (Foreground / Orphan add one). */
export function propagationFinalizers(existing: readonly string[] | undefined, opts: DeleteOptions): string[] {
  const f = [...(existing ?? [])];
  const add = opts.propagationPolicy === 'Foreground' ? 'foregroundDeletion' : opts.propagationPolicy === 'Orphan' ? 'orphan' : undefined;
  if (add && !f.includes(add)) f.push(add);
  return f;
}

/**
 * The deletion every kind starts from: with finalizers (its own, or one the propagationPolicy adds)
 * the object is marked (deletionTimestamp, grace 0) and stays until they are gone; otherwise it is
 * removed at once.
 */
export function deletionWithFinalizers(cur: KubeObject, opts: DeleteOptions, now: Date): Deletion {
  const md = cur.metadata ?? {};
  const finalizers = propagationFinalizers(md.finalizers, opts);
  if (finalizers.length === 0) return { kind: 'remove' };
  if (md.deletionTimestamp && JSON.stringify(md.finalizers ?? []) === JSON.stringify(finalizers) && md.deletionGracePeriodSeconds === 0) {
    return { kind: 'unchanged' };
  }
  const next = copyOf(cur);
  next.metadata = { ...next.metadata, finalizers, deletionTimestamp: md.deletionTimestamp ?? rfc3339(now), deletionGracePeriodSeconds: 0 };
  return { kind: 'mark', obj: next };
}

/** The generic strategy of `info`; per-kind strategies spread it and override what differs. */
export function genericStrategy(info: ResourceInfo): Strategy {
  const hasStatus = info.subresources.includes('status');
  return {
    info,
    selectableFields: ['metadata.name', 'metadata.namespace'],
    // Kinds with a status subresource are the ones whose Kubernetes strategies bump generation on
    // spec changes (Deployments, Pods, Services, Namespaces, Nodes...).
    tracksGeneration: hasStatus,
    fieldValue(obj, f) {
      if (f === 'metadata.namespace' && !info.namespaced) return '';
      return dig(obj, f) ?? '';
    },
    prepareForCreate() {},
    prepareForUpdate(next, old) {
      // With a status subresource, main-resource writes keep the stored status.
      if (!hasStatus) return;
      const st = fieldsOf(old).status;
      if (st === undefined) delete fieldsOf(next).status; else fieldsOf(next).status = copyOf(st);
    },
    beginCreate: () => NOTHING_TO_FINISH,
    beginUpdate: () => NOTHING_TO_FINISH,
    afterDelete() {},
    canRemove(obj) {
      const md = obj.metadata ?? {};
      return !!md.deletionTimestamp && (md.finalizers?.length ?? 0) === 0 && (md.deletionGracePeriodSeconds ?? 0) === 0;
    },
    deletion: deletionWithFinalizers,
  };
}

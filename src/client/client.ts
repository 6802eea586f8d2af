/**
 * The one client interface every component (controllers, node agent, proxy, DNS, CLI) uses to talk
 * to the API. Two implementations: in-process (direct calls into the API server's registry, no HTTP)
 * and HTTP (HTTPS on loopback or HTTP over the API server's unix socket). Components never read
 * storage directly, so each can also run against a real Kubernetes API server.
 *
 * Errors are thrown as `ApiError` (src/api/errors.ts) in both implementations.
 */
import type { KubeList, KubeObject } from '../api/object.js';
import type { ResourceInfo } from '../api/resources.js';

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

export interface WatchOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Deliver events after this revision. Omitted: start from "now". */
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent<T = KubeObject> {
  type: WatchEventType;
  /** For ERROR events, a Status object. */
  object: T;
}

/** A running watch. `done` settles when the watch ends (stopped, timed out, server closed, or error). */
export interface WatchHandle {
  stop(): void;
  /** Resolves with no value on a normal end; rejects with an ApiError (e.g. 410 Gone) on failure. */
  readonly done: Promise<void>;
}

export interface WriteOptions {
  /** 'All' = validate and default but do not persist. */
  dryRun?: 'All';
  fieldManager?: string;
  /** Strict | Warn | Ignore (unknown-field handling). */
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
}

export type PatchType = 'application/merge-patch+json' | 'application/json-patch+json' | 'application/strategic-merge-patch+json' | 'application/apply-patch+yaml';

export interface DeleteOptions extends WriteOptions {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
}

/** Subresources written through the generic verbs (status, scale, binding). */
export type WritableSubresource = 'status' | 'scale' | 'binding' | 'finalize';

/**
 * Reads that hand out the API server's own cached objects instead of private copies, saving a copy
 * per object on every list and watch event (an informer over 100k Pods). The objects are deep-frozen
 * and shared by every reader: never mutate them (it throws) — copy first. Only a client in the API
 * server's process can offer this; check with `hasSharedReads`.
 */
export interface SharedReads {
  /** As `Client.list`, but the items are the server's frozen cached objects. */
  listShared<T extends KubeObject = KubeObject>(res: ResourceInfo, namespace: string | undefined, opts?: ListOptions): Promise<KubeList<T>>;
  /** As `Client.watch`, but event objects are the server's frozen cached objects. */
  watchShared<T extends KubeObject = KubeObject>(res: ResourceInfo, namespace: string | undefined, opts: WatchOptions, onEvent: (ev: WatchEvent<T>) => void): WatchHandle;
}

/** Whether `client` offers shared reads (the in-process client does; HTTP cannot). */
export function hasSharedReads(client: object): client is Client & SharedReads {
  const c = client as Partial<SharedReads>;
  return typeof c.listShared === 'function' && typeof c.watchShared === 'function';
}

export interface Client {
  get<T extends KubeObject = KubeObject>(res: ResourceInfo, namespace: string | undefined, name: string, subresource?: 'status' | 'scale'): Promise<T>;
  list<T extends KubeObject = KubeObject>(res: ResourceInfo, namespace: string | undefined, opts?: ListOptions): Promise<KubeList<T>>;
  create<T extends KubeObject = KubeObject>(res: ResourceInfo, namespace: string | undefined, obj: T, opts?: WriteOptions & { subresource?: 'binding'; name?: string }): Promise<T>;
  /**
   * PUT. With `subresource` 'status' only status is written; 'scale' takes an autoscaling/v1 Scale;
   * 'finalize' (namespaces) writes only spec.finalizers.
   */
  update<T extends KubeObject = KubeObject>(res: ResourceInfo, namespace: string | undefined, obj: T, opts?: WriteOptions & { subresource?: 'status' | 'scale' | 'finalize' }): Promise<T>;
  patch<T extends KubeObject = KubeObject>(res: ResourceInfo, namespace: string | undefined, name: string, type: PatchType, patch: unknown, opts?: WriteOptions & { subresource?: 'status' | 'scale' }): Promise<T>;
  /** Returns the deleted object (or the object with deletionTimestamp set when finalizers hold it). */
  delete<T extends KubeObject = KubeObject>(res: ResourceInfo, namespace: string | undefined, name: string, opts?: DeleteOptions): Promise<T>;
  /** Starts a watch; events are delivered in order to `onEvent`. */
  watch<T extends KubeObject = KubeObject>(res: ResourceInfo, namespace: string | undefined, opts: WatchOptions, onEvent: (ev: WatchEvent<T>) => void): WatchHandle;
}

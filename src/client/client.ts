/**
 * The one client interface every component (controllers, node agent, proxy, DNS, CLI) uses to talk
 * to the API. Two implementations: in-process (direct calls into the API server's registry, no HTTP)
 * and HTTP (HTTPS on loopback or HTTP over the API server's unix socket). Components never read
 * storage directly, so each can also run against a real Kubernetes API server.
 *
 * Errors are thrown as `ApiError` (src/api/errors.ts) in both implementations.
 */
import type { KubeList, KubeObject } from '../api/object.js';
import type { CreateSubresource, DeleteOptions, GetSubresource, ListOptions, PatchSubresource, PatchType, UpdateSubresource, WatchEvent, WatchHandle, WatchOptions, WriteOptions } from '../api/requests.js';
import type { ResourceInfo } from '../api/resources.js';

// The request vocabulary lives in src/api/requests.ts (the API server speaks it too); it is
// re-exported here because every Client user needs it next to the interface.
export type {
  CreateSubresource, DeleteOptions, ListOptions, PatchType, PropagationPolicy, UpdateSubresource, WatchEvent, WatchEventType, WatchHandle, WatchOptions,
  WritableSubresource, WriteOptions,
} from '../api/requests.js';

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
  get<T extends KubeObject = KubeObject>(res: ResourceInfo, namespace: string | undefined, name: string, subresource?: GetSubresource): Promise<T>;
  list<T extends KubeObject = KubeObject>(res: ResourceInfo, namespace: string | undefined, opts?: ListOptions): Promise<KubeList<T>>;
  create<T extends KubeObject = KubeObject>(res: ResourceInfo, namespace: string | undefined, obj: T, opts?: WriteOptions & { subresource?: CreateSubresource; name?: string }): Promise<T>;
  /**
   * PUT. With `subresource` 'status' only status is written; 'scale' takes an autoscaling/v1 Scale;
   * 'finalize' (namespaces) writes only spec.finalizers.
   */
  update<T extends KubeObject = KubeObject>(res: ResourceInfo, namespace: string | undefined, obj: T, opts?: WriteOptions & { subresource?: UpdateSubresource }): Promise<T>;
  patch<T extends KubeObject = KubeObject>(res: ResourceInfo, namespace: string | undefined, name: string, type: PatchType, patch: unknown, opts?: WriteOptions & { subresource?: PatchSubresource }): Promise<T>;
  /** Returns the deleted object (or the object with deletionTimestamp set when finalizers hold it). */
  delete<T extends KubeObject = KubeObject>(res: ResourceInfo, namespace: string | undefined, name: string, opts?: DeleteOptions): Promise<T>;
  /**
   * DELETE on a collection: deletes every object matching the selectors (limit/continue are
   * ignored), each as `delete` would; objects that vanish meanwhile are skipped. Returns the list of
   * what was deleted (or marked for deletion).
   */
  deleteCollection<T extends KubeObject = KubeObject>(res: ResourceInfo, namespace: string | undefined, listOpts?: ListOptions, opts?: DeleteOptions): Promise<KubeList<T>>;
  /** Starts a watch; events are delivered in order to `onEvent`. */
  watch<T extends KubeObject = KubeObject>(res: ResourceInfo, namespace: string | undefined, opts: WatchOptions, onEvent: (ev: WatchEvent<T>) => void): WatchHandle;
}

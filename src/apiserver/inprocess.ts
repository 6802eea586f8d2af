/**
 * The in-process Client: calls the API server's registry directly (no HTTP, no serialization on the
 * way in). It lives in the API server because it is the registry's own client: components get it
 * as a `Client` (src/client/client.ts) and never import this file. Same contract and errors (ApiError) as the HTTP client. Objects returned are private
 * copies the caller may keep — except from `listShared` / `watchShared` (`SharedReads`), which hand
 * out the watch cache's own deep-frozen objects; objects passed in are never retained or mutated.
 *
 * Watch resourceVersion: omitted = changes from now on (the Client contract); "" or "0" = Kubernetes'
 * wire semantics (ADDED for every current object first); "N" = changes after N (410 Gone when too old).
 */
import type { KubeList, KubeObject } from '../api/object.js';
import type { CreateSubresource, DeleteOptions, GetSubresource, ListOptions, PatchSubresource, PatchType, UpdateSubresource, WatchEvent, WatchHandle, WatchOptions, WriteOptions } from '../api/requests.js';
import type { ResourceInfo } from '../api/resources.js';
import type { Client, SharedReads } from '../client/client.js';
import type { Registry } from './registry/registry.js';

export class InProcessClient implements Client, SharedReads {
  constructor(private readonly registry: Registry) {}

  get<T extends KubeObject = KubeObject>(res: ResourceInfo, namespace: string | undefined, name: string, subresource?: GetSubresource): Promise<T> {
    return this.registry.get<T>(res, namespace, name, subresource);
  }

  list<T extends KubeObject = KubeObject>(res: ResourceInfo, namespace: string | undefined, opts?: ListOptions): Promise<KubeList<T>> {
    return this.registry.list<T>(res, namespace, opts);
  }

  /** The list with the watch cache's own frozen objects as items (see `SharedReads`). */
  listShared<T extends KubeObject = KubeObject>(res: ResourceInfo, namespace: string | undefined, opts?: ListOptions): Promise<KubeList<T>> {
    return this.registry.listShared<T>(res, namespace, opts);
  }

  create<T extends KubeObject = KubeObject>(res: ResourceInfo, namespace: string | undefined, obj: T, opts?: WriteOptions & { subresource?: CreateSubresource; name?: string }): Promise<T> {
    return this.registry.create<T>(res, namespace, obj, opts);
  }

  /** PUT; subresource may also be 'finalize' (namespaces/NAME/finalize). */
  update<T extends KubeObject = KubeObject>(res: ResourceInfo, namespace: string | undefined, obj: T, opts?: WriteOptions & { subresource?: UpdateSubresource }): Promise<T> {
    return this.registry.update<T>(res, namespace, obj, opts);
  }

  patch<T extends KubeObject = KubeObject>(res: ResourceInfo, namespace: string | undefined, name: string, type: PatchType, patch: unknown, opts?: WriteOptions & { subresource?: PatchSubresource }): Promise<T> {
    return this.registry.patch<T>(res, namespace, name, type, patch, opts);
  }

  delete<T extends KubeObject = KubeObject>(res: ResourceInfo, namespace: string | undefined, name: string, opts?: DeleteOptions): Promise<T> {
    return this.registry.delete<T>(res, namespace, name, opts);
  }

  /** DELETE on a collection: every object matching the selectors, each deleted as `delete` would. */
  deleteCollection<T extends KubeObject = KubeObject>(res: ResourceInfo, namespace: string | undefined, listOpts?: ListOptions, opts?: DeleteOptions): Promise<KubeList<T>> {
    return this.registry.deleteCollection<T>(res, namespace, listOpts, opts);
  }

  /** Starts a watch. A bad selector ends it at once: `done` rejects with the 400 ApiError. */
  watch<T extends KubeObject = KubeObject>(res: ResourceInfo, namespace: string | undefined, opts: WatchOptions, onEvent: (ev: WatchEvent<T>) => void): WatchHandle {
    return this.startWatch(res, namespace, opts, onEvent, false);
  }

  /** A watch whose event objects are the watch cache's own frozen objects (see `SharedReads`). */
  watchShared<T extends KubeObject = KubeObject>(res: ResourceInfo, namespace: string | undefined, opts: WatchOptions, onEvent: (ev: WatchEvent<T>) => void): WatchHandle {
    return this.startWatch(res, namespace, opts, onEvent, true);
  }

  private startWatch<T extends KubeObject>(res: ResourceInfo, namespace: string | undefined, opts: WatchOptions, onEvent: (ev: WatchEvent<T>) => void, shared: boolean): WatchHandle {
    try {
      return this.registry.watch<T>(res, namespace, opts, onEvent, { shared });
    } catch (e) {
      const done = Promise.reject(e);
      done.catch(() => {});
      return { stop: () => {}, done };
    }
  }
}

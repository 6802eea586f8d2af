/**
 * List+watch informer: keeps a local cache of one resource in step with the API and tells handlers
 * about adds, updates and deletes. Every controller, the node agent, the proxy and DNS build their
 * view with this (never by reading storage). On a watch failure (410 Gone, dropped connection) it
 * relists and delivers the difference, so handlers never miss a change.
 *
 * Invariants: cached objects are never mutated (copy before changing; with `sharedObjects` they are
 * the API server's frozen objects and a write throws); handlers run in event order;
 * `hasSynced()` is true only after the first full list has been delivered.
 */
import type { KubeList, KubeObject } from '../api/object.js';
import { objectKey } from '../api/object.js';
import type { ResourceInfo } from '../api/resources.js';
import { hasSharedReads, type Client, type ListOptions, type WatchEvent, type WatchHandle, type WatchOptions } from './client.js';

export interface InformerHandlers<T extends KubeObject> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T): void;
}

export interface InformerOptions<T extends KubeObject = KubeObject> {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Delay before relisting after a failed list or watch (ms). Default 500. */
  retryDelayMs?: number;
  /**
   * Applied to every listed or watched object before it is cached and handed to handlers, so a
   * component can keep only the fields it reads (client-go's SetTransform; CoreDNS keeps
   * trimmed Services and EndpointSlices this way). Must keep metadata.namespace, name and
   * resourceVersion.
   */
  transform?: (obj: T) => T;
  /**
   * Cache the API server's own deep-frozen objects instead of a private copy of each, when the
   * client can hand them out (in-process: `SharedReads`); otherwise ignored. Saves one copy per
   * listed object and per event (the controllers' informers over 100k Pods). Handlers and readers
   * must then never mutate cached objects — a write throws — and `transform` gets frozen input.
   */
  sharedObjects?: boolean;
}

export class Informer<T extends KubeObject = KubeObject> {
  private readonly cache = new Map<string, T>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private readonly syncWaiters: (() => void)[] = [];
  private watch?: WatchHandle;
  private synced = false;
  private stopped = true;
  private lastRV = '';
  private retryTimer?: NodeJS.Timeout;

  constructor(
    private readonly client: Client,
    readonly resource: ResourceInfo,
    private readonly opts: InformerOptions<T> = {},
  ) {}

  /** Registers handlers. Handlers added after sync get onAdd for every cached object. */
  addHandlers(h: InformerHandlers<T>): void {
    this.handlers.push(h);
    if (this.synced) for (const obj of this.cache.values()) h.onAdd?.(obj);
  }

  /** Starts list+watch. Resolves once the first list has been delivered. */
  async start(): Promise<void> {
    if (!this.stopped) return this.waitForSync();
    this.stopped = false;
    void this.run();
    return this.waitForSync();
  }

  /** Stops watching. The cache stays readable. */
  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.watch?.stop();
    this.watch = undefined;
    for (const w of this.syncWaiters.splice(0)) w();
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves when the informer has synced (or is stopped). */
  waitForSync(): Promise<void> {
    if (this.synced || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** The cached object for `namespace/name` (or `name`), if any. Do not mutate it. */
  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  /** All cached objects. Do not mutate them. */
  list(): T[] {
    return [...this.cache.values()];
  }

  /** Cached objects in one namespace. */
  listNamespace(namespace: string): T[] {
    return this.list().filter((o) => o.metadata?.namespace === namespace);
  }

  /** The resourceVersion of the last list or event seen. */
  get resourceVersion(): string {
    return this.lastRV;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.listAndWatch();
      } catch {
        // fall through to a relist after a short delay
      }
      if (this.stopped) return;
      await new Promise<void>((r) => { this.retryTimer = setTimeout(r, this.opts.retryDelayMs ?? 500); });
    }
  }

  /** Lists and applies the list. A method of its own so no frame keeps the listed items alive. */
  private async relist(): Promise<void> {
    const list = await this.fetchList({ labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector });
    if (this.stopped) return;
    const transform = this.opts.transform;
    this.replace(transform ? list.items.map(transform) : list.items);
    this.lastRV = list.metadata.resourceVersion ?? '';
  }

  private async listAndWatch(): Promise<void> {
    // The list must not stay reachable from this frame while it waits on the watch (a suspended
    // async function keeps its locals): with a transform, the untransformed items would live on.
    await this.relist();
    if (this.stopped) return;
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
    const watch = this.startWatch({
      labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector,
      resourceVersion: this.lastRV, allowWatchBookmarks: true,
    }, (ev) => {
      if (ev.type === 'BOOKMARK') {
        this.lastRV = ev.object.metadata?.resourceVersion ?? this.lastRV;
        return;
      }
      if (ev.type === 'ERROR') return; // the watch ends; `done` rejects and we relist
      const obj = this.opts.transform ? this.opts.transform(ev.object) : ev.object;
      this.lastRV = obj.metadata?.resourceVersion ?? this.lastRV;
      const key = objectKey(obj);
      const old = this.cache.get(key);
      if (ev.type === 'DELETED') {
        this.cache.delete(key);
        this.emit((h) => h.onDelete?.(old ?? obj));
      } else if (old) {
        this.cache.set(key, obj);
        this.emit((h) => h.onUpdate?.(old, obj));
      } else {
        this.cache.set(key, obj);
        this.emit((h) => h.onAdd?.(obj));
      }
    });
    this.watch = watch;
    await watch.done;
  }

  private fetchList(opts: ListOptions): Promise<KubeList<T>> {
    const c = this.client;
    return this.opts.sharedObjects && hasSharedReads(c)
      ? c.listShared<T>(this.resource, this.opts.namespace, opts)
      : c.list<T>(this.resource, this.opts.namespace, opts);
  }

  private startWatch(opts: WatchOptions, onEvent: (ev: WatchEvent<T>) => void): WatchHandle {
    const c = this.client;
    return this.opts.sharedObjects && hasSharedReads(c)
      ? c.watchShared<T>(this.resource, this.opts.namespace, opts, onEvent)
      : c.watch<T>(this.resource, this.opts.namespace, opts, onEvent);
  }

  /** Applies a full list: adds/updates what is new, deletes what vanished. */
  private replace(items: T[]): void {
    if (this.cache.size === 0) {
      // The first list (the common case, and the big one): everything is an add, nothing vanished.
      for (const obj of items) {
        this.cache.set(objectKey(obj), obj);
        this.emit((h) => h.onAdd?.(obj));
      }
      return;
    }
    const seen = new Set<string>();
    for (const obj of items) {
      const key = objectKey(obj);
      seen.add(key);
      const old = this.cache.get(key);
      // Unchanged (same resourceVersion): keep the instance handlers have seen, so an index that
      // holds instances (the controllers' shared informers) still finds it on the next update.
      if (old && old.metadata?.resourceVersion === obj.metadata?.resourceVersion) continue;
      this.cache.set(key, obj);
      if (!old) this.emit((h) => h.onAdd?.(obj));
      else this.emit((h) => h.onUpdate?.(old, obj));
    }
    for (const [key, old] of [...this.cache]) {
      if (!seen.has(key)) {
        this.cache.delete(key);
        this.emit((h) => h.onDelete?.(old));
      }
    }
  }

  private emit(fn: (h: InformerHandlers<T>) => void): void {
    for (const h of this.handlers) {
      try {
        fn(h);
      } catch (err) {
        // A handler bug must not stop the informer; report and go on.
        console.error(`informer ${this.resource.plural}: handler failed:`, err);
      }
    }
  }
}

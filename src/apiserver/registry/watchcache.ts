/**
 * The watch cache of one resource: every object in memory (parsed once, deep-frozen, with its
 * JSON), kept current by ONE storage watch, plus a bounded ring of recent events. Lists and watches of
 * the resource are served from here; many API watchers fan out from this one storage watch.
 *
 * Invariants: `objects` reflects every storage event up to `revision`; events in `ring` have
 * increasing revisions and cover every change after `windowStart`; every cached object (and every
 * event's `cur` / `prev`) is deep-frozen, so in-process readers may share it (shared reads) and an
 * accidental write throws instead of changing what every reader sees.
 */
import { notFound } from '../../api/errors.js';
import { deepCopy, deepFreeze, type KubeObject } from '../../api/object.js';
import type { ResourceInfo } from '../../api/resources.js';
import type { Storage, StorageEvent, StorageWatch } from '../../storage/storage.js';
import { cacheKeyFromStorageKey, objectCacheKey, resourcePrefix } from './keys.js';

/**
 * A cached object: the parsed object (frozen once in the cache) and its JSON with resourceVersion included.
 * The JSON is built on first use and kept, so loading a large store parses each value only once.
 */
export class CachedObject {
  private _json?: string;
  constructor(readonly obj: KubeObject, readonly rv: number) {}

  get json(): string {
    return (this._json ??= JSON.stringify(this.obj));
  }

  /**
   * A private, mutable copy for a reader: equal to `JSON.parse(json)` (the object came from
   * `JSON.parse`, so it holds nothing JSON would change), several times cheaper, and it does not
   * force building `json`, which only the HTTP layer writes out.
   */
  copy(): KubeObject {
    return deepCopy(this.obj);
  }
}

/** A change of the resource. `prev` is the object before it (absent for a create). */
export interface CacheEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly key: string;
  readonly cur: CachedObject;
  readonly prev?: CachedObject;
  readonly rv: number;
}

/** Decodes a stored value, stamping the revision as resourceVersion. */
export function decode(value: string, rv: number): CachedObject {
  const obj = JSON.parse(value) as KubeObject;
  obj.metadata = { ...obj.metadata, resourceVersion: String(rv) };
  return new CachedObject(obj, rv);
}

function frozen(c: CachedObject): CachedObject {
  deepFreeze(c.obj);
  return c;
}

export class WatchCache {
  readonly objects = new Map<string, CachedObject>();
  private ring: CacheEvent[] = [];
  /** Every event with rv > windowStart is in the ring. */
  windowStart = 0;
  /** Revision of the last storage event applied (or the load revision). */
  revision = 0;
  private readonly listeners = new Set<(ev: CacheEvent) => void>();
  private readonly resetListeners = new Set<(rv: number) => void>();
  private sw?: StorageWatch;
  private stopped = false;

  constructor(readonly info: ResourceInfo, private readonly storage: Storage, private readonly capacity = 1000) {}

  /** Loads every object and starts the storage watch. */
  async start(): Promise<void> {
    const prefix = resourcePrefix(this.info);
    const list = await this.storage.list(prefix);
    this.objects.clear();
    this.ring = [];
    for (const kv of list.items) {
      try {
        this.objects.set(cacheKeyFromStorageKey(this.info, kv.key), frozen(decode(kv.value, kv.modRevision)));
      } catch (err) {
        // One undecodable value must not keep the API server from starting.
        console.error(`watch cache ${this.info.plural}: skipping undecodable ${kv.key}:`, err);
      }
    }
    this.revision = list.revision;
    this.windowStart = list.revision;
    this.sw = this.storage.watch(prefix, list.revision, (ev) => this.apply(ev), () => this.relist());
  }

  /**
   * Storage lost events it cannot replay (etcd compacted past its watch): load everything again,
   * then tell every API watcher (410 Gone, the client re-lists), as kube-apiserver's cacher
   * terminates its watchers when its reflector re-lists.
   */
  private relist(): void {
    this.sw = undefined;
    const attempt = (): void => {
      if (this.stopped) return;
      this.start().then(() => {
        for (const l of [...this.resetListeners]) {
          try { l(this.revision); } catch (err) { console.error(`watch cache ${this.info.plural}: reset listener failed:`, err); }
        }
      }, (err) => {
        console.error(`watch cache ${this.info.plural}: re-list failed, retrying:`, err instanceof Error ? err.message : err);
        setTimeout(attempt, 1000);
      });
    };
    attempt();
  }

  stop(): void {
    this.stopped = true;
    this.sw?.stop();
    this.listeners.clear();
    this.resetListeners.clear();
  }

  /** Called after the cache re-listed (its history is gone); returns the unsubscribe function. */
  onReset(fn: (rv: number) => void): () => void {
    this.resetListeners.add(fn);
    return () => this.resetListeners.delete(fn);
  }

  /** The cached object `namespace/name` (namespace ignored for cluster-scoped resources). */
  get(namespace: string | undefined, name: string): CachedObject | undefined {
    return this.objects.get(objectCacheKey(this.info, namespace, name));
  }

  /** Subscribes to live events (delivered synchronously — listeners must not write). */
  subscribe(fn: (ev: CacheEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Retained events with rv > `from`; undefined when `from` is older than the window (410). */
  since(from: number): CacheEvent[] | undefined {
    if (from < this.windowStart) return undefined;
    return this.ring.filter((e) => e.rv > from);
  }

  /** Forgets retained events up to `rv` (API-level compaction). */
  compact(rv: number): void {
    if (rv <= this.windowStart) return;
    this.ring = this.ring.filter((e) => e.rv > rv);
    this.windowStart = Math.min(rv, this.revision);
  }

  private apply(ev: StorageEvent): void {
    try {
      this.applyUnsafe(ev);
    } catch (err) {
      // A value that is not JSON (written by something else) must not break the writer or the cache.
      console.error(`watch cache ${this.info.plural}: cannot apply event for ${ev.kv.key}:`, err);
    }
  }

  private applyUnsafe(ev: StorageEvent): void {
    const key = cacheKeyFromStorageKey(this.info, ev.kv.key);
    const prev = this.objects.get(key);
    let ce: CacheEvent;
    if (ev.type === 'delete') {
      // The deleted object as last stored, stamped with the delete's revision (as Kubernetes sends it).
      const cur = frozen(prev
        ? new CachedObject({ ...prev.obj, metadata: { ...prev.obj.metadata, resourceVersion: String(ev.revision) } }, ev.revision)
        : decode(ev.kv.value, ev.revision));
      this.objects.delete(key);
      ce = { type: 'DELETED', key, cur, prev, rv: ev.revision };
    } else {
      const cur = frozen(decode(ev.kv.value, ev.kv.modRevision));
      this.objects.set(key, cur);
      ce = { type: prev ? 'MODIFIED' : 'ADDED', key, cur, prev, rv: ev.revision };
    }
    this.revision = ev.revision;
    this.ring.push(ce);
    if (this.ring.length > this.capacity * 1.25) {
      const drop = this.ring.length - this.capacity;
      this.windowStart = this.ring[drop - 1].rv;
      this.ring = this.ring.slice(drop);
    }
    for (const l of this.listeners) {
      // The write has committed: a failing listener must not turn it into an error for the writer.
      try {
        l(ce);
      } catch (err) {
        console.error(`watch cache ${this.info.plural}: listener failed:`, err);
      }
    }
  }
}

/** The watch caches of every served resource: loaded together at start, stopped together. */
export class WatchCaches {
  private readonly caches = new Map<ResourceInfo, WatchCache>();

  constructor(private readonly storage: Storage, private readonly capacity = 1000) {}

  /** Loads each resource's cache from storage and starts its storage watch. */
  async start(resources: readonly ResourceInfo[]): Promise<void> {
    await Promise.all(resources.map((info) => this.add(info)));
  }

  /**
   * Starts the cache of one more resource (a custom resource whose CRD was established); a resource
   * already cached (another version of it) shares that cache.
   */
  async add(info: ResourceInfo): Promise<void> {
    if (this.find(info)) return;
    const c = new WatchCache(info, this.storage, this.capacity);
    this.caches.set(info, c);
    try {
      await c.start();
    } catch (e) {
      this.caches.delete(info);
      c.stop();
      throw e;
    }
  }

  /** Stops and forgets the cache of `info` (every version of it). */
  remove(info: ResourceInfo): void {
    for (const [k, c] of [...this.caches]) {
      if (k.plural === info.plural && k.group === info.group) { c.stop(); this.caches.delete(k); }
    }
  }

  private find(info: ResourceInfo): WatchCache | undefined {
    return this.caches.get(info) ?? [...this.caches.entries()].find(([k]) => k.plural === info.plural && k.group === info.group)?.[1];
  }

  /** The cache of `info` (matched by identity, else by group and plural); 404 when it is not served. */
  of(info: ResourceInfo): WatchCache {
    const c = this.find(info);
    if (!c) throw notFound({ group: info.group, plural: info.plural }, '');
    return c;
  }

  /** Forgets retained events up to `rev` in every cache. */
  compact(rev: number): void {
    for (const c of this.caches.values()) c.compact(rev);
  }

  /** Stops every storage watch. */
  stop(): void {
    for (const c of this.caches.values()) c.stop();
  }
}

/**
 * The read side of the registry: get, list and watch, all served from the watch caches (storage is
 * never read on a request). Lists page with limit/continue over the cache's sorted keys; watches fan
 * out from the cache's one storage watch (watcher.ts).
 */
import { badRequest, gone, notFound, serviceUnavailable } from '../../api/errors.js';
import type { KubeList, KubeObject } from '../../api/object.js';
import type { GetSubresource, ListOptions, WatchEvent, WatchOptions } from '../../api/requests.js';
import { groupVersion, type ResourceInfo } from '../../api/resources.js';
import { parseFieldSelector, parseLabelSelector } from '../../api/selectors.js';
import type { Storage } from '../../storage/storage.js';
import { toScale } from './scale.js';
import type { Strategy } from './strategy.js';
import { ApiWatcher } from './watcher.js';
import type { CachedObject, WatchCache, WatchCaches } from './watchcache.js';

interface ContinueToken { rv: number; start: string }

function encodeContinue(t: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: t.rv, start: t.start })).toString('base64url');
}

function decodeContinue(s: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as { rv?: unknown; start?: unknown };
    if (typeof t.rv !== 'number' || typeof t.start !== 'string') throw new Error('bad token');
    return { rv: t.rv, start: t.start };
  } catch {
    throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
}

export interface ReadsOptions {
  storage: Storage;
  caches: WatchCaches;
  strategyOf: (info: ResourceInfo) => Strategy;
  /** Interval of BOOKMARK events for watches that allow them. */
  bookmarkMs: number;
}

export class Reads {
  private readonly watchers = new Set<ApiWatcher>();

  constructor(private readonly opts: ReadsOptions) {}

  private nsOf(info: ResourceInfo, ns: string | undefined): string | undefined {
    return info.namespaced ? (ns || undefined) : undefined;
  }

  /**
   * Gets and lists come from the watch caches; while storage says it cannot serve (etcd
   * unreachable) the caches may be stale, so they answer 503 with the reason instead, as
   * kube-apiserver's quorum reads fail when etcd does. Open watches stay open and resume.
   */
  private checkAvailable(): void {
    const why = this.opts.storage.unavailable?.();
    if (why !== undefined) throw serviceUnavailable(`storage is unavailable: ${why}`);
  }

  get(info: ResourceInfo, namespace: string | undefined, name: string, subresource?: GetSubresource): KubeObject {
    this.checkAvailable();
    if (info.namespaced && !namespace) throw badRequest('a namespace must be specified to get a namespaced resource');
    const cur = this.opts.caches.of(info).get(this.nsOf(info, namespace), name);
    if (!cur) throw notFound(info, name);
    if (subresource === 'scale') {
      if (!info.subresources.includes('scale')) throw notFound(info, name);
      return toScale(cur.obj);
    }
    return cur.copy();
  }

  /** Builds the match function of a list/watch (throws 400 on bad selectors). */
  private filterFor(info: ResourceInfo, namespace: string | undefined, opts: { labelSelector?: string; fieldSelector?: string }): (o: KubeObject) => boolean {
    const ls = parseLabelSelector(opts.labelSelector);
    const fs = parseFieldSelector(opts.fieldSelector);
    const strategy = this.opts.strategyOf(info);
    for (const r of fs.requirements) {
      if (!strategy.selectableFields.includes(r.field)) throw badRequest(`field label not supported: ${r.field}`);
    }
    const ns = this.nsOf(info, namespace);
    return (o) => (ns === undefined || o.metadata?.namespace === ns)
      && (ls.empty() || ls.matches(o.metadata?.labels))
      && (fs.empty() || fs.matches((f) => strategy.fieldValue(o, f)));
  }

  /** A list whose items are made by `item` from each cached object (a private copy, or the shared frozen one). */
  list<T extends KubeObject>(info: ResourceInfo, namespace: string | undefined, opts: ListOptions, item: (c: CachedObject) => KubeObject): KubeList<T> {
    this.checkAvailable();
    const items = this.listCached(info, namespace, opts);
    return { apiVersion: groupVersion(info), kind: info.listKind, metadata: items.metadata, items: items.objects.map((c) => item(c) as T) };
  }

  /**
   * The list as cached objects (JSON included) — for the HTTP layer, which can write `json` strings
   * straight to the response instead of serializing again.
   */
  listCached(info: ResourceInfo, namespace: string | undefined, opts: ListOptions = {}): { objects: CachedObject[]; metadata: KubeList['metadata'] } {
    const filter = this.filterFor(info, namespace, opts);
    const cache = this.opts.caches.of(info);
    let start: string | undefined;
    let rv = this.opts.storage.revision();
    if (opts.continue) {
      const t = decodeContinue(opts.continue);
      start = t.start;
      rv = t.rv;
    }
    const ns = this.nsOf(info, namespace);
    const keys: string[] = [];
    for (const k of cache.objects.keys()) {
      if (ns !== undefined && !k.startsWith(`${ns}/`)) continue;
      if (start !== undefined && k <= start) continue;
      keys.push(k);
    }
    keys.sort();
    const limit = opts.limit && opts.limit > 0 ? opts.limit : Infinity;
    const objects: CachedObject[] = [];
    let i = 0;
    for (; i < keys.length && objects.length < limit; i++) {
      const c = cache.objects.get(keys[i])!;
      if (filter(c.obj)) objects.push(c);
    }
    const metadata: KubeList['metadata'] = { resourceVersion: String(rv) };
    if (objects.length >= limit && i < keys.length) {
      let remaining = 0;
      for (let j = i; j < keys.length; j++) if (filter(cache.objects.get(keys[j])!.obj)) remaining++;
      if (remaining > 0) {
        metadata.continue = encodeContinue({ rv, start: keys[i - 1] });
        if (!opts.labelSelector && !opts.fieldSelector) metadata.remainingItemCount = remaining;
      }
    }
    return { objects, metadata };
  }

  /**
   * Starts a watch. resourceVersion: undefined = changes from now on; "" or "0" = ADDED for every
   * current object, then changes (Kubernetes' semantics for an unset/0 RV on the wire); "N" = every
   * change after N, or an ERROR event + 410 Gone when N is older than the retained history.
   * sendInitialEvents (the watch-list protocol): true = ADDED for every current object, then the
   * initial-events-end BOOKMARK when bookmarks are allowed (the state is the current one, at least
   * as new as any RV given); false = no synthetic events, changes after the RV (or from now).
   * Bad selectors throw a 400 ApiError synchronously. `shared`: event objects are the watch cache's
   * own frozen objects instead of private copies.
   */
  watch<T extends KubeObject>(info: ResourceInfo, namespace: string | undefined, opts: WatchOptions, onEvent: (ev: WatchEvent<T>) => void, shared: boolean): ApiWatcher {
    const filter = this.filterFor(info, namespace, opts);
    const cache = this.opts.caches.of(info);
    const w = new ApiWatcher(info, filter, onEvent as (ev: WatchEvent) => void, shared);
    const rvText = opts.resourceVersion;
    const initial = opts.sendInitialEvents ?? (rvText === '' || rvText === '0');
    let replay: ReturnType<WatchCache['since']> = [];
    if (!opts.sendInitialEvents && rvText !== undefined && rvText !== '' && rvText !== '0') {
      const rv = Number(rvText);
      if (!Number.isInteger(rv) || rv < 0) throw badRequest(`invalid resource version: ${JSON.stringify(rvText)}`);
      replay = cache.since(rv);
      if (replay === undefined) {
        w.fail(gone(`too old resource version: ${rv} (${cache.windowStart})`));
        return w;
      }
    }
    // Subscribe and replay synchronously: no event can slip between them.
    const unsubscribe = cache.subscribe((ev) => w.handle(ev));
    // The cache re-listed after storage lost events (etcd compacted past its watch): 410, the client re-lists.
    const unreset = cache.onReset((rv) => w.fail(gone(`too old resource version: the watch cache was re-listed at ${rv}`)));
    this.watchers.add(w);
    w.attach(() => { unsubscribe(); unreset(); this.watchers.delete(w); }, {
      timeoutSeconds: opts.timeoutSeconds,
      bookmarkMs: opts.allowWatchBookmarks ? this.opts.bookmarkMs : undefined,
      currentRevision: () => cache.revision,
    });
    if (initial) w.initial(cache.objects.values());
    if (opts.sendInitialEvents && opts.allowWatchBookmarks) w.initialEventsEnd(cache.revision);
    for (const ev of replay) w.handle(ev);
    return w;
  }

  /** Number of open API watches (for tests and metrics). */
  watchCount(): number {
    return this.watchers.size;
  }

  /** Ends every open watch. */
  close(): void {
    for (const w of [...this.watchers]) w.end();
  }
}

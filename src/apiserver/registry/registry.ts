/**
 * The registry: Kubernetes REST semantics for every resource in src/api/resources.ts, on top of a
 * Storage. One generic store with small per-kind rules (strategy.ts); the in-process Client and the
 * HTTP layer both call it. Every failure is an ApiError.
 *
 * Reads (get/list/watch) are served from per-resource watch caches; writes go to storage with a
 * mod-revision precondition (optimistic concurrency) and the cache catches up synchronously from
 * the storage watch before the write returns, so a client always reads its own writes.
 */
import type { Namespace, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import {
  ApiError, alreadyExists, badRequest, conflict, forbidden, gone, internalError, invalid, methodNotAllowed, notFound,
  serviceUnavailable,
} from '../../api/errors.js';
import { deepCopy, fieldsOf, type KubeList, type KubeObject } from '../../api/object.js';
import { R, groupVersion, type ResourceInfo } from '../../api/resources.js';
import { parseFieldSelector, parseLabelSelector } from '../../api/selectors.js';
import type { DeleteOptions, ListOptions, PatchType, WatchEvent, WatchOptions, WriteOptions } from '../../client/client.js';
import { isStorageError, type Storage } from '../../storage/storage.js';
import type { ServiceIPs } from '../ipallocator/service.js';
import { applyDefaults } from '../semantics/defaults.js';
import { validateDefaulted } from '../semantics/validation.js';
import { objectStorageKey } from './keys.js';
import { generateName, newUID, rfc3339 } from './meta.js';
import { applyPatch } from './patch.js';
import { toScale, type Scale } from './scale.js';
import { fieldValue, hasStatusSubresource, initialStatus, specFingerprint, supportedFields, tracksGeneration } from './strategy.js';
import { ApiWatcher } from './watcher.js';
import { WatchCache, decode, type CachedObject } from './watchcache.js';

export interface RegistryOptions {
  storage: Storage;
  /** Clock for creationTimestamp/deletionTimestamp. Default: () => new Date(). */
  clock?: () => Date;
  /** ClusterIP allocation for Services (absent: Services get no IP — unit tests only). */
  serviceIPs?: ServiceIPs;
  /** Events retained per resource for watches from an older resourceVersion. Default 1000. */
  watchCacheSize?: number;
  /** Interval of BOOKMARK events for watches that allow them. Default 10000 ms. */
  bookmarkIntervalMs?: number;
}

/** Update-only subresources (besides the Client's status/scale): namespaces/finalize. */
export type UpdateSubresource = 'status' | 'scale' | 'finalize';

const MAX_RETRIES = 8;

/** ObjectMeta without the readonly modifiers, for the server's own private copies. */
type MutableMeta = { -readonly [K in keyof ObjectMeta]: ObjectMeta[K] };
/** A KubeObject whose metadata and fields the server may set (private copies only). */
type MutableObject = { apiVersion?: string; kind?: string; metadata?: MutableMeta };

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Rejects bodies whose shape Kubernetes' decoder would refuse (400), before any semantics run. */
function checkShape(info: ResourceInfo, obj: unknown): asserts obj is KubeObject {
  const err = (msg: string) => badRequest(`${info.kind} in version "${info.version}" cannot be handled as a ${info.kind}: ${msg}`);
  if (!isObject(obj)) throw err(`json: cannot unmarshal ${Array.isArray(obj) ? 'array' : obj === null ? 'null' : typeof obj} into Go value of type struct`);
  const md = obj.metadata;
  if (md !== undefined && md !== null && !isObject(md)) throw err('json: cannot unmarshal into Go struct field .metadata of type v1.ObjectMeta');
  if (isObject(md)) {
    for (const f of ['name', 'namespace', 'generateName', 'resourceVersion', 'uid']) {
      if (md[f] !== undefined && md[f] !== null && typeof md[f] !== 'string') throw err(`json: cannot unmarshal ${typeof md[f]} into Go struct field ObjectMeta.metadata.${f} of type string`);
    }
    for (const f of ['labels', 'annotations']) {
      const m = md[f];
      if (m === undefined || m === null) continue;
      if (!isObject(m) || Object.values(m).some((v) => typeof v !== 'string')) throw err(`json: cannot unmarshal into Go struct field ObjectMeta.metadata.${f} of type map[string]string`);
    }
    if (md.finalizers !== undefined && md.finalizers !== null && (!Array.isArray(md.finalizers) || md.finalizers.some((v) => typeof v !== 'string'))) {
      throw err('json: cannot unmarshal into Go struct field ObjectMeta.metadata.finalizers of type []string');
    }
    if (md.ownerReferences !== undefined && md.ownerReferences !== null && (!Array.isArray(md.ownerReferences) || md.ownerReferences.some((v) => !isObject(v)))) {
      throw err('json: cannot unmarshal into Go struct field ObjectMeta.metadata.ownerReferences of type []v1.OwnerReference');
    }
  }
  for (const f of ['spec', 'status']) {
    const v = obj[f];
    if (v !== undefined && v !== null && !isObject(v)) throw err(`json: cannot unmarshal ${Array.isArray(v) ? 'array' : typeof v} into Go struct field ${info.kind}.${f}`);
  }
  if (obj.apiVersion !== undefined && obj.apiVersion !== null && typeof obj.apiVersion !== 'string') throw err('json: cannot unmarshal apiVersion');
  if (obj.kind !== undefined && obj.kind !== null && typeof obj.kind !== 'string') throw err('json: cannot unmarshal kind');
  if (obj.apiVersion && obj.apiVersion !== groupVersion(info)) {
    throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${groupVersion(info)})`);
  }
  if (obj.kind && obj.kind !== info.kind) {
    throw badRequest(`${String(obj.kind)} in version "${info.version}" cannot be handled as a ${info.kind}: no kind "${String(obj.kind)}" is registered for version "${groupVersion(info)}"`);
  }
}

/** The stored form: no resourceVersion (it is the storage revision, stamped on read). */
function encode(obj: KubeObject): string {
  if (obj.metadata?.resourceVersion === undefined) return JSON.stringify(obj);
  const { resourceVersion: _rv, ...md } = obj.metadata;
  return JSON.stringify({ ...obj, metadata: md });
}

function copy<T>(o: T): T {
  return deepCopy(o);
}

/** Wraps unexpected exceptions (bugs, or semantics code choking on odd input) into a 500 Status. */
async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ApiError) throw e;
    if (isStorageError(e, 'Unavailable')) throw serviceUnavailable(e.message);
    throw internalError(e instanceof Error ? e.message : String(e));
  }
}

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

export class Registry {
  private readonly storage: Storage;
  private readonly clock: () => Date;
  private readonly caches = new Map<ResourceInfo, WatchCache>();
  private readonly watchers = new Set<ApiWatcher>();
  private readonly bookmarkMs: number;
  readonly serviceIPs?: ServiceIPs;

  constructor(private readonly opts: RegistryOptions) {
    this.storage = opts.storage;
    this.clock = opts.clock ?? (() => new Date());
    this.serviceIPs = opts.serviceIPs;
    this.bookmarkMs = opts.bookmarkIntervalMs ?? 10_000;
  }

  /** Loads every resource's watch cache from storage. */
  async start(resources: readonly ResourceInfo[]): Promise<void> {
    await Promise.all(resources.map(async (info) => {
      const c = new WatchCache(info, this.storage, this.opts.watchCacheSize ?? 1000);
      await c.start();
      this.caches.set(info, c);
    }));
  }

  /** Ends every watch and storage subscription (storage itself is closed by its owner). */
  close(): void {
    for (const w of [...this.watchers]) w.end();
    for (const c of this.caches.values()) c.stop();
  }

  /** The current storage revision (what a list reports as its resourceVersion). */
  revision(): number {
    return this.storage.revision();
  }

  /** Forgets history up to `rev`: watches from an older resourceVersion get 410 Gone. */
  async compact(rev: number): Promise<void> {
    await this.storage.compact(rev);
    for (const c of this.caches.values()) c.compact(rev);
  }

  /**
   * Reads are served from the watch caches; when storage says it cannot serve (etcd unreachable), the
   * caches may be stale, so reads answer 503 with the reason instead, as kube-apiserver's quorum reads
   * fail when etcd does. Open watches stay open and resume when etcd returns.
   */
  checkAvailable(): void {
    const why = this.storage.unavailable?.();
    if (why !== undefined) throw serviceUnavailable(`storage is unavailable: ${why}`);
  }

  /** The watch cache of `info` (read-only use: lists of cached objects for in-process consumers). */
  cache(info: ResourceInfo): WatchCache {
    const c = this.caches.get(info) ?? [...this.caches.entries()].find(([k]) => k.plural === info.plural && k.group === info.group)?.[1];
    if (!c) throw notFound({ group: info.group, plural: info.plural }, '');
    return c;
  }

  private nsOf(info: ResourceInfo, ns: string | undefined): string | undefined {
    return info.namespaced ? (ns || undefined) : undefined;
  }

  private cacheKey(info: ResourceInfo, ns: string | undefined, name: string): string {
    return info.namespaced ? `${ns ?? ''}/${name}` : name;
  }

  /**
   * What a write returns: a private copy of the stored object. The watch cache has already applied
   * the write (storage delivers its event before the write resolves), so its entry is copied rather
   * than parsing the stored value a second time; decoding is the fallback should it be newer.
   */
  private written(info: ResourceInfo, ns: string | undefined, name: string, kv: { value: string; modRevision: number }): KubeObject {
    const c = this.cache(info).objects.get(this.cacheKey(info, ns, name));
    return c && c.rv === kv.modRevision ? c.copy() : decode(kv.value, kv.modRevision).obj;
  }

  private current(info: ResourceInfo, ns: string | undefined, name: string): CachedObject {
    const c = this.cache(info).objects.get(this.cacheKey(info, ns, name));
    if (!c) throw notFound(info, name);
    return c;
  }

  // ---------------------------------------------------------------- reads

  async get<T extends KubeObject = KubeObject>(info: ResourceInfo, namespace: string | undefined, name: string, subresource?: 'status' | 'scale'): Promise<T> {
    return guard(async () => {
      this.checkAvailable();
      if (info.namespaced && !namespace) throw badRequest('a namespace must be specified to get a namespaced resource');
      const cur = this.current(info, this.nsOf(info, namespace), name);
      if (subresource === 'scale') {
        if (!info.subresources.includes('scale')) throw notFound(info, name);
        return toScale(cur.obj) as T;
      }
      return cur.copy() as T;
    });
  }

  /** Builds the match function of a list/watch (throws 400 on bad selectors). */
  private filterFor(info: ResourceInfo, namespace: string | undefined, opts: { labelSelector?: string; fieldSelector?: string }): (o: KubeObject) => boolean {
    const ls = parseLabelSelector(opts.labelSelector);
    const fs = parseFieldSelector(opts.fieldSelector);
    const supported = supportedFields(info);
    for (const r of fs.requirements) {
      if (!supported.includes(r.field)) throw badRequest(`field label not supported: ${r.field}`);
    }
    const ns = this.nsOf(info, namespace);
    return (o) => (ns === undefined || o.metadata?.namespace === ns)
      && (ls.empty() || ls.matches(o.metadata?.labels))
      && (fs.empty() || fs.matches((f) => fieldValue(info, o, f)));
  }

  async list<T extends KubeObject = KubeObject>(info: ResourceInfo, namespace: string | undefined, opts: ListOptions = {}): Promise<KubeList<T>> {
    return this.listOf<T>(info, namespace, opts, (c) => c.copy());
  }

  /**
   * The list with the watch cache's own objects as items: deep-frozen and shared, no copy per item
   * (in-process informers; see `SharedReads` in src/client/client.ts).
   */
  async listShared<T extends KubeObject = KubeObject>(info: ResourceInfo, namespace: string | undefined, opts: ListOptions = {}): Promise<KubeList<T>> {
    return this.listOf<T>(info, namespace, opts, (c) => c.obj);
  }

  private listOf<T extends KubeObject>(info: ResourceInfo, namespace: string | undefined, opts: ListOptions, item: (c: CachedObject) => KubeObject): Promise<KubeList<T>> {
    return guard(async () => {
      this.checkAvailable();
      const items = this.listCached(info, namespace, opts);
      return { apiVersion: groupVersion(info), kind: info.listKind, metadata: items.metadata, items: items.objects.map((c) => item(c) as T) };
    });
  }

  /**
   * The list as cached objects (JSON included) — for the HTTP layer, which can write `json` strings
   * straight to the response instead of serializing again.
   */
  listCached(info: ResourceInfo, namespace: string | undefined, opts: ListOptions = {}): { objects: CachedObject[]; metadata: KubeList['metadata'] } {
    const filter = this.filterFor(info, namespace, opts);
    const cache = this.cache(info);
    let start: string | undefined;
    let rv = this.storage.revision();
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

  // ---------------------------------------------------------------- watch

  /**
   * Starts a watch. resourceVersion: undefined = changes from now on; "" or "0" = ADDED for every
   * current object, then changes (Kubernetes' semantics for an unset/0 RV on the wire); "N" = every
   * change after N, or an ERROR event + 410 Gone when N is older than the retained history.
   * Bad selectors throw a 400 ApiError synchronously. `shared`: event objects are the watch cache's
   * own frozen objects instead of private copies.
   */
  watch<T extends KubeObject = KubeObject>(info: ResourceInfo, namespace: string | undefined, opts: WatchOptions, onEvent: (ev: WatchEvent<T>) => void, { shared = false } = {}): ApiWatcher {
    const filter = this.filterFor(info, namespace, opts);
    const cache = this.cache(info);
    const w = new ApiWatcher(info, filter, onEvent as (ev: WatchEvent) => void, shared);
    const rvText = opts.resourceVersion;
    let replay: ReturnType<WatchCache['since']> = [];
    if (rvText !== undefined && rvText !== '' && rvText !== '0') {
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
      bookmarkMs: opts.allowWatchBookmarks ? this.bookmarkMs : undefined,
      currentRevision: () => cache.revision,
    });
    if (rvText === '' || rvText === '0') w.initial(cache.objects.values());
    for (const ev of replay) w.handle(ev);
    return w;
  }

  /** Number of open API watches (for tests and metrics). */
  watchCount(): number {
    return this.watchers.size;
  }

  // ---------------------------------------------------------------- writes

  private admit(info: ResourceInfo, obj: KubeObject, old?: KubeObject): void {
    applyDefaults(info, obj);
    const errs = validateDefaulted(info, obj, old);
    if (errs.length) throw invalid(info.kind, info.group, obj.metadata?.name ?? '', errs);
  }

  private checkNamespace(info: ResourceInfo, ns: string, name: string): void {
    const nsObj = this.cache(R.namespaces).objects.get(ns)?.obj as Namespace | undefined;
    if (!nsObj) throw notFound(R.namespaces, ns);
    if (nsObj.metadata?.deletionTimestamp || nsObj.status?.phase === 'Terminating') {
      const q = info.group ? `${info.plural}.${info.group}` : info.plural;
      throw new ApiError(403, 'Forbidden', `${q} "${name}" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`,
        { name, group: info.group || undefined, kind: info.plural, causes: [{ reason: 'NamespaceTerminating', message: `namespace ${ns} is being terminated`, field: 'metadata.namespace' }] });
    }
  }

  /** Resolves the namespace of a write from the URL and the body (400 when they disagree). */
  private writeNamespace(info: ResourceInfo, urlNs: string | undefined, obj: KubeObject): string | undefined {
    if (!info.namespaced) return undefined;
    const bodyNs = obj.metadata?.namespace || undefined;
    if (urlNs && bodyNs && urlNs !== bodyNs) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    return urlNs || bodyNs || 'default';
  }

  async create<T extends KubeObject = KubeObject>(info: ResourceInfo, namespace: string | undefined, objIn: T, opts: WriteOptions & { subresource?: 'binding'; name?: string } = {}): Promise<T> {
    return guard(async () => {
      if (opts.subresource === 'binding') return this.bind(info, namespace, objIn, opts) as Promise<T>;
      checkShape(info, objIn);
      const ns = this.writeNamespace(info, namespace, objIn);
      const md = objIn.metadata ?? {};
      const generated = !md.name && !!md.generateName;
      for (let attempt = 0; ; attempt++) {
        const name = generated ? generateName(md.generateName!) : md.name;
        if (!name) {
          throw invalid(info.kind, info.group, '', [{ type: 'FieldValueRequired', field: 'metadata.name', detail: 'name or generateName is required' }]);
        }
        if (ns !== undefined) this.checkNamespace(info, ns, name);
        try {
          return await this.createOnce(info, ns, name, objIn, opts) as T;
        } catch (e) {
          // A generated name that collided: Kubernetes retries with a new suffix.
          if (generated && attempt < MAX_RETRIES && e instanceof ApiError && e.reason === 'AlreadyExists') continue;
          throw e;
        }
      }
    });
  }

  /** One attempt at creating `objIn` as `name`; works on its own copy, so a retry starts clean. */
  private async createOnce(info: ResourceInfo, ns: string | undefined, name: string, objIn: KubeObject, opts: WriteOptions): Promise<KubeObject> {
    const obj = copy(objIn) as MutableObject;
    obj.apiVersion = groupVersion(info);
    obj.kind = info.kind;
    const md = (obj.metadata ??= {});
    md.name = name;
    if (ns !== undefined) md.namespace = ns; else delete md.namespace;
    md.uid = newUID();
    md.creationTimestamp = rfc3339(this.clock());
    delete md.resourceVersion;
    delete md.deletionTimestamp;
    delete md.deletionGracePeriodSeconds;
    delete md.selfLink;
    if (tracksGeneration(info)) md.generation = 1; else delete md.generation;
    const o = fieldsOf(obj);
    if (hasStatusSubresource(info) || info.plural === 'namespaces') {
      const st = initialStatus(info, obj);
      if (st === undefined) delete o.status; else o.status = st;
    }
    if (info.plural === 'namespaces') {
      // The namespace lifecycle finalizer (Kubernetes' namespace strategy PrepareForCreate).
      o.spec = { ...(isObject(o.spec) ? o.spec : {}), finalizers: ['kubernetes'] };
    }
    this.admit(info, obj);
    const key = objectStorageKey(info, ns, name);
    if (this.cache(info).objects.has(this.cacheKey(info, ns, name))) throw alreadyExists(info, name);
    let undo = async (): Promise<void> => {};
    if (info.plural === 'services' && this.serviceIPs) undo = await this.serviceIPs.allocateForCreate(obj as Service, { dryRun: opts.dryRun === 'All' });
    if (opts.dryRun === 'All') {
      await undo();
      return obj;
    }
    try {
      const kv = await this.storage.create(key, encode(obj));
      return this.written(info, ns, name, kv);
    } catch (e) {
      await undo().catch((err) => console.error(`registry: releasing the ClusterIP of failed create ${key}:`, err));
      if (isStorageError(e, 'KeyExists')) throw alreadyExists(info, name);
      throw e;
    }
  }

  async update<T extends KubeObject = KubeObject>(info: ResourceInfo, namespace: string | undefined, objIn: T, opts: WriteOptions & { subresource?: UpdateSubresource; name?: string } = {}): Promise<T> {
    return guard(async () => {
      if (opts.subresource === 'scale') return this.updateScale(info, namespace, objIn as Scale, opts) as Promise<T>;
      if (opts.subresource === 'finalize' && info.plural !== 'namespaces') throw notFound(info, opts.name ?? '');
      if (opts.subresource && !info.subresources.includes(opts.subresource)) throw notFound(info, opts.name ?? objIn?.metadata?.name ?? '');
      checkShape(info, objIn);
      const name = objIn.metadata?.name ?? opts.name;
      if (opts.name && objIn.metadata?.name && opts.name !== objIn.metadata.name) {
        throw badRequest(`the name of the object (${objIn.metadata.name}) does not match the name on the URL (${opts.name})`);
      }
      if (!name) throw badRequest('name is required for update');
      const ns = this.writeNamespace(info, namespace, objIn);
      const precondition = objIn.metadata?.resourceVersion || undefined;
      for (let attempt = 0; ; attempt++) {
        const cur = this.current(info, ns, name);
        if (precondition !== undefined && precondition !== String(cur.rv)) throw conflict(info, name);
        try {
          return await this.updateFrom(info, ns, name, cur, objIn, opts.subresource, opts) as T;
        } catch (e) {
          if (precondition === undefined && attempt < MAX_RETRIES && isStorageError(e, 'Conflict')) continue;
          if (isStorageError(e, 'Conflict')) throw conflict(info, name);
          if (isStorageError(e, 'KeyNotFound')) throw notFound(info, name);
          throw e;
        }
      }
    });
  }

  /**
   * Computes the new object from the stored one (`cur`) and the input, then writes it with `cur`'s
   * revision as precondition (StorageError('Conflict') when someone wrote in between).
   */
  private async updateFrom(info: ResourceInfo, ns: string | undefined, name: string, cur: CachedObject, input: KubeObject, sub: UpdateSubresource | undefined, opts: WriteOptions): Promise<KubeObject> {
    const old = cur.obj;
    let next: KubeObject;
    if (sub === 'status') {
      next = copy(old);
      fieldsOf(next).status = copy(fieldsOf(input).status);
    } else if (sub === 'finalize') {
      next = copy(old);
      const spec = fieldsOf(input).spec as { finalizers?: string[] } | undefined;
      fieldsOf(next).spec = { ...(fieldsOf(old).spec as object), finalizers: spec?.finalizers ?? [] };
    } else {
      const n = copy(input) as MutableObject;
      next = n;
      n.apiVersion = groupVersion(info);
      n.kind = info.kind;
      const md = (n.metadata ??= {});
      const omd = old.metadata ?? {};
      md.name = omd.name;
      if (ns !== undefined) md.namespace = ns; else delete md.namespace;
      md.uid = omd.uid;
      md.creationTimestamp = omd.creationTimestamp;
      if (omd.deletionTimestamp) md.deletionTimestamp = omd.deletionTimestamp; else delete md.deletionTimestamp;
      if (omd.deletionGracePeriodSeconds !== undefined) md.deletionGracePeriodSeconds = omd.deletionGracePeriodSeconds; else delete md.deletionGracePeriodSeconds;
      delete md.selfLink;
      if (hasStatusSubresource(info)) {
        const st = fieldsOf(old).status;
        if (st === undefined) delete fieldsOf(next).status; else fieldsOf(next).status = copy(st);
      }
      if (info.plural === 'namespaces') {
        // spec.finalizers changes only through the finalize subresource.
        fieldsOf(next).spec = { ...(isObject(fieldsOf(next).spec) ? fieldsOf(next).spec as object : {}), finalizers: (fieldsOf(old).spec as { finalizers?: string[] } | undefined)?.finalizers ?? [] };
      }
      if (omd.deletionTimestamp) {
        const added = (md.finalizers ?? []).filter((f) => !(omd.finalizers ?? []).includes(f));
        if (added.length) {
          throw invalid(info.kind, info.group, name, [{ type: 'FieldValueForbidden', field: 'metadata.finalizers', detail: `no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(', ')}}` }]);
        }
      }
    }
    next.metadata = { ...next.metadata, resourceVersion: String(cur.rv) };
    const noop = async (): Promise<void> => {};
    let ipTx = { undo: noop, commit: noop };
    // Allocated values (an omitted clusterIP keeps the old one) are patched in before validation, as in Kubernetes.
    if (info.plural === 'services' && this.serviceIPs && sub === undefined) ipTx = await this.serviceIPs.prepareUpdate(old as Service, next as Service, { dryRun: opts.dryRun === 'All' });
    const key = objectStorageKey(info, ns, name);
    try {
      if (sub === undefined) this.admit(info, next, old);
      if (tracksGeneration(info)) {
        const gen = old.metadata?.generation ?? 1;
        (next.metadata as MutableMeta).generation = sub === undefined && specFingerprint(next) !== specFingerprint(old) ? gen + 1 : gen;
      }
      // An object being deleted whose last finalizer is gone is removed now.
      if (this.readyToRemove(info, next)) {
        if (opts.dryRun === 'All') { await ipTx.undo(); return next; }
        const { revision } = await this.storage.delete(key, cur.rv);
        await this.afterRemove(info, next);
        await ipTx.commit();
        return { ...next, metadata: { ...next.metadata, resourceVersion: String(revision) } };
      }
      const value = encode(next);
      if (value === encode(old)) { await ipTx.undo(); return cur.copy() as KubeObject; } // no-op: no new revision
      if (opts.dryRun === 'All') { await ipTx.undo(); return next; }
      const kv = await this.storage.update(key, value, cur.rv);
      await ipTx.commit();
      return this.written(info, ns, name, kv);
    } catch (e) {
      await ipTx.undo().catch((err) => console.error(`registry: undoing the ClusterIP change of ${key}:`, err));
      throw e;
    }
  }

  private readyToRemove(info: ResourceInfo, obj: KubeObject): boolean {
    const md = obj.metadata ?? {};
    if (!md.deletionTimestamp || (md.finalizers?.length ?? 0) > 0) return false;
    if (info.plural === 'namespaces') return ((fieldsOf(obj).spec as { finalizers?: string[] } | undefined)?.finalizers?.length ?? 0) === 0;
    return (md.deletionGracePeriodSeconds ?? 0) === 0;
  }

  /** After an object left storage: a Service's ClusterIP goes back (a failure to release only leaks the address until repair). */
  private async afterRemove(info: ResourceInfo, obj: KubeObject): Promise<void> {
    if (info.plural !== 'services' || !this.serviceIPs) return;
    try {
      await this.serviceIPs.releaseFor(obj as Service);
    } catch (e) {
      console.error(`registry: releasing the ClusterIP of ${obj.metadata?.namespace}/${obj.metadata?.name}:`, e);
    }
  }

  async patch<T extends KubeObject = KubeObject>(info: ResourceInfo, namespace: string | undefined, name: string, type: PatchType, patch: unknown, opts: WriteOptions & { subresource?: 'status' | 'scale' } = {}): Promise<T> {
    return guard(async () => {
      const ns = this.nsOf(info, namespace);
      if (opts.subresource && !info.subresources.includes(opts.subresource)) throw notFound(info, name);
      for (let attempt = 0; ; attempt++) {
        const c = this.cache(info).objects.get(this.cacheKey(info, ns, name));
        if (!c) {
          if (type === 'application/apply-patch+yaml' && !opts.subresource) {
            const obj = applyPatch(info, {}, 'application/merge-patch+json', patch);
            if (!obj.metadata?.name) obj.metadata = { ...obj.metadata, name };
            return this.create(info, namespace, obj as T, { dryRun: opts.dryRun, fieldManager: opts.fieldManager, fieldValidation: opts.fieldValidation });
          }
          throw notFound(info, name);
        }
        try {
          if (opts.subresource === 'scale') {
            const scale = applyPatch(info, toScale(c.obj), type === 'application/strategic-merge-patch+json' ? 'application/merge-patch+json' : type, patch) as Scale;
            if (scale.metadata?.resourceVersion && scale.metadata.resourceVersion !== String(c.rv)) throw conflict(info, name);
            return await this.scaleFrom(info, ns, name, c, scale, opts) as T;
          }
          const patched = applyPatch(info, c.obj, type, patch);
          checkShape(info, patched);
          const prv = patched.metadata?.resourceVersion;
          if (prv !== undefined && prv !== String(c.rv)) throw conflict(info, name);
          if (patched.metadata?.name !== undefined && patched.metadata.name !== name) {
            throw badRequest(`the name of the object (${String(patched.metadata.name)}) does not match the name on the URL (${name})`);
          }
          return await this.updateFrom(info, ns, name, c, patched, opts.subresource, opts) as T;
        } catch (e) {
          if (attempt < MAX_RETRIES && isStorageError(e, 'Conflict')) continue;
          if (isStorageError(e, 'Conflict')) throw conflict(info, name);
          if (isStorageError(e, 'KeyNotFound')) throw notFound(info, name);
          throw e;
        }
      }
    });
  }

  // ---------------------------------------------------------------- scale & binding

  private async updateScale(info: ResourceInfo, namespace: string | undefined, scaleIn: KubeObject, opts: WriteOptions & { name?: string }): Promise<Scale> {
    if (!info.subresources.includes('scale')) throw notFound(info, scaleIn?.metadata?.name ?? '');
    if (!isObject(scaleIn)) throw badRequest('Scale in version "v1" cannot be handled as a Scale: body must be an object');
    const scale = scaleIn as Scale;
    const name = scale.metadata?.name ?? opts.name;
    if (!name) throw badRequest('name is required for update');
    const ns = this.nsOf(info, namespace);
    for (let attempt = 0; ; attempt++) {
      const c = this.current(info, ns, name);
      const pre = scale.metadata?.resourceVersion;
      if (pre && pre !== String(c.rv)) throw conflict(info, name);
      try {
        return await this.scaleFrom(info, ns, name, c, scale, opts);
      } catch (e) {
        if (!pre && attempt < MAX_RETRIES && isStorageError(e, 'Conflict')) continue;
        if (isStorageError(e, 'Conflict')) throw conflict(info, name);
        throw e;
      }
    }
  }

  private async scaleFrom(info: ResourceInfo, ns: string | undefined, name: string, c: CachedObject, scale: Scale, opts: WriteOptions): Promise<Scale> {
    const replicas = scale.spec?.replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw invalid('Scale', 'autoscaling', name, [{ type: 'FieldValueInvalid', field: 'spec.replicas', value: replicas === undefined ? 0 : replicas as number, detail: 'must be greater than or equal to 0' }]);
    }
    const next = copy(c.obj);
    fieldsOf(next).spec = { ...(fieldsOf(next).spec as object), replicas };
    const obj = await this.updateFrom(info, ns, name, c, next, undefined, opts);
    return toScale(obj);
  }

  /** POST pods/NAME/binding: assigns the Pod to a node (409 when it already has one). */
  private async bind(info: ResourceInfo, namespace: string | undefined, binding: KubeObject, opts: WriteOptions & { name?: string }): Promise<KubeObject> {
    if (info.plural !== 'pods') throw methodNotAllowed();
    if (!isObject(binding)) throw badRequest('Binding in version "v1" cannot be handled as a Binding: body must be an object');
    const b = binding as KubeObject & { target?: { name?: string; kind?: string } };
    const name = opts.name ?? b.metadata?.name;
    if (!name) throw badRequest('name is required for binding');
    if (opts.name && b.metadata?.name && b.metadata.name !== opts.name) {
      throw badRequest(`the name of the object (${b.metadata.name}) does not match the name on the URL (${opts.name})`);
    }
    const node = b.target?.name;
    if (!node || typeof node !== 'string') {
      throw invalid('Binding', '', name, [{ type: 'FieldValueRequired', field: 'target.name', detail: '' }]);
    }
    const ns = this.nsOf(info, namespace ?? b.metadata?.namespace);
    const bindingInfo = { group: '', plural: 'pods/binding' };
    for (let attempt = 0; ; attempt++) {
      const c = this.current(info, ns, name);
      const pod = c.obj as Pod;
      if (pod.metadata?.deletionTimestamp) throw conflict(bindingInfo, name, `pod ${name} is being deleted, cannot be assigned to a host`);
      if (pod.spec?.nodeName) throw conflict(bindingInfo, name, `pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
      const next = copy(pod) as { -readonly [K in keyof Pod]: Pod[K] };
      next.spec = { ...next.spec!, nodeName: node };
      const conds = (next.status?.conditions ?? []).filter((x) => x.type !== 'PodScheduled');
      conds.push({ type: 'PodScheduled', status: 'True', lastTransitionTime: rfc3339(this.clock()) });
      next.status = { ...next.status, conditions: conds };
      next.metadata = { ...next.metadata, resourceVersion: String(c.rv) };
      if (opts.dryRun === 'All') return binding;
      try {
        await this.storage.update(objectStorageKey(info, ns, name), encode(next), c.rv);
        return { ...copy(binding), apiVersion: 'v1', kind: 'Binding' };
      } catch (e) {
        if (attempt < MAX_RETRIES && isStorageError(e, 'Conflict')) continue;
        if (isStorageError(e, 'KeyNotFound')) throw notFound(info, name);
        throw e;
      }
    }
  }

  // ---------------------------------------------------------------- delete

  async delete<T extends KubeObject = KubeObject>(info: ResourceInfo, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<T> {
    return guard(async () => {
      const ns = this.nsOf(info, namespace);
      for (let attempt = 0; ; attempt++) {
        const c = this.current(info, ns, name);
        try {
          return await this.deleteOnce(info, ns, name, c, opts) as T;
        } catch (e) {
          if (attempt < MAX_RETRIES && isStorageError(e, 'Conflict') && !opts.preconditions?.resourceVersion) continue;
          if (isStorageError(e, 'Conflict')) throw conflict(info, name);
          if (isStorageError(e, 'KeyNotFound')) throw notFound(info, name);
          throw e;
        }
      }
    });
  }

  private async deleteOnce(info: ResourceInfo, ns: string | undefined, name: string, c: CachedObject, opts: DeleteOptions): Promise<KubeObject> {
    const obj = c.obj;
    const md = obj.metadata ?? {};
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== md.uid) {
      throw conflict(info, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${md.uid ?? ''}`);
    }
    if (pre?.resourceVersion && pre.resourceVersion !== String(c.rv)) {
      throw conflict(info, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${c.rv}`);
    }
    if (opts.gracePeriodSeconds !== undefined && (!Number.isInteger(opts.gracePeriodSeconds) || opts.gracePeriodSeconds < 0)) {
      // Kubernetes treats a negative grace period as 1 second (and 0 as immediate).
      opts = { ...opts, gracePeriodSeconds: opts.gracePeriodSeconds < 0 ? 1 : Math.ceil(opts.gracePeriodSeconds) };
    }
    const key = objectStorageKey(info, ns, name);
    const now = this.clock();
    const dry = opts.dryRun === 'All';
    const writeMarked = async (next: KubeObject): Promise<KubeObject> => {
      if (dry) return next;
      const kv = await this.storage.update(key, encode(next), c.rv);
      return this.written(info, ns, name, kv);
    };

    if (info.plural === 'namespaces') {
      const nsObj = copy(obj) as Namespace;
      if (!nsObj.metadata?.deletionTimestamp) {
        nsObj.metadata = { ...nsObj.metadata, deletionTimestamp: rfc3339(now), deletionGracePeriodSeconds: 0 };
        nsObj.status = { ...nsObj.status, phase: 'Terminating' };
        if (!this.readyToRemove(info, nsObj)) return writeMarked(nsObj);
      } else if (!this.readyToRemove(info, nsObj)) {
        return c.copy() as KubeObject;
      }
      return this.remove(info, key, c, dry);
    }

    // Graceful deletion of a Pod that a node is running: mark it; the node agent deletes with grace 0.
    if (info.plural === 'pods') {
      const pod = obj as Pod;
      const terminal = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
      let grace = opts.gracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
      if (!pod.spec?.nodeName || terminal) grace = 0;
      if (grace > 0) {
        if (md.deletionTimestamp && (md.deletionGracePeriodSeconds ?? 0) <= grace) return c.copy() as KubeObject;
        const next = copy(obj);
        const fin = this.propagationFinalizers(md.finalizers, opts);
        next.metadata = {
          ...next.metadata, deletionGracePeriodSeconds: grace,
          deletionTimestamp: rfc3339(new Date(now.getTime() + grace * 1000)),
          ...(fin.length ? { finalizers: fin } : {}),
        };
        return writeMarked(next);
      }
    }

    const finalizers = this.propagationFinalizers(md.finalizers, opts);
    if (finalizers.length > 0) {
      const next = copy(obj);
      next.metadata = {
        ...next.metadata, finalizers,
        deletionTimestamp: md.deletionTimestamp ?? rfc3339(now),
        deletionGracePeriodSeconds: 0,
      };
      if (md.deletionTimestamp && JSON.stringify(md.finalizers ?? []) === JSON.stringify(finalizers) && md.deletionGracePeriodSeconds === 0) {
        return c.copy() as KubeObject;
      }
      return writeMarked(next);
    }
    return this.remove(info, key, c, dry);
  }

  /** Finalizers after applying the delete's propagationPolicy (Foreground / Orphan add one). */
  private propagationFinalizers(existing: string[] | undefined, opts: DeleteOptions): string[] {
    const f = [...(existing ?? [])];
    const add = opts.propagationPolicy === 'Foreground' ? 'foregroundDeletion' : opts.propagationPolicy === 'Orphan' ? 'orphan' : undefined;
    if (add && !f.includes(add)) f.push(add);
    return f;
  }

  private async remove(info: ResourceInfo, key: string, c: CachedObject, dry: boolean): Promise<KubeObject> {
    if (dry) return c.copy() as KubeObject;
    const { revision } = await this.storage.delete(key, c.rv);
    const out = c.copy() as KubeObject;
    out.metadata = { ...out.metadata, resourceVersion: String(revision) };
    await this.afterRemove(info, out);
    return out;
  }

  /** DELETE on a collection: deletes every matching object (as individual deletes). */
  async deleteCollection<T extends KubeObject = KubeObject>(info: ResourceInfo, namespace: string | undefined, listOpts: ListOptions = {}, opts: DeleteOptions = {}): Promise<KubeList<T>> {
    return guard(async () => {
      const list = this.listCached(info, namespace, { labelSelector: listOpts.labelSelector, fieldSelector: listOpts.fieldSelector });
      const items: T[] = [];
      for (const c of list.objects) {
        try {
          items.push(await this.delete<T>(info, c.obj.metadata?.namespace, c.obj.metadata!.name!, opts));
        } catch (e) {
          if (!(e instanceof ApiError && e.code === 404)) throw e;
        }
      }
      return { apiVersion: groupVersion(info), kind: info.listKind, metadata: { resourceVersion: String(this.storage.revision()) }, items };
    });
  }
}

/**
 * The registry: Kubernetes REST semantics for every resource in src/api/resources.ts, on top of a
 * Storage. The in-process client (../inprocess.ts) calls it; so does everything that serves the API.
 *
 * This file is the front of the verbs: it checks what each request says (shape, name, namespace,
 * subresource) and turns it into a read (reads.ts, served from the watch caches) or a write request
 * for the one write path (store.ts), whose per-kind rules live in strategies (strategy.ts,
 * strategies/). Every failure a verb reports is an ApiError, mapped in one place (errors.ts).
 */
import { ApiError, badRequest, invalid, isAlreadyExists, isNotFound, methodNotAllowed, notFound } from '../../api/errors.js';
import { generateName } from '../../api/generatename.js';
import { fieldsOf, type KubeList, type KubeObject } from '../../api/object.js';
import type { CreateSubresource, DeleteOptions, GetSubresource, ListOptions, PatchSubresource, PatchType, UpdateSubresource, WatchEvent, WatchOptions, WriteOptions } from '../../api/requests.js';
import { groupVersion, isStored, R, storageVersionOf, type ResourceInfo } from '../../api/resources.js';
import { BUILTIN_CATALOG, type ResourceCatalog } from '../catalog.js';
import type { Storage } from '../../storage/storage.js';
import type { ServiceIPs } from '../ipallocator/service.js';
import type { TokenRequests } from '../auth/tokenrequest.js';
import type { AdmissionPlugin } from './admission.js';
import { interpret } from './errors.js';
import { applyPatch } from './patch.js';
import { Reads } from './reads.js';
import { setScaleReplicas, toScale, type Scale, type ScalePaths } from './scale.js';
import { checkShape, isObject } from './shape.js';
import { MAX_RETRIES, Store, type Change } from './store.js';
import { strategies } from './strategies.js';
import { copyOf, type Strategy } from './strategy.js';
import type { ServiceNodePorts } from '../portallocator/service.js';
import { evictionChange, type Eviction } from './eviction.js';
import { fromStorageVersion, needsConversion, toStorageVersion } from './versions.js';
import type { ApiWatcher } from './watcher.js';
import { WatchCaches, type CachedObject, type WatchCache } from './watchcache.js';

export type { UpdateSubresource } from '../../api/requests.js';

export interface RegistryOptions {
  storage: Storage;
  /** Clock for creationTimestamp/deletionTimestamp. Default: () => new Date(). */
  clock?: () => Date;
  /** ClusterIP allocation for Services (absent: Services get no IP — unit tests only). */
  serviceIPs?: ServiceIPs;
  /** serviceaccounts/NAME/token (absent: 404 — an API core without a signing key). */
  tokenRequests?: TokenRequests;
  /** Mutating admission plugins, run on create before defaulting and validation (in order). */
  admission?: readonly AdmissionPlugin[];
  /** NodePort allocation for Services (absent: NodePorts are stored as given). */
  serviceNodePorts?: ServiceNodePorts;
  /** Allow Services to set spec.externalIPs (default false: the DenyServiceExternalIPs admission plugin). */
  allowExternalIPs?: boolean;
  /** Events retained per resource for watches from an older resourceVersion. Default 1000. */
  watchCacheSize?: number;
  /** Interval of BOOKMARK events for watches that allow them. Default 10000 ms. */
  bookmarkIntervalMs?: number;
  /** What is served (built-ins and custom resources). Default: the built-ins only. */
  catalog?: ResourceCatalog;
}

/**
 * A resource served from something other than storage (metrics.k8s.io, from the nodes' resource
 * accounting): get and list only. Errors are ApiErrors.
 */
export interface ReadOnlyProvider {
  get(namespace: string | undefined, name: string): KubeObject | Promise<KubeObject>;
  list(namespace: string | undefined, opts: ListOptions): KubeList | Promise<KubeList>;
}

export class Registry {
  private readonly storage: Storage;
  private readonly clock: () => Date;
  private readonly caches: WatchCaches;
  private readonly strategyOf: (info: ResourceInfo) => Strategy;
  private readonly reads: Reads;
  private readonly store: Store;
  readonly serviceIPs?: ServiceIPs;
  readonly catalog: ResourceCatalog;
  private readonly customStrategies = new Map<string, Strategy>();
  private readonly providers = new Map<string, ReadOnlyProvider>();

  constructor(opts: RegistryOptions) {
    this.storage = opts.storage;
    this.clock = opts.clock ?? (() => new Date());
    this.serviceIPs = opts.serviceIPs;
    this.catalog = opts.catalog ?? BUILTIN_CATALOG;
    this.caches = new WatchCaches(opts.storage, opts.watchCacheSize ?? 1000);
    this.strategyOf = strategies({
      serviceIPs: opts.serviceIPs, serviceNodePorts: opts.serviceNodePorts, allowExternalIPs: opts.allowExternalIPs, custom: this.customStrategies,
      tokenRequests: opts.tokenRequests,
    });
    this.reads = new Reads({ storage: opts.storage, caches: this.caches, strategyOf: this.strategyOf, bookmarkMs: opts.bookmarkIntervalMs ?? 10_000 });
    this.store = new Store({ storage: opts.storage, caches: this.caches, strategyOf: this.strategyOf, clock: this.clock, admission: opts.admission ?? [] });
  }

  /** Loads every resource's watch cache from storage (resources served from a provider have none). */
  async start(resources: readonly ResourceInfo[]): Promise<void> {
    await this.caches.start(resources.filter(isStored));
  }

  /**
   * Serves a stored resource that was not there at start (a custom resource): its watch cache is
   * loaded and `strategy` (defaulting, validation, pruning from the CRD) handles its writes. Called
   * again with a new strategy when its CRD changes.
   */
  async install(info: ResourceInfo, strategy: Strategy): Promise<void> {
    this.customStrategies.set(`${info.group}/${info.plural}`, strategy);
    await this.caches.add(info);
  }

  /** Stops serving a resource `install` added; its objects stay in storage. */
  uninstall(info: ResourceInfo): void {
    this.customStrategies.delete(`${info.group}/${info.plural}`);
    this.caches.remove(info);
  }

  /** Serves `info` (a read-only resource) from `provider` instead of storage. */
  setProvider(info: ResourceInfo, provider: ReadOnlyProvider | undefined): void {
    const key = `${info.group}/${info.plural}`;
    if (provider) this.providers.set(key, provider); else this.providers.delete(key);
  }

  /** The provider of a resource not kept in storage; 503 until one is set (as an unavailable aggregated API). */
  private providerOf(info: ResourceInfo): ReadOnlyProvider | undefined {
    if (isStored(info)) return undefined;
    const p = this.providers.get(`${info.group}/${info.plural}`);
    if (!p) {
      throw new ApiError(503, 'ServiceUnavailable', `the server is currently unable to handle the request (get ${info.plural}.${info.group})`,
        { group: info.group, kind: info.plural, causes: [{ reason: 'UnexpectedServerResponse', message: 'service unavailable' }] });
    }
    return p;
  }

  /** The ResourceInfo objects of `info` are stored as (itself unless it is served at several versions). */
  private stored(info: ResourceInfo): ResourceInfo {
    if (!needsConversion(info)) return info;
    return this.catalog.lookup(info.group, storageVersionOf(info), info.plural) ?? info;
  }

  /** Ends every watch and storage subscription (storage itself is closed by its owner). */
  close(): void {
    this.reads.close();
    this.caches.stop();
  }

  /** The current storage revision (what a list reports as its resourceVersion). */
  revision(): number {
    return this.storage.revision();
  }

  /** Forgets history up to `rev`: watches from an older resourceVersion get 410 Gone. */
  async compact(rev: number): Promise<void> {
    await this.storage.compact(rev);
    this.caches.compact(rev);
  }

  /** The watch cache of `info` (read-only use: lists of cached objects for in-process consumers). */
  cache(info: ResourceInfo): WatchCache {
    return this.caches.of(info);
  }

  private nsOf(info: ResourceInfo, ns: string | undefined): string | undefined {
    return info.namespaced ? (ns || undefined) : undefined;
  }

  // ---------------------------------------------------------------- reads

  async get<T extends KubeObject = KubeObject>(info: ResourceInfo, namespace: string | undefined, name: string, subresource?: GetSubresource): Promise<T> {
    try {
      const p = this.providerOf(info);
      if (p) return await p.get(this.nsOf(info, namespace), name) as T;
      if (subresource === 'scale') {
        if (!info.subresources.includes('scale')) throw notFound(info, name);
        return toScale(this.reads.get(info, namespace, name), this.scalePaths(info)) as KubeObject as T;
      }
      return fromStorageVersion(info, this.reads.get(info, namespace, name, subresource)) as T;
    } catch (e) {
      throw interpret(e, 'get', info, name);
    }
  }

  async list<T extends KubeObject = KubeObject>(info: ResourceInfo, namespace: string | undefined, opts: ListOptions = {}): Promise<KubeList<T>> {
    try {
      const p = this.providerOf(info);
      if (p) return await p.list(this.nsOf(info, namespace), opts) as KubeList<T>;
      const conv = needsConversion(info);
      return this.reads.list<T>(info, namespace, opts, (c) => (conv ? fromStorageVersion(info, c.obj) : c.copy()));
    } catch (e) {
      throw interpret(e, 'list', info, '');
    }
  }

  /**
   * The list with the watch cache's own objects as items: deep-frozen and shared, no copy per item
   * (in-process informers; see `SharedReads` in src/client/client.ts).
   */
  async listShared<T extends KubeObject = KubeObject>(info: ResourceInfo, namespace: string | undefined, opts: ListOptions = {}): Promise<KubeList<T>> {
    try {
      if (!isStored(info)) return await this.list<T>(info, namespace, opts);
      const conv = needsConversion(info);
      return this.reads.list<T>(info, namespace, opts, (c) => (conv ? fromStorageVersion(info, c.obj) : c.obj));
    } catch (e) {
      throw interpret(e, 'list', info, '');
    }
  }

  /** The list as cached objects (JSON included), for callers that write `json` out directly. */
  listCached(info: ResourceInfo, namespace: string | undefined, opts: ListOptions = {}): { objects: CachedObject[]; metadata: KubeList['metadata'] } {
    try {
      return this.reads.listCached(info, namespace, opts);
    } catch (e) {
      throw interpret(e, 'list', info, '');
    }
  }

  /** Starts a watch (see Reads.watch). Bad selectors throw a 400 ApiError synchronously. */
  watch<T extends KubeObject = KubeObject>(info: ResourceInfo, namespace: string | undefined, opts: WatchOptions, onEvent: (ev: WatchEvent<T>) => void, { shared = false } = {}): ApiWatcher {
    try {
      if (!isStored(info)) throw methodNotAllowed();
      if (needsConversion(info)) {
        const deliver = onEvent as (ev: WatchEvent) => void;
        return this.reads.watch(info, namespace, opts, (ev: WatchEvent) => deliver(ev.type === 'ERROR' || ev.type === 'BOOKMARK' ? ev : { ...ev, object: fromStorageVersion(info, ev.object) }), shared);
      }
      return this.reads.watch(info, namespace, opts, onEvent, shared);
    } catch (e) {
      throw interpret(e, 'watch', info, '');
    }
  }

  /** Number of open API watches (for tests and metrics). */
  watchCount(): number {
    return this.reads.watchCount();
  }

  // ---------------------------------------------------------------- writes

  /** Resolves the namespace of a write from the URL and the body (400 when they disagree). */
  private writeNamespace(info: ResourceInfo, urlNs: string | undefined, obj: KubeObject): string | undefined {
    if (!info.namespaced) return undefined;
    const bodyNs = obj.metadata?.namespace || undefined;
    if (urlNs && bodyNs && urlNs !== bodyNs) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    return urlNs || bodyNs || 'default';
  }

  async create<T extends KubeObject = KubeObject>(info: ResourceInfo, namespace: string | undefined, objIn: T, opts: WriteOptions & { subresource?: CreateSubresource; name?: string } = {}): Promise<T> {
    try {
        if (info.review) throw methodNotAllowed(`${info.plural}.${info.group} are answered by the API server's HTTP front door (they need the caller's identity)`);
        if (opts.subresource === 'binding') return await this.bind(info, namespace, objIn, opts) as T;
        if (opts.subresource === 'eviction') return await this.evict(info, namespace, objIn, opts) as T;
        if (opts.subresource) return await this.createSubresource(info, namespace, objIn, { ...opts, subresource: opts.subresource }) as T;
        if (!isStored(info)) throw methodNotAllowed();
        checkShape(info, objIn);
        if (needsConversion(info)) {
          return fromStorageVersion(info, await this.create(this.stored(info), namespace, toStorageVersion(info, objIn), opts)) as T;
        }
        const ns = this.writeNamespace(info, namespace, objIn);
        const md = objIn.metadata ?? {};
        const generated = !md.name && !!md.generateName;
        for (let attempt = 0; ; attempt++) {
          const name = generated ? generateName(md.generateName!) : md.name;
          if (!name) {
            throw invalid(info.kind, info.group, '', [{ type: 'FieldValueRequired', field: 'metadata.name', detail: 'name or generateName is required' }]);
          }
          try {
            return await this.store.write({ verb: 'create', info, ns, name, dryRun: opts.dryRun === 'All', create: () => copyOf(objIn) }) as T;
          } catch (e) {
            // A generated name that collided: Kubernetes retries with a new suffix.
            if (generated && attempt < MAX_RETRIES && isAlreadyExists(e)) continue;
            throw e;
          }
        }
    } catch (e) {
      throw interpret(e, 'create', info, opts.name ?? objIn?.metadata?.name ?? '');
    }
  }

  /** PUT of the object or of its status, scale or finalize subresource. */
  async update<T extends KubeObject = KubeObject>(info: ResourceInfo, namespace: string | undefined, objIn: T, opts: WriteOptions & { subresource?: UpdateSubresource; name?: string } = {}): Promise<T> {
    try {
        const sub = opts.subresource;
        if (sub && !info.subresources.includes(sub)) throw notFound(info, opts.name ?? objIn?.metadata?.name ?? '');
        if (!isStored(info)) throw methodNotAllowed();
        if (sub === 'scale') return toScale(await this.updateScale(info, namespace, objIn, opts), this.scalePaths(info)) as KubeObject as T;
        checkShape(info, objIn);
        if (needsConversion(info)) {
          return fromStorageVersion(info, await this.update(this.stored(info), namespace, toStorageVersion(info, objIn), opts)) as T;
        }
        const name = objIn.metadata?.name ?? opts.name;
        if (opts.name && objIn.metadata?.name && opts.name !== objIn.metadata.name) {
          throw badRequest(`the name of the object (${objIn.metadata.name}) does not match the name on the URL (${opts.name})`);
        }
        if (!name) throw badRequest('name is required for update');
        const ns = this.writeNamespace(info, namespace, objIn);
        return await this.store.write({
          verb: 'update', info, ns, name, dryRun: opts.dryRun === 'All',
          update: () => ({ kind: 'update', obj: objIn, subresource: sub }),
        }) as T;
    } catch (e) {
      throw interpret(e, 'update', info, opts.name ?? objIn?.metadata?.name ?? '');
    }
  }

  async patch<T extends KubeObject = KubeObject>(info: ResourceInfo, namespace: string | undefined, name: string, type: PatchType, patch: unknown, opts: WriteOptions & { subresource?: PatchSubresource } = {}): Promise<T> {
    try {
        const ns = this.nsOf(info, namespace);
        const sub = opts.subresource;
        if (sub && !info.subresources.includes(sub)) throw notFound(info, name);
        if (!isStored(info)) throw methodNotAllowed();
        const conv = needsConversion(info);
        const st = this.stored(info);
        // Server-side apply of an object that does not exist yet creates it (no generateName, no binding).
        const create = type === 'application/apply-patch+yaml' && !sub ? (): KubeObject => {
          const obj = applyPatch(info, {}, 'application/merge-patch+json', patch);
          checkShape(info, obj);
          if (!obj.metadata?.name) obj.metadata = { ...obj.metadata, name };
          if (obj.metadata.name !== name) throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
          if (this.writeNamespace(info, namespace, obj) !== ns) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
          return conv ? toStorageVersion(info, obj) : obj;
        } : undefined;
        const out = await this.store.write({
          verb: 'update', info: st, ns, name, dryRun: opts.dryRun === 'All', create,
          update: (cur) => {
            if (sub === 'scale') {
              const scale = applyPatch(info, toScale(cur.obj, this.scalePaths(info)), type === 'application/strategic-merge-patch+json' ? 'application/merge-patch+json' : type, patch) as Scale;
              return this.scaleChange(info, name, cur, scale);
            }
            // A patch applies to the object as the request's version sees it.
            const patched = applyPatch(info, conv ? fromStorageVersion(info, cur.obj) : cur.obj, type, patch);
            checkShape(info, patched);
            if (patched.metadata?.name !== undefined && patched.metadata.name !== name) {
              throw badRequest(`the name of the object (${String(patched.metadata.name)}) does not match the name on the URL (${name})`);
            }
            return { kind: 'update', obj: conv ? toStorageVersion(info, patched) : patched, subresource: sub };
          },
        });
        return (sub === 'scale' ? toScale(out, this.scalePaths(info)) : fromStorageVersion(info, out)) as T;
    } catch (e) {
      throw interpret(e, 'update', info, name);
    }
  }

  // ---------------------------------------------------------------- scale & binding

  /** PUT <plural>/NAME/scale with an autoscaling/v1 Scale: the object with spec.replicas changed. */
  private async updateScale(info: ResourceInfo, namespace: string | undefined, scaleIn: KubeObject, opts: WriteOptions & { name?: string }): Promise<KubeObject> {
    if (!isObject(scaleIn)) throw badRequest('Scale in version "v1" cannot be handled as a Scale: body must be an object');
    const scale = scaleIn as Scale;
    const name = scale.metadata?.name ?? opts.name;
    if (!name) throw badRequest('name is required for update');
    return this.store.write({
      verb: 'update', info, ns: this.nsOf(info, namespace), name, dryRun: opts.dryRun === 'All',
      update: (cur) => this.scaleChange(info, name, cur, scale),
    });
  }

  /** The update a Scale asks for: spec.replicas (422 unless a non-negative integer), at the Scale's resourceVersion. */
  private scaleChange(info: ResourceInfo, name: string, cur: CachedObject, scale: Scale): Change {
    const replicas = scale.spec?.replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw invalid('Scale', 'autoscaling', name, [{ type: 'FieldValueInvalid', field: 'spec.replicas', value: replicas === undefined ? 0 : replicas as number, detail: 'must be greater than or equal to 0' }]);
    }
    const next = cur.copy();
    setScaleReplicas(next, this.scalePaths(info), replicas);
    next.metadata = { ...next.metadata, resourceVersion: scale.metadata?.resourceVersion || String(cur.rv) };
    return { kind: 'update', obj: next };
  }

  /** Where a resource keeps its Scale's fields (a CRD's scale subresource says; built-ins use spec.replicas). */
  private scalePaths(info: ResourceInfo): ScalePaths | undefined {
    return this.catalog.customOf(info)?.scale;
  }

  /**
   * POST pods/NAME/eviction (policy/v1 Eviction): the Pod is deleted unless a PodDisruptionBudget
   * forbids it (429 TooManyRequests with Kubernetes' message). Each PDB that allows it has
   * status.disruptionsAllowed decremented in the same compare-and-swap way the eviction REST does,
   * so two concurrent evictions cannot both use the last allowed disruption.
   */
  private async evict(info: ResourceInfo, namespace: string | undefined, evictionIn: KubeObject, opts: WriteOptions & { name?: string }): Promise<KubeObject> {
    if (info !== R.pods && !(info.group === '' && info.plural === 'pods')) throw notFound(info, opts.name ?? '');
    if (!isObject(evictionIn)) throw badRequest('Eviction in version "v1" cannot be handled as a Eviction: body must be an object');
    const ev = evictionIn as Eviction;
    const name = opts.name ?? ev.metadata?.name;
    if (!name) throw badRequest('name is required for eviction');
    if (ev.metadata?.name && ev.metadata.name !== name) {
      throw badRequest(`the name of the object (${ev.metadata.name}) does not match the name on the URL (${name})`);
    }
    const ns = this.nsOf(info, namespace ?? ev.metadata?.namespace) ?? 'default';
    const dryRun = opts.dryRun === 'All' || (ev.deleteOptions?.dryRun ?? []).includes('All');
    for (let attempt = 0; ; attempt++) {
      const pod = this.caches.of(R.pods).get(ns, name);
      if (!pod) throw notFound(info, name);
      const pdbs = [...this.caches.of(R.poddisruptionbudgets).objects.values()].filter((c) => c.obj.metadata?.namespace === ns);
      const decision = evictionChange(pod.obj, pdbs.map((c) => c.obj), this.clock());
      if (decision.kind === 'refuse') throw decision.error;
      if (decision.kind === 'decrement' && !dryRun) {
        try {
          await this.update(R.poddisruptionbudgets, ns, decision.pdb, { subresource: 'status' });
        } catch (e) {
          // Another eviction used that disruption first: look again, as Kubernetes retries.
          if (attempt < MAX_RETRIES && e instanceof ApiError && e.code === 409) continue;
          throw e;
        }
      }
      await this.delete(R.pods, ns, name, { ...(ev.deleteOptions ?? {}), ...(dryRun ? { dryRun: 'All' } : {}) } as DeleteOptions);
      return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 } as unknown as KubeObject;
    }
  }

  /** POST <plural>/NAME/binding (pods): assigns the Pod to a node (409 when it already has one). */
  private async bind(info: ResourceInfo, namespace: string | undefined, binding: KubeObject, opts: WriteOptions & { name?: string }): Promise<KubeObject> {
    const strategy = this.strategyOf(info);
    const bindTo = strategy.bind;
    if (!bindTo) throw methodNotAllowed();
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
    await this.store.write({
      verb: 'update', info, ns: this.nsOf(info, namespace ?? b.metadata?.namespace), name, dryRun: opts.dryRun === 'All',
      update: (cur) => ({ kind: 'set', obj: bindTo(cur.obj, { name: node }, this.clock()) }),
    });
    return opts.dryRun === 'All' ? binding : { ...copyOf(binding), apiVersion: 'v1', kind: 'Binding' };
  }

  /** POST <plural>/NAME/<sub> answered by the kind's strategy (serviceaccounts/NAME/token): nothing is stored. */
  private async createSubresource(info: ResourceInfo, namespace: string | undefined, input: KubeObject, opts: WriteOptions & { subresource: string; name?: string }): Promise<KubeObject> {
    const strategy = this.strategyOf(info);
    const name = opts.name ?? input?.metadata?.name;
    if (!strategy.createSubresource || !info.subresources.includes(opts.subresource)) throw notFound(info, name ?? '');
    if (!name) throw badRequest(`name is required for ${opts.subresource}`);
    const cur = this.caches.of(info).get(this.nsOf(info, namespace), name);
    if (!cur) throw notFound(info, name);
    return strategy.createSubresource(opts.subresource, cur.obj, input, { dryRun: opts.dryRun === 'All' });
  }

  // ---------------------------------------------------------------- delete

  /** Removes the object, or marks it (graceful deletion, finalizers) as its strategy decides. */
  async delete<T extends KubeObject = KubeObject>(info: ResourceInfo, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<T> {
    try {
        if (opts.gracePeriodSeconds !== undefined && (!Number.isInteger(opts.gracePeriodSeconds) || opts.gracePeriodSeconds < 0)) {
          // Kubernetes treats a negative grace period as 1 second (and 0 as immediate).
          opts = { ...opts, gracePeriodSeconds: opts.gracePeriodSeconds < 0 ? 1 : Math.ceil(opts.gracePeriodSeconds) };
        }
        if (!isStored(info)) throw methodNotAllowed();
        const strategy = this.strategyOf(info);
        const out = await this.store.write({
          verb: 'delete', info: this.stored(info), ns: this.nsOf(info, namespace), name, dryRun: opts.dryRun === 'All', preconditions: opts.preconditions,
          update: (cur): Change => {
            const d = strategy.deletion(cur.obj, opts, this.clock());
            return d.kind === 'remove' ? { kind: 'delete' } : d.kind === 'mark' ? { kind: 'set', obj: d.obj } : { kind: 'none' };
          },
        });
        return fromStorageVersion(info, out) as T;
    } catch (e) {
      throw interpret(e, 'delete', info, name);
    }
  }

  /** DELETE on a collection: deletes every matching object (as individual deletes; vanished ones are skipped). */
  async deleteCollection<T extends KubeObject = KubeObject>(info: ResourceInfo, namespace: string | undefined, listOpts: ListOptions = {}, opts: DeleteOptions = {}): Promise<KubeList<T>> {
    try {
        const list = this.reads.listCached(info, namespace, { labelSelector: listOpts.labelSelector, fieldSelector: listOpts.fieldSelector });
        const items: T[] = [];
        for (const c of list.objects) {
          try {
            items.push(await this.delete<T>(info, c.obj.metadata?.namespace, c.obj.metadata!.name!, opts));
          } catch (e) {
            if (!isNotFound(e)) throw e;
          }
        }
        return { apiVersion: groupVersion(info), kind: info.listKind, metadata: { resourceVersion: String(this.storage.revision()) }, items };
    } catch (e) {
      throw interpret(e, 'delete', info, '');
    }
  }
}

/**
 * The registry's one write path, modelled on Kubernetes' generic registry Store and its
 * GuaranteedUpdate: every create, update, patch, subresource write and delete is a `WriteRequest`
 * run by `write()`, which owns, in this order:
 *
 *   1. read       the current object from the watch cache (after a conflict: the newest known);
 *   2. decide     the request's own function turns it into a Change (update / set / delete / none),
 *                 or the object to create when there is none;
 *   3. preconditions  the object's resourceVersion, DeleteOptions' uid and resourceVersion;
 *   4. strategy and admission  server-owned metadata, PrepareForCreate/Update, BeginCreate/Update
 *                 hooks (undone through Finish on any failure, dry run or no-op), NamespaceLifecycle,
 *                 defaults + validation, generation;
 *   5. storage    one compare-and-swap write at the revision read in 1; a storage Conflict (someone
 *                 wrote in between) goes back to 1, at most MAX_RETRIES times.
 *
 * Failures leave as ApiErrors, through the one mapping (errors.ts `interpret`). The Store never
 * reads storage except to catch up after a conflict, and never touches the HTTP layer.
 */
import { alreadyExists, conflict, invalid, notFound, type ApiError } from '../../api/errors.js';
import { fieldsOf, type KubeObject } from '../../api/object.js';
import { groupVersion, type ResourceInfo } from '../../api/resources.js';
import { isStorageError, type KeyValue, type Storage } from '../../storage/storage.js';
import { admitNamespace, admitObject, type AdmissionPlugin } from './admission.js';
import { interpret, type Operation } from './errors.js';
import { objectStorageKey } from './keys.js';
import { newUID, rfc3339 } from './meta.js';
import { copyOf, metaOf, type Finish, type Strategy } from './strategy.js';
import { decode, type CachedObject, type WatchCaches } from './watchcache.js';

/** Retries of one write after a storage conflict before the conflict is reported. */
export const MAX_RETRIES = 8;

/** What a write does to an existing object. */
export type Change =
  /**
   * A client's new version (PUT, PATCH, scale), checked against the resourceVersion it carries.
   * Of the main resource: full update semantics, admission included. Of the status subresource:
   * only its status is taken; of finalize: only spec.finalizers; of ephemeralcontainers: only
   * spec.ephemeralContainers, with their own validation (the kind's strategy).
   */
  | { kind: 'update'; obj: KubeObject; subresource?: 'status' | 'finalize' | 'ephemeralcontainers' }
  /** A version the server built from the current one (binding, a deletion mark): stored as is. */
  | { kind: 'set'; obj: KubeObject }
  /** Remove the object now. */
  | { kind: 'delete' }
  /** Nothing to write: the answer is the current object. */
  | { kind: 'none' };

export interface WriteRequest {
  /** The verb asked for (it words errors; a write that ends up creating is worded as a create). */
  verb: 'create' | 'update' | 'delete';
  info: ResourceInfo;
  /** Namespace (undefined for cluster-scoped resources). */
  ns: string | undefined;
  name: string;
  dryRun?: boolean;
  /** DeleteOptions.preconditions: checked against the current object on every attempt. */
  preconditions?: { uid?: string; resourceVersion?: string };
  /** The object to create when none exists (a private copy the store may change). Absent: 404. */
  create?(): KubeObject;
  /**
   * The change to the current object; called again after a conflict, so it must not mutate `cur`.
   * Absent: the object must not exist yet (409 AlreadyExists, after admission, as Kubernetes).
   */
  update?(cur: CachedObject): Change;
}

/** The stored form: no resourceVersion (it is the storage revision, stamped on read). */
function encode(obj: KubeObject): string {
  if (obj.metadata?.resourceVersion === undefined) return JSON.stringify(obj);
  const { resourceVersion: _rv, ...md } = obj.metadata;
  return JSON.stringify({ ...obj, metadata: md });
}

/** Everything that is not metadata or status, as a string, for "did the spec change" checks. */
function specFingerprint(obj: KubeObject): string {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj as unknown as Record<string, unknown>;
  return JSON.stringify(rest);
}

/**
 * A hook's Finish, called at most once (the first outcome wins). It returns a promise only when the
 * hook is asynchronous, so the store awaits only then: a synchronous hook adds no tick between the
 * cache read and the storage write. A failed undo or commit is logged: the write's outcome stands.
 */
type Finisher = (success: boolean) => Promise<void> | undefined;

function finisher(f: Finish, what: string): Finisher {
  let done = false;
  return (ok) => {
    if (done) return undefined;
    done = true;
    const log = (e: unknown): void => console.error(`registry: finishing the ${what} hook:`, e);
    try {
      const r = f(ok);
      return r instanceof Promise ? r.catch(log) : undefined;
    } catch (e) {
      log(e);
      return undefined;
    }
  };
}

const NO_FINISH: Finisher = () => undefined;

export interface StoreOptions {
  storage: Storage;
  caches: WatchCaches;
  strategyOf: (info: ResourceInfo) => Strategy;
  clock: () => Date;
  /** Mutating admission plugins, run on create after NamespaceLifecycle (absent: none). */
  admission?: readonly AdmissionPlugin[];
}

export class Store {
  constructor(private readonly opts: StoreOptions) {}

  /**
   * Runs one write to completion (see the file comment). Every failure leaves as an ApiError,
   * interpreted for the operation that failed (a storage KeyExists is AlreadyExists for a create,
   * Conflict otherwise).
   */
  async write(req: WriteRequest): Promise<KubeObject> {
    const strategy = this.opts.strategyOf(req.info);
    const op: { now: Operation } = { now: req.verb };
    try {
      let cur = this.opts.caches.of(req.info).get(req.ns, req.name);
      for (let attempt = 0; ; attempt++) {
        try {
          return await this.attempt(req, strategy, cur, op);
        } catch (e) {
          if (!isStorageError(e, 'Conflict') || attempt >= MAX_RETRIES) throw e;
          cur = await this.latest(req, cur);
        }
      }
    } catch (e) {
      throw interpret(e, op.now, req.info, req.name);
    }
  }

  /**
   * The newest version after a conflict: the watch cache once it has moved past what we tried (it
   * catches up synchronously with storage that delivers events before a write resolves), else the
   * stored value itself (a backend whose events arrive later).
   */
  private async latest(req: WriteRequest, tried: CachedObject | undefined): Promise<CachedObject | undefined> {
    const c = this.opts.caches.of(req.info).get(req.ns, req.name);
    if (c && c.rv !== tried?.rv) return c;
    const kv = await this.opts.storage.get(objectStorageKey(req.info, req.ns, req.name));
    return kv ? decode(kv.value, kv.modRevision) : undefined;
  }

  /** One attempt (not async itself: one promise fewer per write; what it throws synchronously, write() catches). */
  private attempt(req: WriteRequest, strategy: Strategy, cur: CachedObject | undefined, op: { now: Operation }): Promise<KubeObject> {
    const { info, name } = req;
    if (!cur || !req.update) {
      if (!req.create) throw notFound(info, name);
      op.now = 'create';
      return this.createNew(req, strategy, req.create(), cur !== undefined);
    }
    checkPreconditions(info, name, req.preconditions, cur);
    const change = req.update(cur);
    switch (change.kind) {
      case 'none': return Promise.resolve(cur.copy());
      case 'delete': return this.remove(req, strategy, cur, cur.copy());
      case 'update': return this.update(req, strategy, cur, change.obj, change.subresource);
      case 'set': return this.store(req, strategy, cur, change.obj, NO_FINISH);
    }
  }

  /** Create: server-owned metadata, PrepareForCreate, admission, BeginCreate, storage create. */
  private async createNew(req: WriteRequest, strategy: Strategy, obj: KubeObject, exists: boolean): Promise<KubeObject> {
    const { info, ns, name } = req;
    if (ns !== undefined) admitNamespace(this.opts.caches, info, ns, name);
    const o = obj as { apiVersion?: string; kind?: string };
    o.apiVersion = groupVersion(info);
    o.kind = info.kind;
    const md = metaOf(obj);
    md.name = name;
    if (ns !== undefined) md.namespace = ns; else delete md.namespace;
    md.uid = newUID();
    md.creationTimestamp = rfc3339(this.opts.clock());
    delete md.resourceVersion;
    delete md.deletionTimestamp;
    delete md.deletionGracePeriodSeconds;
    delete md.selfLink;
    if (strategy.tracksGeneration) md.generation = 1; else delete md.generation;
    for (const plugin of this.opts.admission ?? []) {
      if (!plugin.handles(info)) continue;
      const r = plugin.admit(obj, { namespace: ns, name, dryRun: !!req.dryRun, cache: (i) => this.opts.caches.of(i) });
      if (r instanceof Promise) await r;
    }
    strategy.prepareForCreate(obj);
    if (strategy.admit) strategy.admit(obj); else admitObject(info, obj);
    if (exists) throw alreadyExists(info, name);
    const begun = strategy.beginCreate(obj, { dryRun: !!req.dryRun });
    const finish = finisher(begun instanceof Promise ? await begun : begun, 'create');
    if (req.dryRun) { await finish(false); return obj; }
    try {
      const kv = await this.opts.storage.create(objectStorageKey(info, ns, name), encode(obj));
      await finish(true);
      return this.written(req, kv);
    } catch (e) {
      await finish(false);
      throw e;
    }
  }

  /**
   * A client's new version: the resourceVersion it carries must be the current one. The main
   * resource gets server-owned metadata from the stored object, PrepareForUpdate, BeginUpdate,
   * admission and generation; a subresource write takes only its part of the input.
   */
  private async update(req: WriteRequest, strategy: Strategy, cur: CachedObject, input: KubeObject, sub: 'status' | 'finalize' | 'ephemeralcontainers' | undefined): Promise<KubeObject> {
    const { info, ns, name } = req;
    const wanted = input.metadata?.resourceVersion;
    if (wanted && wanted !== String(cur.rv)) throw conflict(info, name);
    const old = cur.obj;
    if (sub === 'status') {
      let next = cur.copy();
      if (strategy.statusUpdate) next = strategy.statusUpdate(next, input);
      else fieldsOf(next).status = copyOf(fieldsOf(input).status);
      return this.store(req, strategy, cur, next, NO_FINISH);
    }
    if (sub === 'finalize') {
      if (!strategy.finalize) throw notFound(info, name);
      return this.store(req, strategy, cur, strategy.finalize(old, input), NO_FINISH);
    }
    if (sub === 'ephemeralcontainers') {
      if (!strategy.ephemeralContainers) throw notFound(info, name);
      const next = strategy.ephemeralContainers(old, input);
      if (strategy.tracksGeneration && specFingerprint(next) !== specFingerprint(old)) metaOf(next).generation = (old.metadata?.generation ?? 1) + 1;
      return this.store(req, strategy, cur, next, NO_FINISH);
    }
    const next = copyOf(input);
    const o = next as { apiVersion?: string; kind?: string };
    o.apiVersion = groupVersion(info);
    o.kind = info.kind;
    const md = metaOf(next);
    const omd = old.metadata ?? {};
    md.name = omd.name;
    if (ns !== undefined) md.namespace = ns; else delete md.namespace;
    md.uid = omd.uid;
    md.creationTimestamp = omd.creationTimestamp;
    if (omd.deletionTimestamp) md.deletionTimestamp = omd.deletionTimestamp; else delete md.deletionTimestamp;
    if (omd.deletionGracePeriodSeconds !== undefined) md.deletionGracePeriodSeconds = omd.deletionGracePeriodSeconds; else delete md.deletionGracePeriodSeconds;
    delete md.selfLink;
    strategy.prepareForUpdate(next, old);
    if (omd.deletionTimestamp) {
      const added = (md.finalizers ?? []).filter((f) => !(omd.finalizers ?? []).includes(f));
      if (added.length) throw invalidFinalizers(info, name, added);
    }
    md.resourceVersion = String(cur.rv);
    const begun = strategy.beginUpdate(next, old, { dryRun: !!req.dryRun });
    const finish = finisher(begun instanceof Promise ? await begun : begun, 'update');
    try {
      if (strategy.admit) strategy.admit(next, old); else admitObject(info, next, old);
      if (strategy.tracksGeneration) {
        const gen = omd.generation ?? 1;
        md.generation = specFingerprint(next) !== specFingerprint(old) ? gen + 1 : gen;
      }
    } catch (e) {
      await finish(false);
      throw e;
    }
    return this.store(req, strategy, cur, next, finish);
  }

  /**
   * Stores `next` in place of `cur` (compare-and-swap on cur's revision): removed instead when it is
   * marked for deletion and nothing holds it any more; nothing written when it equals the stored one.
   */
  private async store(req: WriteRequest, strategy: Strategy, cur: CachedObject, nextIn: KubeObject, finish: Finisher): Promise<KubeObject> {
    const rv = String(cur.rv);
    const next = nextIn.metadata?.resourceVersion === rv ? nextIn : { ...nextIn, metadata: { ...nextIn.metadata, resourceVersion: rv } };
    try {
      if (strategy.canRemove(next)) {
        const out = await this.remove(req, strategy, cur, next);
        await finish(!req.dryRun);
        return out;
      }
      const value = encode(next);
      if (value === encode(cur.obj)) { await finish(false); return cur.copy(); } // no-op: no new revision
      if (req.dryRun) { await finish(false); return next; }
      const kv = await this.opts.storage.update(objectStorageKey(req.info, req.ns, req.name), value, cur.rv);
      await finish(true);
      return this.written(req, kv);
    } catch (e) {
      await finish(false);
      throw e;
    }
  }

  /** Deletes the key at cur's revision; answers `last` (the object as it leaves) at the delete's revision. */
  private async remove(req: WriteRequest, strategy: Strategy, cur: CachedObject, last: KubeObject): Promise<KubeObject> {
    if (req.dryRun) return last;
    const { revision } = await this.opts.storage.delete(objectStorageKey(req.info, req.ns, req.name), cur.rv);
    const out = { ...last, metadata: { ...last.metadata, resourceVersion: String(revision) } };
    // The object is gone: a failure to free what it held (a leaked ClusterIP until repair) is logged.
    try {
      const r = strategy.afterDelete(out);
      if (r instanceof Promise) await r.catch((e: unknown) => console.error(`registry: after deleting ${objectStorageKey(req.info, req.ns, req.name)}:`, e));
    } catch (e) {
      console.error(`registry: after deleting ${objectStorageKey(req.info, req.ns, req.name)}:`, e);
    }
    return out;
  }

  /**
   * What a write returns: a private copy of the stored object. The watch cache has already applied
   * the write (storage delivers its event before the write resolves), so its entry is copied rather
   * than parsing the stored value a second time; decoding is the fallback should it be newer.
   */
  private written(req: WriteRequest, kv: KeyValue): KubeObject {
    const c = this.opts.caches.of(req.info).get(req.ns, req.name);
    return c && c.rv === kv.modRevision ? c.copy() : decode(kv.value, kv.modRevision).obj;
  }
}

/** 409 when DeleteOptions' preconditions do not hold, in Kubernetes' wording. */
function checkPreconditions(info: ResourceInfo, name: string, pre: WriteRequest['preconditions'], cur: CachedObject): void {
  if (!pre) return;
  const uid = cur.obj.metadata?.uid;
  if (pre.uid && pre.uid !== uid) {
    throw conflict(info, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${uid ?? ''}`);
  }
  if (pre.resourceVersion && pre.resourceVersion !== String(cur.rv)) {
    throw conflict(info, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${cur.rv}`);
  }
}

/** 422: a finalizer added to an object that is being deleted. */
function invalidFinalizers(info: ResourceInfo, name: string, added: string[]): ApiError {
  return invalid(info.kind, info.group, name, [{ type: 'FieldValueForbidden', field: 'metadata.finalizers', detail: `no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(', ')}}` }]);
}

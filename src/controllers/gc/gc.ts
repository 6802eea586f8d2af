/**
 * Garbage collector (ownerReferences), as kube-controller-manager's:
 * - Background: a dependent whose owners are all gone is deleted; dangling references to gone
 *   owners are removed when other owners remain.
 * - Foreground: an owner being deleted with the `foregroundDeletion` finalizer has its dependents
 *   deleted (foreground too); once none with blockOwnerDeletion remain, the finalizer is removed.
 * - Orphan: an owner being deleted with the `orphan` finalizer has its reference removed from every
 *   dependent, then the finalizer is removed.
 * "Owner gone" is always confirmed with a live GET (uid compared) before anything is deleted.
 */
import type { KubeObject } from '../../api/object.js';
import { deepCopy, objectKey, splitKey } from '../../api/object.js';
import { isConflict, isNotFound } from '../../api/errors.js';
import { R, resourceByKind, type ResourceInfo } from '../../api/resources.js';
import { WorkQueue } from '../../client/workqueue.js';
import type { Controller, ControllerContext } from '../context.js';

export const FINALIZER_FOREGROUND = 'foregroundDeletion';
export const FINALIZER_ORPHAN = 'orphan';

/** Resources the collector watches (as dependents and as owners). */
export const GC_RESOURCES: ResourceInfo[] = [R.pods, R.replicasets, R.deployments, R.statefulsets, R.endpointslices, R.endpoints, R.services, R.configmaps,
  R.daemonsets, R.jobs, R.cronjobs];

type OwnerRef = NonNullable<NonNullable<KubeObject['metadata']>['ownerReferences']>[number];

export class GarbageCollector implements Controller {
  readonly name = 'garbage-collector';
  private readonly queue: WorkQueue;
  private running = false;

  constructor(private readonly ctx: ControllerContext, private readonly resources: ResourceInfo[] = GC_RESOURCES) {
    this.queue = new WorkQueue((k) => this.process(k), { workers: 4, baseDelayMs: 20, maxDelayMs: 10_000 });
    for (const res of resources) {
      ctx.informers.informer(res).addHandlers({
        onAdd: (o) => this.observe(res, o),
        onUpdate: (_a, o) => this.observe(res, o),
        onDelete: (o) => this.vanished(res, o),
      });
    }
  }

  private itemKey(kind: 'dep' | 'owner', res: ResourceInfo, o: KubeObject): string {
    return `${kind}|${res.group}|${res.plural}|${objectKey(o)}`;
  }

  private observe(res: ResourceInfo, o: KubeObject): void {
    if (!this.running) return;
    if (o.metadata?.ownerReferences?.length) this.queue.add(this.itemKey('dep', res, o));
    const f = o.metadata?.finalizers ?? [];
    if (o.metadata?.deletionTimestamp && (f.includes(FINALIZER_FOREGROUND) || f.includes(FINALIZER_ORPHAN))) this.queue.add(this.itemKey('owner', res, o));
  }

  private vanished(_res: ResourceInfo, o: KubeObject): void {
    if (!this.running) return;
    const uid = o.metadata?.uid;
    if (uid) {
      for (const r of this.resources) {
        for (const d of this.ctx.informers.index(r).ownedBy(uid)) this.queue.add(this.itemKey('dep', r, d));
      }
    }
    // A dependent went away: an owner waiting in foreground deletion may now finish.
    for (const ref of o.metadata?.ownerReferences ?? []) {
      const found = this.findCached(ref);
      if (found?.obj.metadata?.deletionTimestamp) this.queue.add(this.itemKey('owner', found.res, found.obj));
    }
  }

  private findCached(ref: OwnerRef): { res: ResourceInfo; obj: KubeObject } | undefined {
    for (const r of this.resources) {
      if (r.kind !== ref.kind) continue;
      const obj = this.ctx.informers.index(r).byUID(ref.uid);
      if (obj) return { res: r, obj };
    }
    return undefined;
  }

  run(): void {
    this.running = true;
    for (const r of this.resources) for (const o of this.ctx.informers.informer(r).list()) this.observe(r, o);
  }

  stop(): void {
    this.running = false;
    this.queue.stop();
  }

  whenIdle(): Promise<void> {
    return this.queue.whenIdle();
  }

  /** True when the owner no longer exists (a live GET says NotFound, or the name has a new uid). */
  private async ownerGone(ref: OwnerRef, namespace: string | undefined): Promise<boolean> {
    const res = resourceByKind(ref.apiVersion, ref.kind);
    if (!res) return false; // unknown kinds are never treated as gone
    const cached = this.findCached(ref);
    if (cached) return false;
    try {
      const live = await this.ctx.client.get(res, res.namespaced ? namespace : undefined, ref.name);
      return live.metadata?.uid !== ref.uid;
    } catch (e) {
      if (isNotFound(e)) return true;
      throw e;
    }
  }

  private async process(item: string): Promise<void> {
    const [kind, group, plural, key] = item.split('|');
    const res = this.resources.find((r) => r.group === group && r.plural === plural);
    if (!res) return;
    const obj = this.ctx.informers.informer(res).get(key);
    if (!obj) return;
    if (kind === 'dep') await this.processDependent(res, obj);
    else await this.processOwner(res, obj);
  }

  private async processDependent(res: ResourceInfo, obj: KubeObject): Promise<void> {
    const refs = obj.metadata?.ownerReferences ?? [];
    if (refs.length === 0 || obj.metadata?.deletionTimestamp) return;
    const { namespace, name } = splitKey(objectKey(obj));
    const gone: OwnerRef[] = [];
    let waitingForeground = false;
    for (const ref of refs) {
      if (await this.ownerGone(ref, namespace || undefined)) gone.push(ref);
      else {
        const owner = this.findCached(ref)?.obj;
        if (owner?.metadata?.deletionTimestamp && owner.metadata.finalizers?.includes(FINALIZER_FOREGROUND)) waitingForeground = true;
      }
    }
    const c = this.ctx.client;
    try {
      if (gone.length === refs.length) {
        await c.delete(res, namespace || undefined, name, { propagationPolicy: 'Background', preconditions: { uid: obj.metadata?.uid } });
      } else if (gone.length > 0) {
        const next = deepCopy(obj);
        next.metadata!.ownerReferences = refs.filter((r) => !gone.some((g) => g.uid === r.uid));
        await c.update(res, namespace || undefined, next);
      } else if (waitingForeground && refs.every((r) => this.findCached(r)?.obj.metadata?.deletionTimestamp)) {
        // Every owner is being deleted in the foreground: the dependent goes first.
        await c.delete(res, namespace || undefined, name, { propagationPolicy: 'Foreground', preconditions: { uid: obj.metadata?.uid } });
      }
    } catch (e) {
      // Gone already: done. A conflict is retried by the queue.
      if (!isNotFound(e)) throw e;
    }
  }

  private async processOwner(res: ResourceInfo, owner: KubeObject): Promise<void> {
    const uid = owner.metadata?.uid ?? '';
    const fins = owner.metadata?.finalizers ?? [];
    if (!owner.metadata?.deletionTimestamp) return;
    const c = this.ctx.client;
    const dependents: { res: ResourceInfo; obj: KubeObject }[] = [];
    for (const r of this.resources) for (const d of this.ctx.informers.index(r).ownedBy(uid)) dependents.push({ res: r, obj: d });
    let done: string;
    if (fins.includes(FINALIZER_ORPHAN)) {
      for (const d of dependents) {
        const next = deepCopy(d.obj);
        next.metadata!.ownerReferences = (next.metadata!.ownerReferences ?? []).filter((r) => r.uid !== uid);
        try { await c.update(d.res, d.obj.metadata?.namespace, next); } catch (e) { if (!isNotFound(e)) throw e; }
      }
      done = FINALIZER_ORPHAN;
    } else if (fins.includes(FINALIZER_FOREGROUND)) {
      let blocking = 0;
      for (const d of dependents) {
        const ref = d.obj.metadata?.ownerReferences?.find((r) => r.uid === uid);
        if (ref?.blockOwnerDeletion) blocking++;
        if (d.obj.metadata?.deletionTimestamp) continue;
        try {
          await c.delete(d.res, d.obj.metadata?.namespace, d.obj.metadata!.name!, { propagationPolicy: 'Foreground', preconditions: { uid: d.obj.metadata?.uid } });
        } catch (e) { if (!isNotFound(e) && !isConflict(e)) throw e; }
      }
      if (blocking > 0) return; // their DELETED events requeue this owner
      done = FINALIZER_FOREGROUND;
    } else return;
    await this.removeFinalizer(res, owner, done);
  }

  private async removeFinalizer(res: ResourceInfo, owner: KubeObject, finalizer: string): Promise<void> {
    const ns = owner.metadata?.namespace;
    for (let attempt = 0; attempt < 5; attempt++) {
      let live: KubeObject;
      try { live = await this.ctx.client.get(res, ns, owner.metadata!.name!); } catch (e) { if (isNotFound(e)) return; throw e; }
      if (live.metadata?.uid !== owner.metadata?.uid || !live.metadata?.finalizers?.includes(finalizer)) return;
      const next = deepCopy(live);
      next.metadata!.finalizers = next.metadata!.finalizers!.filter((f) => f !== finalizer);
      try { await this.ctx.client.update(res, ns, next); return; } catch (e) {
        if (isNotFound(e)) return;
        if (!isConflict(e)) throw e;
      }
    }
    throw new Error(`could not remove finalizer ${finalizer} from ${res.plural} ${objectKey(owner)}`);
  }
}

/**
 * ReplicaSet controller: keeps `spec.replicas` Pods per ReplicaSet (names `<rs>-<5 chars>`), adopts
 * and releases Pods by selector, reports status, records SuccessfulCreate/SuccessfulDelete.
 * Expectations (Pods created/deleted but not yet seen by the informer) stop it from acting twice on
 * a stale cache, as client-go's ControllerExpectations do.
 */
import type { Pod, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { deepCopy, objectKey, splitKey } from '../../api/object.js';
import { isConflict, isNotFound } from '../../api/errors.js';
import { R } from '../../api/resources.js';
import type { ControllerContext } from '../context.js';
import { KeyedController } from '../keyed.js';
import type { EventRecorder } from '../events.js';
import { generateName } from '../../api/generatename.js';
import { controllerRef } from '../util/pods.js';
import { matchesLabelSelector, requiredPairs } from '../../api/selectors.js';
import { planReplicaSet, statusChanged } from './plan.js';

/** Outstanding creates/deletes per controller key, cleared as the informer observes them. */
export class Expectations {
  private readonly m = new Map<string, { adds: Set<string>; dels: Set<string>; at: number }>();
  constructor(private readonly now: () => Date, private readonly ttlMs = 5 * 60_000) {}
  private e(key: string) {
    let x = this.m.get(key);
    if (!x) this.m.set(key, x = { adds: new Set(), dels: new Set(), at: this.now().getTime() });
    return x;
  }
  expectAdd(key: string, pod: string): void { const x = this.e(key); x.adds.add(pod); x.at = this.now().getTime(); }
  expectDel(key: string, pod: string): void { const x = this.e(key); x.dels.add(pod); x.at = this.now().getTime(); }
  observedAdd(key: string, pod: string): void { this.m.get(key)?.adds.delete(pod); }
  observedDel(key: string, pod: string): void { this.m.get(key)?.dels.delete(pod); }
  /** True when nothing is outstanding (or it all expired). */
  satisfied(key: string): boolean {
    const x = this.m.get(key);
    if (!x) return true;
    if ((x.adds.size === 0 && x.dels.size === 0) || this.now().getTime() - x.at > this.ttlMs) { this.m.delete(key); return true; }
    return false;
  }
  forget(key: string): void { this.m.delete(key); }
}

/** The Pod a workload controller creates from its template. */
export function podFromTemplate(owner: { apiVersion: string; kind: string; metadata?: { name?: string; namespace?: string; uid?: string } },
  template: PodTemplateSpec | undefined, name: string): Pod {
  const t = deepCopy(template ?? {});
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      ...(t.metadata ?? {}), name, namespace: owner.metadata?.namespace,
      ownerReferences: [{ apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata?.name ?? '', uid: owner.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true }],
    },
    spec: t.spec,
  };
}

export class ReplicaSetController extends KeyedController {
  readonly name = 'replicaset-controller';
  private readonly recorder: EventRecorder;
  readonly expectations: Expectations;

  constructor(ctx: ControllerContext) {
    super(ctx, R.replicasets, { workers: 4, baseDelayMs: 10, maxDelayMs: 5000 });
    this.recorder = ctx.recorder(this.name);
    this.expectations = new Expectations(ctx.now);
    const inf = ctx.informers;
    inf.informer<ReplicaSet>(R.replicasets).addHandlers({
      onAdd: (r) => this.enqueue(objectKey(r)), onUpdate: (_a, r) => this.enqueue(objectKey(r)),
      onDelete: (r) => { this.expectations.forget(objectKey(r)); this.enqueue(objectKey(r)); },
    });
    inf.informer<Pod>(R.pods).addHandlers({
      onAdd: (p) => this.podEvent(p, undefined, 'add'),
      onUpdate: (a, b) => this.podEvent(b, a, 'update'),
      onDelete: (p) => this.podEvent(p, undefined, 'delete'),
    });
  }

  private podEvent(p: Pod, old: Pod | undefined, kind: 'add' | 'update' | 'delete'): void {
    const ns = p.metadata?.namespace ?? '';
    const ref = controllerRef(p);
    if (ref?.kind === 'ReplicaSet') {
      const key = `${ns}/${ref.name}`;
      if (kind === 'add') this.expectations.observedAdd(key, p.metadata!.name!);
      if (kind === 'delete' || (kind === 'update' && p.metadata?.deletionTimestamp)) this.expectations.observedDel(key, p.metadata!.name!);
      // A ready Pod may become available after minReadySeconds: look again then.
      this.enqueue(key);
    }
    const oldRef = old && controllerRef(old);
    if (oldRef?.kind === 'ReplicaSet' && oldRef.uid !== ref?.uid) this.enqueue(`${ns}/${oldRef.name}`);
    if (!ref && this.running) {
      // An orphan: any ReplicaSet whose selector matches may adopt it.
      for (const rs of this.ctx.informers.index<ReplicaSet>(R.replicasets).inNamespace(ns)) {
        if (matchesLabelSelector(rs.spec?.selector, p.metadata?.labels)) this.enqueue(objectKey(rs));
      }
    }
  }





  /** Syncs one ReplicaSet. */
  async sync(key: string): Promise<void> {
    const { namespace } = splitKey(key);
    const rs = this.ctx.informers.informer<ReplicaSet>(R.replicasets).get(key);
    if (!rs) { this.expectations.forget(key); return; }
    const pods = this.ctx.informers.index<Pod>(R.pods).candidates(namespace, requiredPairs(rs.spec?.selector));
    const owned = this.ctx.informers.index<Pod>(R.pods).ownedBy(rs.metadata?.uid ?? '');
    const all = [...new Map([...pods, ...owned].map((p) => [objectKey(p), p])).values()];
    const now = this.ctx.now();
    const plan = planReplicaSet(rs, all, now, { canAct: this.expectations.satisfied(key) });
    const c = this.ctx.client;
    const ownerRef = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.metadata?.name ?? '', uid: rs.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true };
    for (const p of plan.adopt) {
      const np = deepCopy(p);
      np.metadata!.ownerReferences = [...(np.metadata!.ownerReferences ?? []), ownerRef];
      try { await c.update(R.pods, namespace, np); } catch (e) { if (!isNotFound(e) && !isConflict(e)) throw e; }
    }
    for (const p of plan.release) {
      const np = deepCopy(p);
      np.metadata!.ownerReferences = (np.metadata!.ownerReferences ?? []).filter((r) => r.uid !== rs.metadata?.uid);
      try { await c.update(R.pods, namespace, np); } catch (e) { if (!isNotFound(e) && !isConflict(e)) throw e; }
    }
    for (let i = 0; i < plan.create; i++) {
      const name = generateName(`${rs.metadata!.name}-`);
      const pod = podFromTemplate({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: rs.metadata }, rs.spec?.template, name);
      pod.metadata!.generateName = `${rs.metadata!.name}-`;
      this.expectations.expectAdd(key, name);
      try {
        await c.create(R.pods, namespace, pod);
      } catch (e) {
        this.expectations.observedAdd(key, name);
        this.recorder.event(rs, 'Warning', 'FailedCreate', `Error creating: ${e instanceof Error ? e.message : String(e)}`);
        throw e;
      }
      this.recorder.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${name}`);
    }
    for (const p of plan.delete) {
      this.expectations.expectDel(key, p.metadata!.name!);
      try {
        await c.delete(R.pods, namespace, p.metadata!.name!);
        this.recorder.event(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata!.name}`);
      } catch (e) {
        this.expectations.observedDel(key, p.metadata!.name!);
        if (!isNotFound(e)) throw e;
      }
    }
    if (statusChanged(rs, plan.status)) {
      const next: ReplicaSet = { ...deepCopy(rs), status: plan.status };
      try { await c.update(R.replicasets, namespace, next, { subresource: 'status' }); } catch (e) {
        if (isNotFound(e)) return;
        throw e;
      }
    }
    // Ready but not yet available Pods become available after minReadySeconds: check again then.
    const minReady = rs.spec?.minReadySeconds ?? 0;
    if (minReady > 0 && (plan.status.readyReplicas ?? 0) > (plan.status.availableReplicas ?? 0)) this.queue.addAfter(key, minReady * 1000);
  }
}

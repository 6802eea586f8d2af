/**
 * Deployment controller: queue plumbing around `planDeployment`. Keys are Deployment
 * `namespace/name`; ReplicaSet changes requeue their owning Deployment. Orphan ReplicaSets matching
 * a Deployment's selector are adopted. Writes: ReplicaSets (create/scale/delete), the revision
 * annotation, then status through the status subresource.
 */
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { deepCopy, objectKey, splitKey } from '../../api/object.js';
import { isAlreadyExists, isConflict, isNotFound } from '../../api/errors.js';
import { R } from '../../api/resources.js';
import type { ControllerContext } from '../context.js';
import { KeyedController } from '../keyed.js';
import type { EventRecorder } from '../events.js';
import { StaleCacheError } from '../errors.js';
import { controllerRef } from '../util/pods.js';
import { matchesLabelSelector } from '../../api/selectors.js';
import { ANNOTATION_REVISION, deploymentStatusChanged, ownedReplicaSets, planDeployment } from './plan.js';

export class DeploymentController extends KeyedController {
  readonly name = 'deployment-controller';
  private readonly recorder: EventRecorder;

  constructor(ctx: ControllerContext) {
    super(ctx, R.deployments, { workers: 2, baseDelayMs: 10, maxDelayMs: 5000 });
    this.recorder = ctx.recorder(this.name);
    const inf = ctx.informers;
    inf.informer<Deployment>(R.deployments).addHandlers({
      onAdd: (d) => this.enqueue(objectKey(d)), onUpdate: (_a, d) => this.enqueue(objectKey(d)), onDelete: (d) => this.enqueue(objectKey(d)),
    });
    const rsEvent = (rs: ReplicaSet) => {
      const ref = controllerRef(rs);
      const ns = rs.metadata?.namespace ?? '';
      if (ref?.kind === 'Deployment') this.enqueue(`${ns}/${ref.name}`);
      else if (!ref && this.running) {
        for (const d of inf.index<Deployment>(R.deployments).inNamespace(ns)) {
          if (matchesLabelSelector(d.spec?.selector, rs.metadata?.labels)) this.enqueue(objectKey(d));
        }
      }
    };
    inf.informer<ReplicaSet>(R.replicasets).addHandlers({ onAdd: rsEvent, onUpdate: (_a, b) => rsEvent(b), onDelete: rsEvent });
  }





  /** Syncs one Deployment. */
  async sync(key: string): Promise<void> {
    const { namespace } = splitKey(key);
    const inf = this.ctx.informers;
    const d = inf.informer<Deployment>(R.deployments).get(key);
    if (!d) return;
    const c = this.ctx.client;
    const inNs = inf.index<ReplicaSet>(R.replicasets).inNamespace(namespace);
    // Adopt orphans that match the selector (ClaimReplicaSets).
    for (const rs of inNs) {
      if (controllerRef(rs) || rs.metadata?.deletionTimestamp || d.metadata?.deletionTimestamp) continue;
      if (!matchesLabelSelector(d.spec?.selector, rs.metadata?.labels)) continue;
      const next = deepCopy(rs);
      next.metadata!.ownerReferences = [...(next.metadata!.ownerReferences ?? []),
        { apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata!.name!, uid: d.metadata!.uid!, controller: true, blockOwnerDeletion: true }];
      try { await c.update(R.replicasets, namespace, next); } catch (e) { if (!isNotFound(e) && !isConflict(e)) throw e; }
      throw new StaleCacheError(key); // re-plan once the adoption is visible
    }
    const owned = ownedReplicaSets(d, inNs);
    const plan = planDeployment(d, owned, this.ctx.now());
    if (plan.create) {
      try {
        await c.create(R.replicasets, namespace, plan.create);
      } catch (e) {
        if (!isAlreadyExists(e)) throw e;
        const clash = inf.informer<ReplicaSet>(R.replicasets).get(`${namespace}/${plan.create.metadata!.name}`);
        if (clash && controllerRef(clash)?.uid !== d.metadata?.uid) {
          // A hash collision with someone else's ReplicaSet: bump collisionCount and try again.
          await c.update(R.deployments, namespace, { ...deepCopy(d), status: { ...(d.status ?? {}), collisionCount: (d.status?.collisionCount ?? 0) + 1 } }, { subresource: 'status' });
        }
        throw new StaleCacheError(key);
      }
    }
    for (const rs of plan.update) {
      try { await c.update(R.replicasets, namespace, rs); } catch (e) { if (!isNotFound(e)) throw e; }
    }
    for (const rs of plan.delete) {
      try { await c.delete(R.replicasets, namespace, rs.metadata!.name!); } catch (e) { if (!isNotFound(e)) throw e; }
    }
    for (const ev of plan.events) this.recorder.event(d, ev.type, ev.reason, ev.message);
    let current = d;
    if (plan.revision && d.metadata?.annotations?.[ANNOTATION_REVISION] !== plan.revision) {
      current = await c.patch<Deployment>(R.deployments, namespace, d.metadata!.name!, 'application/merge-patch+json',
        { metadata: { annotations: { [ANNOTATION_REVISION]: plan.revision } } });
    }
    if (deploymentStatusChanged(d.status, plan.status)) {
      await c.update(R.deployments, namespace, { ...deepCopy(current), status: plan.status }, { subresource: 'status' });
    }
    // Re-check for the progress deadline while a rollout is under way.
    if (!plan.complete && !d.spec?.paused) this.queue.addAfter(key, Math.max(1, d.spec?.progressDeadlineSeconds ?? 600) * 1000 + 100);
  }
}

/**
 * Disruption controller: keeps every PodDisruptionBudget's status current (`planPdb`, plan.ts) as
 * Pods come, go and change readiness, so the eviction subresource (and `kubectl drain`) can decide.
 */
import type { ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { isNotFound } from '../../api/errors.js';
import { deepCopy, objectKey, splitKey } from '../../api/object.js';
import { R } from '../../api/resources.js';
import { matchesLabelSelector } from '../../api/selectors.js';
import type { ControllerContext } from '../context.js';
import { KeyedController } from '../keyed.js';
import { controllerRef } from '../util/pods.js';
import { DISRUPTED_POD_TIMEOUT_MS, planPdb } from './plan.js';

export class DisruptionController extends KeyedController {
  readonly name = 'disruption-controller';

  constructor(ctx: ControllerContext) {
    super(ctx, R.poddisruptionbudgets, { workers: 2, baseDelayMs: 10, maxDelayMs: 5000 });
    ctx.informers.informer<PodDisruptionBudget>(R.poddisruptionbudgets).addHandlers({
      onAdd: (b) => this.enqueue(objectKey(b)), onUpdate: (_a, b) => this.enqueue(objectKey(b)),
    });
    const podEvent = (p: Pod): void => {
      if (!this.running) return;
      for (const b of ctx.informers.index<PodDisruptionBudget>(R.poddisruptionbudgets).inNamespace(p.metadata?.namespace ?? '')) {
        if (b.spec?.selector && matchesLabelSelector(b.spec.selector, p.metadata?.labels)) this.enqueue(objectKey(b));
      }
    };
    ctx.informers.informer<Pod>(R.pods).addHandlers({ onAdd: podEvent, onUpdate: (_a, p) => podEvent(p), onDelete: podEvent });
    ctx.informers.informer<ReplicaSet>(R.replicasets);
    ctx.informers.informer<StatefulSet>(R.statefulsets);
  }

  /** The scale of the controller owning a Pod (ReplicaSet or StatefulSet), counted once per controller. */
  private scaleOf = (p: Pod): { uid: string; replicas: number } | undefined => {
    const ref = controllerRef(p);
    if (!ref) return undefined;
    const res = ref.kind === 'ReplicaSet' ? R.replicasets : ref.kind === 'StatefulSet' ? R.statefulsets : undefined;
    if (!res) return undefined;
    const owner = this.ctx.informers.index<ReplicaSet | StatefulSet>(res).byUID(ref.uid);
    return owner ? { uid: ref.uid, replicas: owner.spec?.replicas ?? 1 } : undefined;
  };

  async sync(key: string): Promise<void> {
    const { namespace } = splitKey(key);
    const pdb = this.ctx.informers.informer<PodDisruptionBudget>(R.poddisruptionbudgets).get(key);
    if (!pdb || pdb.metadata?.deletionTimestamp) return;
    const pods = this.ctx.informers.index<Pod>(R.pods).inNamespace(namespace);
    const status = planPdb(pdb, pods, this.scaleOf, this.ctx.now());
    const comparable = (s: unknown): string => JSON.stringify(s, (k, v: unknown) => (k === 'lastTransitionTime' ? undefined : v));
    if (comparable(status) !== comparable(pdb.status ?? {})) {
      try {
        await this.ctx.client.update(R.poddisruptionbudgets, namespace, { ...deepCopy(pdb), status }, { subresource: 'status' });
      } catch (e) { if (!isNotFound(e)) throw e; }
    }
    if (status.disruptedPods) this.queue.addAfter(key, DISRUPTED_POD_TIMEOUT_MS);
  }
}

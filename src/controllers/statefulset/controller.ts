/**
 * StatefulSet controller: queue plumbing around `planStatefulSet`, with events
 * "create Pod web-0 in StatefulSet web successful" as Kubernetes words them.
 */
import type { StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { deepCopy, objectKey, splitKey } from '../../api/object.js';
import { isAlreadyExists, isNotFound } from '../../api/errors.js';
import { R } from '../../api/resources.js';
import type { ControllerContext } from '../context.js';
import { KeyedController } from '../keyed.js';
import type { EventRecorder } from '../events.js';
import { canonicalJson } from '../util/templatehash.js';
import { controllerRef } from '../util/pods.js';
import { planStatefulSet } from './plan.js';

export class StatefulSetController extends KeyedController {
  readonly name = 'statefulset-controller';
  private readonly recorder: EventRecorder;

  constructor(ctx: ControllerContext) {
    super(ctx, R.statefulsets, { workers: 2, baseDelayMs: 10, maxDelayMs: 5000 });
    this.recorder = ctx.recorder(this.name);
    ctx.informers.informer<StatefulSet>(R.statefulsets).addHandlers({
      onAdd: (s) => this.enqueue(objectKey(s)), onUpdate: (_a, s) => this.enqueue(objectKey(s)), onDelete: (s) => this.enqueue(objectKey(s)),
    });
    const podEvent = (p: Pod) => {
      const ref = controllerRef(p);
      if (ref?.kind === 'StatefulSet') this.enqueue(`${p.metadata?.namespace}/${ref.name}`);
    };
    ctx.informers.informer<Pod>(R.pods).addHandlers({ onAdd: podEvent, onUpdate: (_a, b) => podEvent(b), onDelete: podEvent });
  }





  /** Syncs one StatefulSet. */
  async sync(key: string): Promise<void> {
    const { namespace } = splitKey(key);
    const sts = this.ctx.informers.informer<StatefulSet>(R.statefulsets).get(key);
    if (!sts) return;
    const pods = this.ctx.informers.index<Pod>(R.pods).ownedBy(sts.metadata?.uid ?? '');
    const plan = planStatefulSet(sts, pods, this.ctx.now());
    const c = this.ctx.client;
    const stsName = sts.metadata?.name;
    for (const p of plan.create) {
      try {
        await c.create(R.pods, namespace, p);
        this.recorder.event(sts, 'Normal', 'SuccessfulCreate', `create Pod ${p.metadata?.name} in StatefulSet ${stsName} successful`);
      } catch (e) {
        // The old Pod of that name is still being deleted: its DELETED event requeues us.
        if (isAlreadyExists(e)) continue;
        this.recorder.event(sts, 'Warning', 'FailedCreate', `create Pod ${p.metadata?.name} in StatefulSet ${stsName} failed error: ${e instanceof Error ? e.message : e}`);
        throw e;
      }
    }
    for (const p of plan.delete) {
      try {
        await c.delete(R.pods, namespace, p.metadata!.name!);
        this.recorder.event(sts, 'Normal', 'SuccessfulDelete', `delete Pod ${p.metadata?.name} in StatefulSet ${stsName} successful`);
      } catch (e) { if (!isNotFound(e)) throw e; }
    }
    if (canonicalJson(sts.status ?? {}) !== canonicalJson(plan.status)) {
      try {
        await c.update(R.statefulsets, namespace, { ...deepCopy(sts), status: plan.status }, { subresource: 'status' });
      } catch (e) { if (!isNotFound(e)) throw e; }
    }
  }
}

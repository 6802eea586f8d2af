/**
 * DaemonSet controller: one Pod per eligible node, as `planDaemonSet` decides (pure, plan.ts). Each
 * Pod is created unscheduled with node affinity for its node (the default scheduler binds it, as in
 * Kubernetes since 1.12), labelled with the template hash (`controller-revision-hash`) and the
 * DaemonSet's generation (`pod-template-generation`). Rolling updates replace Pods of an older hash.
 */
import type { DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { isNotFound } from '../../api/errors.js';
import { generateName } from '../../api/generatename.js';
import { deepCopy, objectKey, splitKey } from '../../api/object.js';
import { R } from '../../api/resources.js';
import type { ControllerContext } from '../context.js';
import { computeTemplateHash } from '../deployment/hash.js';
import type { EventRecorder } from '../events.js';
import { KeyedController } from '../keyed.js';
import { Expectations, podFromTemplate } from '../replicaset/controller.js';
import { controllerRef } from '../util/pods.js';
import { planDaemonSet, podTemplateForNode, REVISION_LABEL } from './plan.js';

export class DaemonSetController extends KeyedController {
  readonly name = 'daemonset-controller';
  private readonly recorder: EventRecorder;
  private readonly expectations: Expectations;

  constructor(ctx: ControllerContext) {
    super(ctx, R.daemonsets, { workers: 2, baseDelayMs: 10, maxDelayMs: 5000 });
    this.recorder = ctx.recorder(this.name);
    this.expectations = new Expectations(ctx.now);
    ctx.informers.informer<DaemonSet>(R.daemonsets).addHandlers({
      onAdd: (d) => this.enqueue(objectKey(d)), onUpdate: (_a, d) => this.enqueue(objectKey(d)),
      onDelete: (d) => this.expectations.forget(objectKey(d)),
    });
    ctx.informers.informer<Pod>(R.pods).addHandlers({
      onAdd: (p) => this.podEvent(p, 'add'), onUpdate: (_a, p) => this.podEvent(p, 'update'), onDelete: (p) => this.podEvent(p, 'delete'),
    });
    // A node added, relabelled, tainted or made ready changes where daemon Pods belong.
    const all = (): void => { for (const d of ctx.informers.informer<DaemonSet>(R.daemonsets).list()) this.enqueue(objectKey(d)); };
    ctx.informers.informer<Node>(R.nodes).addHandlers({ onAdd: all, onUpdate: all, onDelete: all });
  }

  private podEvent(p: Pod, kind: 'add' | 'update' | 'delete'): void {
    const ref = controllerRef(p);
    if (ref?.kind !== 'DaemonSet') return;
    const key = `${p.metadata?.namespace}/${ref.name}`;
    if (kind === 'add') this.expectations.observedAdd(key, p.metadata!.name!);
    if (kind === 'delete' || p.metadata?.deletionTimestamp) this.expectations.observedDel(key, p.metadata!.name!);
    this.enqueue(key);
  }

  async sync(key: string): Promise<void> {
    const { namespace } = splitKey(key);
    const ds = this.ctx.informers.informer<DaemonSet>(R.daemonsets).get(key);
    if (!ds || ds.metadata?.deletionTimestamp) { this.expectations.forget(key); return; }
    const pods = this.ctx.informers.index<Pod>(R.pods).ownedBy(ds.metadata?.uid ?? '').filter((p) => controllerRef(p)?.uid === ds.metadata?.uid);
    const nodes = this.ctx.informers.informer<Node>(R.nodes).list();
    const hash = computeTemplateHash(ds.spec?.template, ds.status?.collisionCount);
    const now = this.ctx.now();
    const plan = planDaemonSet(ds, nodes, pods, hash, now, this.expectations.satisfied(key));
    const c = this.ctx.client;
    for (const p of plan.delete) {
      this.expectations.expectDel(key, p.metadata!.name!);
      try {
        await c.delete(R.pods, namespace, p.metadata!.name!);
        this.recorder.event(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata!.name}`);
      } catch (e) {
        this.expectations.observedDel(key, p.metadata!.name!);
        if (!isNotFound(e)) throw e;
      }
    }
    for (const node of plan.create) {
      const name = generateName(`${ds.metadata!.name}-`);
      const template = podTemplateForNode(ds.spec!.template, node);
      const pod = podFromTemplate({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: ds.metadata }, template, name);
      pod.metadata!.generateName = `${ds.metadata!.name}-`;
      pod.metadata!.labels = { ...pod.metadata!.labels, [REVISION_LABEL]: hash, 'pod-template-generation': String(ds.metadata?.generation ?? 1) };
      this.expectations.expectAdd(key, name);
      try {
        await c.create(R.pods, namespace, pod);
      } catch (e) {
        this.expectations.observedAdd(key, name);
        this.recorder.event(ds, 'Warning', 'FailedCreate', `Error creating: ${e instanceof Error ? e.message : String(e)}`);
        throw e;
      }
      this.recorder.event(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${name}`);
    }
    if (JSON.stringify(plan.status) !== JSON.stringify(ds.status ?? {})) {
      try { await c.update(R.daemonsets, namespace, { ...deepCopy(ds), status: plan.status }, { subresource: 'status' }); } catch (e) { if (!isNotFound(e)) throw e; }
    }
    // Ready Pods become available after minReadySeconds.
    const minReady = ds.spec?.minReadySeconds ?? 0;
    if (minReady > 0 && (plan.status.numberReady ?? 0) > (plan.status.numberAvailable ?? 0)) this.queue.addAfter(key, minReady * 1000);
  }
}

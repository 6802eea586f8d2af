/**
 * Job controller: runs each Job's Pods as `planJob` decides (pure, plan.ts), writes the Job's
 * status, records Events (SuccessfulCreate, Completed, BackoffLimitExceeded, ...), and deletes a
 * finished Job once its ttlSecondsAfterFinished has passed (the TTL-after-finished controller's
 * work). Expectations keep it from creating twice on a cache that has not yet seen its Pods.
 */
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { isNotFound } from '../../api/errors.js';
import { generateName } from '../../api/generatename.js';
import { deepCopy, objectKey, splitKey } from '../../api/object.js';
import { R } from '../../api/resources.js';
import type { ControllerContext } from '../context.js';
import type { EventRecorder } from '../events.js';
import { KeyedController } from '../keyed.js';
import { Expectations, podFromTemplate } from '../replicaset/controller.js';
import { controllerRef } from '../util/pods.js';
import { COMPLETION_INDEX, planJob, type JobPlanOptions } from './plan.js';

export class JobController extends KeyedController {
  readonly name = 'job-controller';
  private readonly recorder: EventRecorder;
  private readonly expectations: Expectations;

  constructor(ctx: ControllerContext, private readonly opts: JobPlanOptions = {}) {
    super(ctx, R.jobs, { workers: 4, baseDelayMs: 10, maxDelayMs: 5000 });
    this.recorder = ctx.recorder(this.name);
    this.expectations = new Expectations(ctx.now);
    ctx.informers.informer<Job>(R.jobs).addHandlers({
      onAdd: (j) => this.enqueue(objectKey(j)), onUpdate: (_a, j) => this.enqueue(objectKey(j)),
      onDelete: (j) => this.expectations.forget(objectKey(j)),
    });
    ctx.informers.informer<Pod>(R.pods).addHandlers({
      onAdd: (p) => this.podEvent(p, 'add'), onUpdate: (_a, p) => this.podEvent(p, 'update'), onDelete: (p) => this.podEvent(p, 'delete'),
    });
  }

  private podEvent(p: Pod, kind: 'add' | 'update' | 'delete'): void {
    const ref = controllerRef(p);
    if (ref?.kind !== 'Job') return;
    const key = `${p.metadata?.namespace}/${ref.name}`;
    if (kind === 'add') this.expectations.observedAdd(key, p.metadata!.name!);
    if (kind === 'delete' || p.metadata?.deletionTimestamp) this.expectations.observedDel(key, p.metadata!.name!);
    this.enqueue(key);
  }

  async sync(key: string): Promise<void> {
    const { namespace } = splitKey(key);
    const job = this.ctx.informers.informer<Job>(R.jobs).get(key);
    if (!job || job.metadata?.deletionTimestamp) { this.expectations.forget(key); return; }
    if (!this.expectations.satisfied(key)) return;
    const pods = this.ctx.informers.index<Pod>(R.pods).ownedBy(job.metadata?.uid ?? '').filter((p) => controllerRef(p)?.uid === job.metadata?.uid);
    const now = this.ctx.now();
    const plan = planJob(job, pods, now, this.opts);
    const c = this.ctx.client;
    if (plan.deleteJob) {
      try { await c.delete(R.jobs, namespace, job.metadata!.name!, { propagationPolicy: 'Background', preconditions: { uid: job.metadata?.uid } }); } catch (e) { if (!isNotFound(e)) throw e; }
      return;
    }
    for (const p of plan.delete) {
      this.expectations.expectDel(key, p.metadata!.name!);
      try {
        await c.delete(R.pods, namespace, p.metadata!.name!);
        this.recorder.event(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata!.name}`);
      } catch (e) {
        this.expectations.observedDel(key, p.metadata!.name!);
        if (!isNotFound(e)) throw e;
      }
    }
    const jobName = job.metadata!.name!;
    for (const want of plan.create) {
      const prefix = want.index === undefined ? `${jobName}-` : `${jobName}-${want.index}-`;
      const name = generateName(prefix);
      const pod = podFromTemplate({ apiVersion: 'batch/v1', kind: 'Job', metadata: job.metadata }, job.spec?.template, name);
      pod.metadata!.generateName = prefix;
      if (want.index !== undefined) {
        // Indexed: the index in an annotation and a label, the hostname `<job>-<index>`, and the
        // JOB_COMPLETION_INDEX environment variable from the annotation (as Kubernetes sets them).
        const ix = String(want.index);
        pod.metadata!.annotations = { ...pod.metadata!.annotations, [COMPLETION_INDEX]: ix };
        pod.metadata!.labels = { ...pod.metadata!.labels, [COMPLETION_INDEX]: ix };
        const spec = pod.spec!;
        spec.hostname = `${jobName}-${ix}`;
        const env = { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${COMPLETION_INDEX}']` } } };
        spec.containers = spec.containers.map((ct) => ({ ...ct, env: [...(ct.env ?? []).filter((e) => e.name !== 'JOB_COMPLETION_INDEX'), env] }));
      }
      this.expectations.expectAdd(key, name);
      try {
        await c.create(R.pods, namespace, pod);
      } catch (e) {
        this.expectations.observedAdd(key, name);
        this.recorder.event(job, 'Warning', 'FailedCreate', `Error creating: ${e instanceof Error ? e.message : String(e)}`);
        throw e;
      }
      this.recorder.event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${name}`);
    }
    for (const ev of plan.events) this.recorder.event(job, ev.type, ev.reason, ev.message);
    if (JSON.stringify(plan.status) !== JSON.stringify(job.status ?? {})) {
      try {
        await c.update(R.jobs, namespace, { ...deepCopy(job), status: plan.status }, { subresource: 'status' });
      } catch (e) {
        if (isNotFound(e)) return;
        throw e;
      }
    }
    if (plan.requeueAfterMs !== undefined && Number.isFinite(plan.requeueAfterMs)) this.queue.addAfter(key, Math.max(1, plan.requeueAfterMs));
  }
}

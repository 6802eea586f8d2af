/**
 * CronJob controller: starts Jobs on schedule as `planCronJob` decides (pure, plan.ts), applies
 * concurrencyPolicy Replace, prunes Job history, writes status (active, lastScheduleTime,
 * lastSuccessfulTime) and looks again at the next schedule time. The clock is the context's.
 */
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import { isAlreadyExists, isNotFound } from '../../api/errors.js';
import { deepCopy, objectKey, splitKey } from '../../api/object.js';
import { R } from '../../api/resources.js';
import type { ControllerContext } from '../context.js';
import type { EventRecorder } from '../events.js';
import { KeyedController } from '../keyed.js';
import { controllerRef } from '../util/pods.js';
import { jobFromTemplate, planCronJob } from './plan.js';

export class CronJobController extends KeyedController {
  readonly name = 'cronjob-controller';
  private readonly recorder: EventRecorder;
  private zone?: string;

  constructor(ctx: ControllerContext, private readonly opts: { localZone?: string } = {}) {
    super(ctx, R.cronjobs, { workers: 2, baseDelayMs: 50, maxDelayMs: 10_000 });
    this.recorder = ctx.recorder(this.name);
    ctx.informers.informer<CronJob>(R.cronjobs).addHandlers({
      onAdd: (j) => this.enqueue(objectKey(j)), onUpdate: (_a, j) => this.enqueue(objectKey(j)),
    });
    const jobEvent = (j: Job): void => {
      const ref = controllerRef(j);
      if (ref?.kind === 'CronJob') this.enqueue(`${j.metadata?.namespace}/${ref.name}`);
    };
    ctx.informers.informer<Job>(R.jobs).addHandlers({ onAdd: jobEvent, onUpdate: (_a, j) => jobEvent(j), onDelete: jobEvent });
  }

  /**
   * The machine's time zone, for CronJobs without spec.timeZone. Asked for on the first CronJob,
   * not at start: the first Intl.DateTimeFormat loads ICU's time-zone data (~12 ms of CPU and ~8 MB
   * of resident memory in every daemon, most of which never runs a CronJob; bench/cluster).
   */
  private get localZone(): string {
    this.zone ??= this.opts.localZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC';
    return this.zone;
  }

  async sync(key: string): Promise<void> {
    const { namespace } = splitKey(key);
    const cj = this.ctx.informers.informer<CronJob>(R.cronjobs).get(key);
    if (!cj || cj.metadata?.deletionTimestamp) return;
    const jobs = this.ctx.informers.index<Job>(R.jobs).ownedBy(cj.metadata?.uid ?? '').filter((j) => controllerRef(j)?.uid === cj.metadata?.uid);
    const plan = planCronJob(cj, jobs, this.ctx.now(), this.localZone);
    const c = this.ctx.client;
    for (const ev of plan.events) this.recorder.event(cj, ev.type, ev.reason, ev.message);
    for (const j of plan.replace) {
      try {
        await c.delete(R.jobs, namespace, j.metadata!.name!, { propagationPolicy: 'Background' });
        this.recorder.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${j.metadata!.name}`);
      } catch (e) { if (!isNotFound(e)) throw e; }
    }
    let status = plan.status;
    if (plan.start) {
      try {
        const job = await c.create(R.jobs, namespace, jobFromTemplate(cj, plan.start.name, plan.start.scheduledTime));
        this.recorder.event(cj, 'Normal', 'SuccessfulCreate', `Created job ${plan.start.name}`);
        status = { ...status, active: [...(status.active ?? []), { kind: 'Job', namespace, name: job.metadata?.name, uid: job.metadata?.uid, apiVersion: 'batch/v1', resourceVersion: job.metadata?.resourceVersion }] };
      } catch (e) {
        if (!isAlreadyExists(e)) {
          this.recorder.event(cj, 'Warning', 'FailedCreate', `Error creating job: ${e instanceof Error ? e.message : String(e)}`);
          throw e;
        }
      }
    }
    for (const j of plan.prune) {
      try {
        await c.delete(R.jobs, namespace, j.metadata!.name!, { propagationPolicy: 'Background' });
        this.recorder.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${j.metadata!.name}`);
      } catch (e) { if (!isNotFound(e)) throw e; }
    }
    if (JSON.stringify(status) !== JSON.stringify(cj.status ?? {})) {
      try { await c.update(R.cronjobs, namespace, { ...deepCopy(cj), status }, { subresource: 'status' }); } catch (e) { if (!isNotFound(e)) throw e; }
    }
    if (plan.requeueAfterMs !== undefined) this.queue.addAfter(key, Math.max(1, plan.requeueAfterMs));
  }
}

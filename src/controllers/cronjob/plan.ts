/**
 * Pure decisions of the CronJob controller (k8s.io/kubernetes/pkg/controller/cronjob, v2): given a
 * CronJob, the Jobs it owns and the clock, which scheduled time (if any) to start a Job for, what
 * concurrencyPolicy and startingDeadlineSeconds say about it, which finished Jobs fall out of the
 * history limits, the status to write and when the next schedule time comes. The clock is an
 * argument, so every rule is tested without waiting for a minute to pass.
 */
import type { CronJob, CronJobStatus, Job } from 'kubernetes-types/batch/v1.js';
import type { ObjectReference } from 'kubernetes-types/core/v1.js';
import { nextScheduleTime, scheduleTimes } from '../../api/schedule.js';

export const SCHEDULED_TIMESTAMP = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

export interface CronJobPlan {
  /** Start a Job for this scheduled time (named `<cronjob>-<minutes since epoch>`). */
  start?: { scheduledTime: Date; name: string };
  /** Active Jobs to delete first (concurrencyPolicy Replace). */
  replace: Job[];
  /** Finished Jobs beyond the history limits, oldest first. */
  prune: Job[];
  status: CronJobStatus;
  events: { type: 'Normal' | 'Warning'; reason: string; message: string }[];
  /** When to look again (ms from now): the next schedule time. */
  requeueAfterMs?: number;
}

const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

function finished(j: Job): 'Complete' | 'Failed' | undefined {
  for (const c of j.status?.conditions ?? []) {
    if (c.status === 'True' && (c.type === 'Complete' || c.type === 'Failed')) return c.type;
  }
  return undefined;
}

/** The Job name for a scheduled time: `<cronjob>-<minutes since the epoch>` (getJobName). */
export function jobNameFor(cj: CronJob, scheduled: Date): string {
  return `${cj.metadata?.name}-${Math.floor(scheduled.getTime() / 60000)}`;
}

/** The time zone a CronJob's schedule is read in: spec.timeZone, else the controller's local zone. */
export function zoneOf(cj: CronJob, localZone: string): string {
  return cj.spec?.timeZone ?? localZone;
}

/** Plans one sync at `now`. `jobs` are the Jobs this CronJob controls. */
export function planCronJob(cj: CronJob, jobs: readonly Job[], now: Date, localZone = 'UTC'): CronJobPlan {
  const spec = cj.spec!;
  const events: CronJobPlan['events'] = [];
  const prev = cj.status ?? {};
  const activeJobs = jobs.filter((j) => !finished(j));
  const toRef = (j: Job): ObjectReference => ({ kind: 'Job', namespace: j.metadata?.namespace, name: j.metadata?.name, uid: j.metadata?.uid, apiVersion: 'batch/v1', resourceVersion: j.metadata?.resourceVersion });
  const status: CronJobStatus = { ...prev };
  // Jobs that finished since the last sync: lastSuccessfulTime.
  for (const j of jobs) {
    if (finished(j) === 'Complete' && j.status?.completionTime && (!status.lastSuccessfulTime || j.status.completionTime > status.lastSuccessfulTime)) {
      status.lastSuccessfulTime = j.status.completionTime;
    }
  }
  status.active = activeJobs.map(toRef);
  if (status.active.length === 0) delete status.active;
  const plan: CronJobPlan = { replace: [], prune: [], status, events };

  // History: finished Jobs past the limits, oldest first.
  const byAge = (a: Job, b: Job): number => (Date.parse(a.status?.startTime ?? a.metadata?.creationTimestamp ?? '') || 0) - (Date.parse(b.status?.startTime ?? b.metadata?.creationTimestamp ?? '') || 0);
  for (const [kind, limit] of [['Complete', spec.successfulJobsHistoryLimit ?? 3], ['Failed', spec.failedJobsHistoryLimit ?? 1]] as const) {
    const done = jobs.filter((j) => finished(j) === kind).sort(byAge);
    if (done.length > limit) plan.prune.push(...done.slice(0, done.length - limit));
  }

  const zone = zoneOf(cj, localZone);
  let next: Date;
  try {
    next = nextScheduleTime(spec.schedule, zone, now);
  } catch (e) {
    events.push({ type: 'Warning', reason: 'UnparseableSchedule', message: `unparseable schedule: ${JSON.stringify(spec.schedule)} : ${e instanceof Error ? e.message : String(e)}` });
    return plan;
  }
  plan.requeueAfterMs = next.getTime() - now.getTime() + 100;
  if (spec.suspend) return plan;

  // The most recent schedule time not yet acted on, since the last one (or creation).
  const since = new Date(Date.parse(prev.lastScheduleTime ?? cj.metadata?.creationTimestamp ?? rfc3339(now)));
  let earliest = since;
  const deadline = spec.startingDeadlineSeconds;
  if (deadline !== undefined && deadline !== null) {
    const d = new Date(now.getTime() - deadline * 1000);
    if (d > earliest) earliest = d;
  }
  const { times, more } = scheduleTimes(spec.schedule, zone, earliest, now, 100);
  if (times.length === 0) return plan;
  if (more || times.length > 100) {
    events.push({ type: 'Warning', reason: 'TooManyMissedTimes', message: 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew' });
  }
  const scheduled = times[times.length - 1]!;
  if (deadline !== undefined && deadline !== null && scheduled.getTime() + deadline * 1000 < now.getTime()) {
    events.push({ type: 'Warning', reason: 'MissSchedule', message: `Missed scheduled time to start a job: ${rfc3339(scheduled)}` });
    return plan;
  }
  const name = jobNameFor(cj, scheduled);
  if (jobs.some((j) => j.metadata?.name === name)) return plan;
  if (activeJobs.length > 0) {
    if (spec.concurrencyPolicy === 'Forbid') {
      events.push({ type: 'Normal', reason: 'JobAlreadyActive', message: 'Not starting job because prior execution is running and concurrency policy is Forbid' });
      // Try again soon: the scheduled time stays due while it is within its deadline.
      plan.requeueAfterMs = Math.min(plan.requeueAfterMs, 1000);
      return plan;
    }
    if (spec.concurrencyPolicy === 'Replace') plan.replace.push(...activeJobs);
  }
  plan.start = { scheduledTime: scheduled, name };
  status.lastScheduleTime = rfc3339(scheduled);
  return plan;
}

/** The Job a CronJob starts for `scheduled` (getJobFromTemplate2). */
export function jobFromTemplate(cj: CronJob, name: string, scheduled: Date): Job {
  const t = structuredClone(cj.spec?.jobTemplate ?? {});
  return {
    apiVersion: 'batch/v1', kind: 'Job',
    metadata: {
      ...t.metadata, name, namespace: cj.metadata?.namespace,
      labels: { ...t.metadata?.labels },
      annotations: { ...t.metadata?.annotations, [SCHEDULED_TIMESTAMP]: rfc3339(scheduled) },
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: cj.metadata?.name ?? '', uid: cj.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true }],
    },
    spec: t.spec as Job['spec'],
  };
}

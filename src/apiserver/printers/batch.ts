/** `kubectl get jobs` (NAME STATUS COMPLETIONS DURATION AGE) and `kubectl get cronjobs` (NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE), as printers.go. */
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import { ageSince, humanDuration } from './duration.js';
import { formatLabelSelector } from './labels.js';
import { AGE_COLUMN, col, doc, NAME_COLUMN, type Printer } from './printer.js';
import { containerCells } from './workloads.js';

const CONTAINERS = col('Containers', 'string', 'Names of each container in the template.', 1);
const IMAGES = col('Images', 'string', 'Images referenced by each container in the template.', 1);

function hasCondition(job: Job, type: string): boolean {
  return job.status?.conditions?.some((c) => c.type === type && c.status === 'True') ?? false;
}

/** printJob's status: Complete, Failed, Terminating, SuccessCriteriaMet, FailureTarget, Suspended, Running. */
export function jobStatus(job: Job): string {
  if (hasCondition(job, 'Complete')) return 'Complete';
  if (hasCondition(job, 'Failed')) return 'Failed';
  if (job.metadata?.deletionTimestamp) return 'Terminating';
  if (hasCondition(job, 'SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  if (hasCondition(job, 'FailureTarget')) return 'FailureTarget';
  if (hasCondition(job, 'Suspended')) return 'Suspended';
  return 'Running';
}

/** `1/1`, `0/3`, or `1/1 of 3` for a work queue Job (no completions, parallelism > 1). */
export function jobCompletions(job: Job): string {
  const succeeded = job.status?.succeeded ?? 0;
  const c = job.spec?.completions;
  if (c !== undefined && c !== null) return `${succeeded}/${c}`;
  const p = job.spec?.parallelism ?? 0;
  return p > 1 ? `${succeeded}/1 of ${p}` : `${succeeded}/1`;
}

/** Printer for batch/v1 Job. */
export const jobPrinter: Printer<Job> = {
  columns: [
    NAME_COLUMN,
    col('Status', 'string', 'Status of the job.'),
    col('Completions', 'string', doc('io.k8s.api.batch.v1.JobStatus', 'succeeded')),
    col('Duration', 'string', 'Time required to complete the job.'),
    AGE_COLUMN, CONTAINERS, IMAGES,
    col('Selector', 'string', doc('io.k8s.api.batch.v1.JobSpec', 'selector'), 1),
  ],
  row(j, now) {
    const st = j.status ?? {};
    let duration = '';
    if (st.startTime) {
      const start = Date.parse(st.startTime);
      duration = humanDuration((st.completionTime ? Date.parse(st.completionTime) : now) - start);
    }
    const [names, images] = containerCells(j.spec?.template?.spec?.containers);
    return {
      cells: [j.metadata?.name ?? '', jobStatus(j), jobCompletions(j), duration, ageSince(j.metadata?.creationTimestamp, now),
        names, images, formatLabelSelector(j.spec?.selector)],
    };
  },
};

/** Printer for batch/v1 CronJob. */
export const cronJobPrinter: Printer<CronJob> = {
  columns: [
    NAME_COLUMN,
    col('Schedule', 'string', doc('io.k8s.api.batch.v1.CronJobSpec', 'schedule')),
    col('Timezone', 'string', doc('io.k8s.api.batch.v1.CronJobSpec', 'timeZone')),
    col('Suspend', 'boolean', doc('io.k8s.api.batch.v1.CronJobSpec', 'suspend')),
    col('Active', 'integer', doc('io.k8s.api.batch.v1.CronJobStatus', 'active')),
    col('Last Schedule', 'string', doc('io.k8s.api.batch.v1.CronJobStatus', 'lastScheduleTime')),
    AGE_COLUMN, CONTAINERS, IMAGES,
    col('Selector', 'string', doc('io.k8s.api.batch.v1.JobSpec', 'selector'), 1),
  ],
  row(cj, now) {
    const last = cj.status?.lastScheduleTime ? ageSince(cj.status.lastScheduleTime, now) : '<none>';
    const [names, images] = containerCells(cj.spec?.jobTemplate?.spec?.template?.spec?.containers);
    return {
      // printBoolPtr: "True" / "False" / "<unset>".
      cells: [cj.metadata?.name ?? '', cj.spec?.schedule ?? '', cj.spec?.timeZone ?? '<none>',
        cj.spec?.suspend === undefined || cj.spec?.suspend === null ? '<unset>' : cj.spec.suspend ? 'True' : 'False',
        (cj.status?.active ?? []).length, last, ageSince(cj.metadata?.creationTimestamp, now), names, images,
        formatLabelSelector(cj.spec?.jobTemplate?.spec?.selector)],
    };
  },
};

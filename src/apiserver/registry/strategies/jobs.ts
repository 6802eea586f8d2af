/**
 * Jobs (Kubernetes' job strategy): a new Job starts with an empty status, and unless
 * `spec.manualSelector` is true its selector is generated from its uid — `spec.selector` matches
 * `batch.kubernetes.io/controller-uid=<uid>`, which is added to the Pod template's labels together
 * with `batch.kubernetes.io/job-name` (and their legacy unprefixed forms), so the Job's Pods are
 * exactly the ones it creates.
 */
import type { Job } from 'kubernetes-types/batch/v1.js';
import { fieldsOf } from '../../../api/object.js';
import type { ResourceInfo } from '../../../api/resources.js';
import { genericStrategy, type Strategy } from '../strategy.js';

export const JOB_UID_LABEL = 'batch.kubernetes.io/controller-uid';
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';

/** generateSelector: the labels and selector a Job without manualSelector gets. */
export function generateJobSelector(job: Job): void {
  const spec = job.spec as { -readonly [K in keyof NonNullable<Job['spec']>]: NonNullable<Job['spec']>[K] } | undefined;
  if (!spec || spec.manualSelector === true) return;
  const uid = job.metadata?.uid ?? '';
  const name = job.metadata?.name ?? '';
  const template = (spec.template ??= {});
  template.metadata ??= {};
  const labels = (template.metadata.labels ??= {});
  labels[JOB_UID_LABEL] ??= uid;
  labels['controller-uid'] ??= uid;
  labels[JOB_NAME_LABEL] ??= name;
  labels['job-name'] ??= name;
  // A selector the user gave without manualSelector is kept (validation then reports it, as Kubernetes does).
  if (!spec.selector) spec.selector = { matchLabels: { [JOB_UID_LABEL]: uid } };
}

export function jobStrategy(info: ResourceInfo): Strategy {
  const base = genericStrategy(info);
  return {
    ...base,
    selectableFields: [...base.selectableFields, 'status.successful'],
    prepareForCreate(obj) {
      fieldsOf(obj).status = {};
      generateJobSelector(obj as Job);
    },
  };
}

/**
 * Defaulting and validation of the workload kinds beyond apps' Deployments/ReplicaSets/StatefulSets:
 * batch/v1 Job and CronJob, apps/v1 DaemonSet, policy/v1 PodDisruptionBudget and autoscaling/v2
 * HorizontalPodAutoscaler (pkg/apis/<group>/v1/defaults.go and pkg/apis/<group>/validation), with
 * Kubernetes' wording for the rules users meet.
 */
import type { DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2.js';
import type { CronJob, Job, JobSpec } from 'kubernetes-types/batch/v1.js';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { FieldError } from '../../api/errors.js';
import { matchesLabelSelector } from '../../api/selectors.js';
import { defaultPodSpec } from './defaults.js';
import { forbidden, invalidField, nonNegative, notSupported, path, required, type FieldPath } from './field.js';
import { selectorIsEmpty, sortedMap, validateLabelSelector, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { isValidPercent, nameIsDNSSubdomain } from './namevalidation.js';
import { validatePodTemplateSpec } from './pod.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
const unset = (v: unknown): boolean => v === undefined || v === null;

// ------------------------------------------------------------------ defaults

/** SetDefaults_Job (and the Pod template's defaults). */
export function defaultJobSpec(spec: Mutable<JobSpec> | undefined): void {
  if (!spec) return;
  if (unset(spec.completions) && unset(spec.parallelism)) { spec.completions = 1; spec.parallelism = 1; }
  if (unset(spec.parallelism)) spec.parallelism = 1;
  if (unset(spec.backoffLimit)) spec.backoffLimit = unset(spec.backoffLimitPerIndex) ? 6 : 2147483647;
  if (!spec.completionMode) spec.completionMode = 'NonIndexed';
  if (unset(spec.suspend)) spec.suspend = false;
  if (!spec.podReplacementPolicy) spec.podReplacementPolicy = spec.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed';
  if (spec.template?.spec) defaultPodSpec(spec.template.spec);
}

export function defaultJob(job: Job): void {
  defaultJobSpec(job.spec as Mutable<JobSpec> | undefined);
}

/** SetDefaults_CronJob. */
export function defaultCronJob(cj: CronJob): void {
  const spec = cj.spec as Mutable<NonNullable<CronJob['spec']>> | undefined;
  if (!spec) return;
  if (!spec.concurrencyPolicy) spec.concurrencyPolicy = 'Allow';
  if (unset(spec.suspend)) spec.suspend = false;
  if (unset(spec.successfulJobsHistoryLimit)) spec.successfulJobsHistoryLimit = 3;
  if (unset(spec.failedJobsHistoryLimit)) spec.failedJobsHistoryLimit = 1;
  // SetDefaults_Job is for Jobs, not for a JobSpec inside a template: only its Pod template is defaulted.
  const pod = spec.jobTemplate?.spec?.template?.spec;
  if (pod) defaultPodSpec(pod);
}

/** SetDefaults_DaemonSet. */
export function defaultDaemonSet(ds: DaemonSet): void {
  const spec = ds.spec as Mutable<NonNullable<DaemonSet['spec']>> | undefined;
  if (!spec) return;
  const us = (spec.updateStrategy ??= {}) as Mutable<NonNullable<NonNullable<DaemonSet['spec']>['updateStrategy']>>;
  if (!us.type) us.type = 'RollingUpdate';
  if (us.type === 'RollingUpdate') {
    const ru = (us.rollingUpdate ??= {}) as Mutable<NonNullable<typeof us.rollingUpdate>>;
    if (unset(ru.maxUnavailable)) ru.maxUnavailable = 1;
    if (unset(ru.maxSurge)) ru.maxSurge = 0;
  }
  if (unset(spec.revisionHistoryLimit)) spec.revisionHistoryLimit = 10;
  if (spec.template?.spec) defaultPodSpec(spec.template.spec);
}

/** SetDefaults_HorizontalPodAutoscaler (v2): minReplicas 1, a CPU metric at 80% when none is given. */
export function defaultHpa(hpa: HorizontalPodAutoscaler): void {
  const spec = hpa.spec as Mutable<NonNullable<HorizontalPodAutoscaler['spec']>> | undefined;
  if (!spec) return;
  if (unset(spec.minReplicas)) spec.minReplicas = 1;
  if (!spec.metrics || spec.metrics.length === 0) {
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
  }
  // behavior: the controller applies Kubernetes' default rules when it is absent (see hpa/plan.ts).
}

// ------------------------------------------------------------------ validation

function selectorFor(sel: LabelSelector | undefined, p: FieldPath, required_: boolean): FieldError[] {
  if (!sel) return required_ ? [required(p)] : [];
  return validateLabelSelector(sel, p);
}

function templateMatches(t: PodTemplateSpec | undefined, sel: LabelSelector | undefined, p: FieldPath): FieldError[] {
  if (!sel || selectorIsEmpty(sel) || !t) return [];
  return matchesLabelSelector(sel, t.metadata?.labels) ? []
    : [invalidField(p.child('metadata', 'labels'), sortedMap(t.metadata?.labels), '`selector` does not match template `labels`')];
}

function positive(v: number | undefined | null, p: FieldPath): FieldError[] {
  return typeof v === 'number' && v <= 0 ? [invalidField(p, v, 'must be greater than or equal to 1')] : [];
}

/** ValidateJobSpec (fields of a Job or of a CronJob's jobTemplate). */
function validateJobSpec(spec: JobSpec | undefined, sp: FieldPath, inCronJob: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (!spec) return [required(sp)];
  errs.push(...nonNegative(spec.parallelism ?? undefined, sp.child('parallelism')));
  errs.push(...nonNegative(spec.completions ?? undefined, sp.child('completions')));
  errs.push(...positive(spec.activeDeadlineSeconds, sp.child('activeDeadlineSeconds')));
  errs.push(...nonNegative(spec.backoffLimit ?? undefined, sp.child('backoffLimit')));
  errs.push(...nonNegative(spec.ttlSecondsAfterFinished ?? undefined, sp.child('ttlSecondsAfterFinished')));
  if (!inCronJob) {
    if (spec.manualSelector === true || spec.selector) errs.push(...selectorFor(spec.selector, sp.child('selector'), true));
    else errs.push(required(sp.child('selector')));
    errs.push(...templateMatches(spec.template, spec.selector, sp.child('template')));
  }
  const mode = spec.completionMode;
  if (mode && mode !== 'NonIndexed' && mode !== 'Indexed') errs.push(notSupported(sp.child('completionMode'), mode, ['NonIndexed', 'Indexed']));
  if (mode === 'Indexed') {
    if (unset(spec.completions)) errs.push(required(sp.child('completions'), `when completion mode is Indexed`));
    if ((spec.parallelism ?? 0) > 100000) errs.push(invalidField(sp.child('parallelism'), spec.parallelism, 'must be less than or equal to 100000 when completion mode is Indexed'));
  }
  const t = spec.template;
  if (!t) errs.push(required(sp.child('template')));
  else {
    errs.push(...validatePodTemplateSpec(t, sp.child('template')));
    const rp = t.spec?.restartPolicy;
    if (rp !== 'OnFailure' && rp !== 'Never') {
      errs.push(rp ? notSupported(sp.child('template', 'spec', 'restartPolicy'), rp, ['OnFailure', 'Never'])
        : required(sp.child('template', 'spec', 'restartPolicy'), 'valid values: "OnFailure", "Never"'));
    }
    if (spec.podFailurePolicy && rp !== 'Never') {
      errs.push(invalidField(sp.child('template', 'spec', 'restartPolicy'), rp ?? '', 'only "Never" is supported when podFailurePolicy is specified'));
    }
  }
  (spec.podFailurePolicy?.rules ?? []).forEach((r, i) => {
    const rp = sp.child('podFailurePolicy', 'rules').index(i);
    if (!['FailJob', 'FailIndex', 'Ignore', 'Count'].includes(r.action)) errs.push(notSupported(rp.child('action'), r.action, ['Count', 'FailIndex', 'FailJob', 'Ignore']));
    const both = !!r.onExitCodes && !!r.onPodConditions?.length;
    if (both) errs.push(invalidField(rp, '', 'specifying both OnExitCodes and OnPodConditions is not supported'));
    if (!r.onExitCodes && !r.onPodConditions?.length) errs.push(invalidField(rp, '', 'specifying one of OnExitCodes and OnPodConditions is required'));
    if (r.onExitCodes && !['In', 'NotIn'].includes(r.onExitCodes.operator)) {
      errs.push(notSupported(rp.child('onExitCodes', 'operator'), r.onExitCodes.operator, ['In', 'NotIn']));
    }
  });
  return errs;
}

/** ValidateJob / ValidateJobUpdate (template immutable unless the Job is suspended). */
export function validateJob(job: Job, old?: Job): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(job.metadata, old.metadata, path('metadata')) : [];
  errs.push(...validateObjectMeta(job.metadata, true, nameIsDNSSubdomain, path('metadata')));
  const sp = path('spec');
  errs.push(...validateJobSpec(job.spec, sp, false));
  if (old) {
    const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
    if (!same(job.spec?.selector, old.spec?.selector)) errs.push(invalidField(sp.child('selector'), job.spec?.selector, 'field is immutable'));
    if (!same(job.spec?.completions, old.spec?.completions) && old.spec?.completionMode !== 'Indexed') {
      errs.push(invalidField(sp.child('completions'), job.spec?.completions, 'field is immutable'));
    }
    if (!same(job.spec?.completionMode, old.spec?.completionMode)) errs.push(invalidField(sp.child('completionMode'), job.spec?.completionMode, 'field is immutable'));
    if (!same(job.spec?.podFailurePolicy, old.spec?.podFailurePolicy)) errs.push(invalidField(sp.child('podFailurePolicy'), job.spec?.podFailurePolicy, 'field is immutable'));
    // The Pod template may change only while the Job is suspended (and never started).
    if (!same(job.spec?.template, old.spec?.template) && !(old.spec?.suspend && job.spec?.suspend)) {
      errs.push(invalidField(sp.child('template'), job.spec?.template, 'field is immutable'));
    }
  }
  return errs;
}

/** A cron schedule as the CronJob validation reads it (cron-parser, or an @-macro). */
export type ScheduleCheck = (schedule: string, timeZone?: string) => string | undefined;

/** ValidateCronJob. `checkSchedule` returns the parser's error for a bad schedule or time zone. */
export function validateCronJob(cj: CronJob, old: CronJob | undefined, checkSchedule: ScheduleCheck): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(cj.metadata, old.metadata, path('metadata')) : [];
  errs.push(...validateObjectMeta(cj.metadata, true, nameIsDNSSubdomain, path('metadata')));
  const name = cj.metadata?.name ?? '';
  // The Jobs it creates are named <name>-<minutes>: Kubernetes keeps the name at most 52 characters.
  if (name.length > 52) errs.push(invalidField(path('metadata', 'name'), name, 'must be no more than 52 characters'));
  const spec = cj.spec;
  const sp = path('spec');
  if (!spec) return [...errs, required(sp)];
  if (!spec.schedule) errs.push(required(sp.child('schedule')));
  else {
    if (/^\s*TZ=|^\s*CRON_TZ=/.test(spec.schedule)) {
      errs.push(invalidField(sp.child('schedule'), spec.schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
    } else {
      const msg = checkSchedule(spec.schedule);
      if (msg) errs.push(invalidField(sp.child('schedule'), spec.schedule, msg));
    }
  }
  if (spec.timeZone !== undefined && spec.timeZone !== null) {
    const msg = checkSchedule('@daily', spec.timeZone);
    if (msg || spec.timeZone === '' || /^\s|\s$/.test(spec.timeZone)) errs.push(invalidField(sp.child('timeZone'), spec.timeZone, 'unknown time zone ' + spec.timeZone));
  }
  const cp = spec.concurrencyPolicy;
  if (!cp) errs.push(required(sp.child('concurrencyPolicy')));
  else if (!['Allow', 'Forbid', 'Replace'].includes(cp)) errs.push(notSupported(sp.child('concurrencyPolicy'), cp, ['Allow', 'Forbid', 'Replace']));
  errs.push(...nonNegative(spec.startingDeadlineSeconds ?? undefined, sp.child('startingDeadlineSeconds')));
  errs.push(...nonNegative(spec.successfulJobsHistoryLimit ?? undefined, sp.child('successfulJobsHistoryLimit')));
  errs.push(...nonNegative(spec.failedJobsHistoryLimit ?? undefined, sp.child('failedJobsHistoryLimit')));
  errs.push(...validateJobSpec(spec.jobTemplate?.spec, sp.child('jobTemplate', 'spec'), true));
  return errs;
}

function intOrPercent(v: number | string | undefined | null, p: FieldPath): FieldError[] {
  if (typeof v === 'string') return isValidPercent(v).map((m) => invalidField(p, v, m));
  if (typeof v === 'number') return nonNegative(v, p);
  return [];
}

const isZero = (v: number | string | undefined | null): boolean => v === undefined || v === null || v === 0 || v === '0%';

/** ValidateDaemonSet / ValidateDaemonSetUpdate. */
export function validateDaemonSet(ds: DaemonSet, old?: DaemonSet): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(ds.metadata, old.metadata, path('metadata')) : [];
  errs.push(...validateObjectMeta(ds.metadata, true, nameIsDNSSubdomain, path('metadata')));
  const spec = ds.spec;
  const sp = path('spec');
  if (!spec) return [...errs, required(sp)];
  errs.push(...selectorFor(spec.selector, sp.child('selector'), true));
  if (spec.selector && selectorIsEmpty(spec.selector)) errs.push(invalidField(sp.child('selector'), spec.selector, 'empty selector is invalid for daemonset'));
  errs.push(...templateMatches(spec.template, spec.selector, sp.child('template')));
  if (!spec.template) errs.push(required(sp.child('template')));
  else {
    errs.push(...validatePodTemplateSpec(spec.template, sp.child('template')));
    const rp = spec.template.spec?.restartPolicy;
    if (rp !== 'Always') errs.push(notSupported(sp.child('template', 'spec', 'restartPolicy'), rp ?? '', ['Always']));
    if (spec.template.spec?.activeDeadlineSeconds !== undefined) {
      errs.push(invalidField(sp.child('template', 'spec', 'activeDeadlineSeconds'), spec.template.spec.activeDeadlineSeconds, 'activeDeadlineSeconds in DaemonSet is not Supported'));
    }
  }
  errs.push(...nonNegative(spec.minReadySeconds, sp.child('minReadySeconds')));
  const us = spec.updateStrategy;
  const up = sp.child('updateStrategy');
  if (us?.type === 'RollingUpdate') {
    const ru = us.rollingUpdate;
    const rp = up.child('rollingUpdate');
    errs.push(...intOrPercent(ru?.maxUnavailable, rp.child('maxUnavailable')));
    errs.push(...intOrPercent(ru?.maxSurge, rp.child('maxSurge')));
    if (isZero(ru?.maxUnavailable) && isZero(ru?.maxSurge)) {
      errs.push(invalidField(rp.child('maxUnavailable'), ru?.maxUnavailable ?? 0, 'may not be 0 when `maxSurge` is 0'));
    }
    if (!isZero(ru?.maxUnavailable) && !isZero(ru?.maxSurge)) {
      errs.push(invalidField(rp.child('maxSurge'), ru?.maxSurge, 'may not be set when maxUnavailable is non-zero'));
    }
  } else if (us?.type === 'OnDelete') {
    if (us.rollingUpdate) errs.push(forbidden(up.child('rollingUpdate'), "may not be specified when strategy `type` is 'OnDelete'"));
  } else {
    errs.push(notSupported(up.child('type'), us?.type ?? '', ['OnDelete', 'RollingUpdate']));
  }
  if (old && JSON.stringify(ds.spec?.selector) !== JSON.stringify(old.spec?.selector)) {
    errs.push(invalidField(sp.child('selector'), sortedSelector(ds.spec?.selector), 'field is immutable'));
  }
  return errs;
}

function sortedSelector(s: LabelSelector | undefined): unknown {
  return s ? { ...(s.matchLabels ? { matchLabels: sortedMap(s.matchLabels) } : {}), ...(s.matchExpressions ? { matchExpressions: s.matchExpressions } : {}) } : null;
}

/** ValidatePodDisruptionBudget (policy/v1). */
export function validatePdb(pdb: PodDisruptionBudget, old?: PodDisruptionBudget): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(pdb.metadata, old.metadata, path('metadata')) : [];
  errs.push(...validateObjectMeta(pdb.metadata, true, nameIsDNSSubdomain, path('metadata')));
  const spec = pdb.spec ?? {};
  const sp = path('spec');
  if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) {
    errs.push(invalidField(sp, spec, 'minAvailable and maxUnavailable cannot be both set'));
  }
  for (const f of ['minAvailable', 'maxUnavailable'] as const) {
    const v = spec[f];
    errs.push(...intOrPercent(v, sp.child(f)));
    if (typeof v === 'string' && /^[0-9]+%$/.test(v) && Number(v.slice(0, -1)) > 100) errs.push(invalidField(sp.child(f), v, 'must not be greater than 100%'));
  }
  errs.push(...selectorFor(spec.selector, sp.child('selector'), false));
  const policy = spec.unhealthyPodEvictionPolicy;
  if (policy && policy !== 'IfHealthyBudget' && policy !== 'AlwaysAllow') errs.push(notSupported(sp.child('unhealthyPodEvictionPolicy'), policy, ['AlwaysAllow', 'IfHealthyBudget']));
  return errs;
}

/** ValidateHorizontalPodAutoscaler (autoscaling/v2). */
export function validateHpa(hpa: HorizontalPodAutoscaler, old?: HorizontalPodAutoscaler): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(hpa.metadata, old.metadata, path('metadata')) : [];
  errs.push(...validateObjectMeta(hpa.metadata, true, nameIsDNSSubdomain, path('metadata')));
  const spec = hpa.spec;
  const sp = path('spec');
  if (!spec) return [...errs, required(sp)];
  const ref = spec.scaleTargetRef;
  const rp = sp.child('scaleTargetRef');
  if (!ref?.kind) errs.push(required(rp.child('kind')));
  if (!ref?.name) errs.push(required(rp.child('name')));
  if (spec.minReplicas !== undefined && spec.minReplicas !== null && spec.minReplicas < 1) {
    errs.push(invalidField(sp.child('minReplicas'), spec.minReplicas, 'must be greater than or equal to 1'));
  }
  if (!(spec.maxReplicas >= 1)) errs.push(invalidField(sp.child('maxReplicas'), spec.maxReplicas ?? 0, 'must be greater than 0'));
  else if (spec.minReplicas !== undefined && spec.minReplicas !== null && spec.maxReplicas < spec.minReplicas) {
    errs.push(invalidField(sp.child('maxReplicas'), spec.maxReplicas, 'must be greater than or equal to `minReplicas`'));
  }
  (spec.metrics ?? []).forEach((m, i) => {
    const mp = sp.child('metrics').index(i);
    const types = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'];
    if (!types.includes(m.type)) { errs.push(notSupported(mp.child('type'), m.type, types)); return; }
    if (m.type === 'Resource') {
      const r = m.resource;
      if (!r) { errs.push(required(mp.child('resource'), 'must populate information for the given metric source')); return; }
      if (!r.name) errs.push(required(mp.child('resource', 'name'), 'must specify a resource name'));
      const t = r.target;
      const tp = mp.child('resource', 'target');
      if (!t?.type) errs.push(required(tp.child('type'), 'must specify a metric target type'));
      else if (!['Utilization', 'Value', 'AverageValue'].includes(t.type)) errs.push(notSupported(tp.child('type'), t.type, ['AverageValue', 'Utilization', 'Value']));
      else if (t.type === 'Utilization' && (t.averageUtilization === undefined || t.averageUtilization === null)) {
        errs.push(required(tp.child('averageUtilization'), 'must set either a target raw value or a target utilization'));
      } else if (t.type === 'Utilization' && t.averageUtilization! < 1) {
        errs.push(invalidField(tp.child('averageUtilization'), t.averageUtilization, 'must be greater than 0'));
      }
    }
  });
  for (const dir of ['scaleUp', 'scaleDown'] as const) {
    const rules = spec.behavior?.[dir];
    if (!rules) continue;
    const w = rules.stabilizationWindowSeconds;
    if (typeof w === 'number' && (w < 0 || w > 3600)) {
      errs.push(invalidField(sp.child('behavior', dir, 'stabilizationWindowSeconds'), w, w < 0 ? 'must be greater than or equal to zero' : 'must be less than or equal to 3600'));
    }
  }
  return errs;
}

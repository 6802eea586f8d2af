/**
 * Pure decisions of the Job controller (k8s.io/kubernetes/pkg/controller/job): from a Job, its Pods
 * and the clock — how many Pods to create (and with which completion indexes), which to delete, the
 * status to write, and when to look again. Covers completions and parallelism (NonIndexed and
 * Indexed), backoffLimit with the exponential delay before a replacement Pod, activeDeadlineSeconds,
 * suspend, the basics of podFailurePolicy (FailJob / Ignore / Count on exit codes and Pod
 * conditions) and ttlSecondsAfterFinished.
 */
import type { Job, JobCondition, JobStatus, PodFailurePolicyRule } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { isPodReady } from '../util/pods.js';

/** The annotation (and label) carrying a Pod's completion index in an Indexed Job. */
export const COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';

export interface JobPlan {
  /** New Pods: one entry each; `index` set for Indexed Jobs. */
  create: { index?: number }[];
  /** Pods to delete (active Pods of a finished, failed, suspended or over-parallel Job). */
  delete: Pod[];
  status: JobStatus;
  /** Events to record, in order. */
  events: { type: 'Normal' | 'Warning'; reason: string; message: string }[];
  /** Delete the Job itself (its TTL after finishing has passed). */
  deleteJob: boolean;
  /** Look again after this many ms (backoff, deadline, TTL); undefined: only on a change. */
  requeueAfterMs?: number;
}

export interface JobPlanOptions {
  /** First delay before a replacement Pod after a failure (Kubernetes: 10 s, doubling, capped at 6 min). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

function hasCondition(job: Job, type: string): boolean {
  return job.status?.conditions?.some((c) => c.type === type && c.status === 'True') ?? false;
}

/** Finished: Complete or Failed (a terminal condition is never undone). */
export function isJobFinished(job: Job): boolean {
  return hasCondition(job, 'Complete') || hasCondition(job, 'Failed');
}

/** "0-2,4,6-7" (JobStatus.completedIndexes) for a sorted set of indexes. */
export function formatIndexes(ix: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < ix.length;) {
    let j = i;
    while (j + 1 < ix.length && ix[j + 1] === ix[j]! + 1) j++;
    out.push(j === i ? String(ix[i]) : `${ix[i]}-${ix[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

function podIndex(p: Pod): number | undefined {
  const v = p.metadata?.annotations?.[COMPLETION_INDEX] ?? p.metadata?.labels?.[COMPLETION_INDEX];
  const n = v === undefined ? NaN : Number(v);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** The first podFailurePolicy rule a failed Pod matches, and the message Kubernetes words for it. */
export function matchFailurePolicy(rules: readonly PodFailurePolicyRule[], pod: Pod): { rule: PodFailurePolicyRule; index: number; message: string } | undefined {
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i]!;
    if (r.onExitCodes) {
      const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])]
        .filter((cs) => !r.onExitCodes!.containerName || cs.name === r.onExitCodes!.containerName);
      for (const cs of statuses) {
        const code = cs.state?.terminated?.exitCode;
        if (code === undefined || code === 0) continue;
        const inValues = r.onExitCodes.values.includes(code);
        if (r.onExitCodes.operator === 'In' ? inValues : !inValues) {
          return { rule: r, index: i, message: `Container ${cs.name} for pod ${pod.metadata?.namespace}/${pod.metadata?.name} failed with exit code ${code} matching ${r.action} rule at index ${i}` };
        }
      }
    }
    for (const pc of r.onPodConditions ?? []) {
      const hit = pod.status?.conditions?.some((c) => c.type === pc.type && c.status === (pc.status ?? 'True'));
      if (hit) return { rule: r, index: i, message: `Pod ${pod.metadata?.namespace}/${pod.metadata?.name} has condition ${pc.type} matching ${r.action} rule at index ${i}` };
    }
  }
  return undefined;
}

function condition(type: string, reason: string, message: string, now: Date): JobCondition {
  const t = rfc3339(now);
  return { type, status: 'True', reason, message, lastProbeTime: t, lastTransitionTime: t };
}

/** Plans one sync of `job` given the Pods it owns, at `now`. */
export function planJob(job: Job, pods: readonly Pod[], now: Date, opts: JobPlanOptions = {}): JobPlan {
  const spec = job.spec!;
  const prev = job.status ?? {};
  const events: JobPlan['events'] = [];
  const plan: JobPlan = { create: [], delete: [], status: {}, events, deleteJob: false };
  const conditions: JobCondition[] = [...(prev.conditions ?? [])];
  const active = pods.filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed' && !p.metadata?.deletionTimestamp);
  const terminating = pods.filter((p) => p.metadata?.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed').length;
  const succeededPods = pods.filter((p) => p.status?.phase === 'Succeeded');
  const failedPods = pods.filter((p) => p.status?.phase === 'Failed');
  const indexed = spec.completionMode === 'Indexed';

  // Failed Pods the policy ignores do not count toward backoffLimit.
  const rules = spec.podFailurePolicy?.rules ?? [];
  let failJob: string | undefined;
  let failedCounted = 0;
  for (const p of failedPods) {
    const m = rules.length ? matchFailurePolicy(rules, p) : undefined;
    if (m?.rule.action === 'Ignore') continue;
    if (m?.rule.action === 'FailJob' && !failJob) failJob = m.message;
    failedCounted++;
  }
  // With restartPolicy OnFailure, container restarts count as failures (the kubelet restarts in place).
  const restarts = spec.template?.spec?.restartPolicy === 'OnFailure'
    ? active.reduce((n, p) => n + (p.status?.containerStatuses ?? []).reduce((m, cs) => m + (cs.restartCount ?? 0), 0), 0) : 0;

  const completedIndexes = indexed ? [...new Set(succeededPods.map(podIndex).filter((i): i is number => i !== undefined && i < (spec.completions ?? 0)))].sort((a, b) => a - b) : [];
  const succeeded = indexed ? completedIndexes.length : succeededPods.length;
  const status: JobStatus = {
    ...(prev.startTime ? { startTime: prev.startTime } : {}),
    ...(prev.completionTime ? { completionTime: prev.completionTime } : {}),
    active: active.length, succeeded, failed: failedPods.length,
    ready: active.filter(isPodReady).length, terminating,
    uncountedTerminatedPods: {},
    ...(indexed && completedIndexes.length ? { completedIndexes: formatIndexes(completedIndexes) } : {}),
  };
  plan.status = status;
  const finish = (type: 'Complete' | 'Failed', reason: string, message: string): void => {
    if (type === 'Complete') {
      conditions.push(condition('SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods', now));
      conditions.push(condition('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods', now));
      status.completionTime = rfc3339(now);
      events.push({ type: 'Normal', reason: 'Completed', message: 'Job completed' });
    } else {
      conditions.push(condition('FailureTarget', reason, message, now));
      conditions.push(condition('Failed', reason, message, now));
      events.push({ type: 'Warning', reason, message });
    }
    plan.delete.push(...active);
  };

  if (isJobFinished(job)) {
    status.active = active.length;
    status.conditions = conditions;
    // Finished: only the TTL remains (the TTL-after-finished controller's job).
    const ttl = spec.ttlSecondsAfterFinished;
    const finishedAt = Date.parse(prev.completionTime ?? conditions.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')?.lastTransitionTime ?? '');
    if (ttl !== undefined && ttl !== null && Number.isFinite(finishedAt)) {
      const due = finishedAt + ttl * 1000;
      if (now.getTime() >= due) plan.deleteJob = true;
      else plan.requeueAfterMs = due - now.getTime();
    }
    plan.delete.push(...active);
    return plan;
  }

  // Suspended: no Pods run; the clock (startTime) restarts when the Job resumes.
  const suspendedCond = conditions.find((c) => c.type === 'Suspended');
  if (spec.suspend) {
    plan.delete.push(...active);
    delete status.startTime;
    if (suspendedCond?.status !== 'True') {
      const rest = conditions.filter((c) => c.type !== 'Suspended');
      rest.push(condition('Suspended', 'JobSuspended', 'Job suspended', now));
      conditions.splice(0, conditions.length, ...rest);
      events.push({ type: 'Normal', reason: 'Suspended', message: 'Job suspended' });
    }
    status.conditions = conditions;
    return plan;
  }
  if (suspendedCond?.status === 'True') {
    const rest = conditions.filter((c) => c.type !== 'Suspended');
    rest.push({ ...condition('Suspended', 'JobResumed', 'Job resumed', now), status: 'False' });
    conditions.splice(0, conditions.length, ...rest);
    events.push({ type: 'Normal', reason: 'Resumed', message: 'Job resumed' });
  }
  if (!status.startTime) status.startTime = rfc3339(now);

  const deadline = spec.activeDeadlineSeconds;
  const started = Date.parse(status.startTime);
  const completions = spec.completions;
  const workQueue = completions === undefined || completions === null;
  const done = indexed ? succeeded >= (completions ?? 0)
    : workQueue ? succeeded > 0 && active.length === 0
      : succeeded >= completions;

  if (failJob) finish('Failed', 'PodFailurePolicy', failJob);
  else if (failedCounted + restarts > (spec.backoffLimit ?? 6)) finish('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
  else if (deadline !== undefined && deadline !== null && now.getTime() >= started + deadline * 1000) {
    finish('Failed', 'DeadlineExceeded', 'Job was active longer than specified deadline');
  } else if (done) finish('Complete', 'CompletionsReached', '');
  else {
    // How many should run now.
    const parallelism = spec.parallelism ?? 1;
    let want: number;
    if (indexed) want = Math.min(parallelism, (completions ?? 0) - succeeded);
    else if (workQueue) want = succeeded > 0 ? 0 : parallelism;
    else want = Math.min(parallelism, completions - succeeded);
    want = Math.max(0, want);
    if (active.length > want) {
      // Delete the surplus, not-ready ones and the newest first.
      const order = [...active].sort((a, b) => Number(isPodReady(a)) - Number(isPodReady(b))
        || (Date.parse(b.metadata?.creationTimestamp ?? '') || 0) - (Date.parse(a.metadata?.creationTimestamp ?? '') || 0));
      plan.delete.push(...order.slice(0, active.length - want));
    } else if (active.length < want) {
      // After failures, replacements wait: 10 s, doubling per failure, capped (the Job backoff).
      const base = opts.backoffBaseMs ?? 10_000;
      const cap = opts.backoffMaxMs ?? 360_000;
      const lastFailure = Math.max(0, ...failedPods.map((p) => Date.parse(p.status?.containerStatuses?.[0]?.state?.terminated?.finishedAt ?? p.metadata?.creationTimestamp ?? '') || 0));
      const delay = failedCounted > 0 ? Math.min(cap, base * 2 ** (failedCounted - 1)) : 0;
      const wait = lastFailure + delay - now.getTime();
      if (failedCounted > 0 && wait > 0) plan.requeueAfterMs = wait;
      else if (indexed) {
        const taken = new Set([...completedIndexes, ...active.map(podIndex).filter((i): i is number => i !== undefined)]);
        for (let i = 0; i < (completions ?? 0) && plan.create.length < want - active.length; i++) if (!taken.has(i)) plan.create.push({ index: i });
      } else {
        for (let i = active.length; i < want; i++) plan.create.push({});
      }
    }
    if (deadline !== undefined && deadline !== null) {
      const left = started + deadline * 1000 - now.getTime();
      plan.requeueAfterMs = Math.min(plan.requeueAfterMs ?? Infinity, Math.max(left, 0) + 1);
    }
  }
  status.conditions = conditions;
  if (status.conditions.length === 0) delete status.conditions;
  if (isJobFinishedStatus(status) && spec.ttlSecondsAfterFinished !== undefined && spec.ttlSecondsAfterFinished !== null) {
    plan.requeueAfterMs = spec.ttlSecondsAfterFinished * 1000;
  }
  return plan;
}

function isJobFinishedStatus(s: JobStatus): boolean {
  return s.conditions?.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') ?? false;
}

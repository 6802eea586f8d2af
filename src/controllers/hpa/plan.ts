/**
 * Pure decisions of the HorizontalPodAutoscaler controller (k8s.io/kubernetes/pkg/controller/
 * podautoscaler) for CPU utilization: the replica count the metrics ask for (tolerance 0.1; missing
 * and not-yet-ready Pods treated conservatively as the replica calculator does), the behavior
 * (stabilization windows — scale-down 300 s by default — and the default rate policies), the
 * min/max clamp, and the status and conditions to write.
 */
import type { HorizontalPodAutoscaler, HorizontalPodAutoscalerCondition, HorizontalPodAutoscalerStatus, HPAScalingRules } from 'kubernetes-types/autoscaling/v2.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from '../../api/quantity.js';
import { isPodReady } from '../util/pods.js';

/** kube-controller-manager's --horizontal-pod-autoscaler-tolerance. */
export const TOLERANCE = 0.1;

/** One recommendation kept for the stabilization window. */
export interface Recommendation { at: number; replicas: number }

/** One past scaling event (for the rate policies). */
export interface ScaleEvent { at: number; delta: number }

export interface HpaInput {
  /** The target's current spec.replicas (from its scale subresource). */
  currentReplicas: number;
  /** Pods the target's selector matches (active ones). */
  pods: readonly Pod[];
  /** CPU usage in cores per Pod name (PodMetrics, summed over containers); absent = no metrics. */
  cpuUsage: ReadonlyMap<string, number>;
  /** Recommendations of the last windows (newest last), scale events of the last periods. */
  recommendations: readonly Recommendation[];
  scaleEvents: readonly ScaleEvent[];
}

export interface HpaPlan {
  /** The replicas to set (undefined: leave the target alone). */
  scaleTo?: number;
  desiredReplicas: number;
  status: HorizontalPodAutoscalerStatus;
  /** This sync's raw recommendation, to remember for the stabilization window. */
  recommendation?: number;
  event?: { type: 'Normal' | 'Warning'; reason: string; message: string };
}

const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

const DEFAULT_SCALE_UP: HPAScalingRules = { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }, { type: 'Pods', value: 4, periodSeconds: 15 }] };
const DEFAULT_SCALE_DOWN: HPAScalingRules = { stabilizationWindowSeconds: 300, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] };

/** CPU request of a Pod in cores (sum over containers); undefined when a container has none. */
export function podCpuRequest(p: Pod): { cores: number } | { missing: string } {
  let sum = 0;
  for (const c of p.spec?.containers ?? []) {
    const q = parseQuantity(c.resources?.requests?.cpu);
    if (q === undefined) return { missing: c.name };
    sum += q;
  }
  return { cores: sum };
}

function cond(type: string, status: 'True' | 'False', reason: string, message: string, prev: readonly HorizontalPodAutoscalerCondition[] | undefined, now: Date): HorizontalPodAutoscalerCondition {
  const old = prev?.find((c) => c.type === type);
  return { type, status, reason, message, lastTransitionTime: old && old.status === status ? old.lastTransitionTime : rfc3339(now) };
}

/**
 * The replica calculator for a Utilization target: returns the recommendation and the current
 * average utilization (percent of request). Pods without metrics, and Pods not ready, count as 0%
 * when that would scale up and as 100% of the target when it would scale down (never flapping
 * because of them).
 */
export function cpuReplicas(input: HpaInput, targetUtilization: number): { replicas: number; utilization: number; usageMilli: number } | { error: string } {
  const ready: Pod[] = [], unready: Pod[] = [], missing: Pod[] = [];
  let usage = 0, request = 0;
  for (const p of input.pods) {
    if (p.metadata?.deletionTimestamp || p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded') continue;
    const r = podCpuRequest(p);
    if ('missing' in r) return { error: `failed to get cpu utilization: missing request for cpu in container ${r.missing} of Pod ${p.metadata?.name}` };
    const u = input.cpuUsage.get(p.metadata?.name ?? '');
    if (u === undefined) { missing.push(p); continue; }
    if (!isPodReady(p)) { unready.push(p); continue; }
    ready.push(p);
    usage += u;
    request += r.cores;
  }
  if (ready.length === 0) return { error: 'did not receive metrics for targeted pods (pods might be unready)' };
  const utilization = request > 0 ? (usage / request) * 100 : 0;
  const ratio = utilization / targetUtilization;
  const current = input.currentReplicas;
  const avgUtil = Math.round(utilization);
  const usageMilli = Math.round((usage / ready.length) * 1000);
  if (missing.length === 0 && unready.length === 0) {
    if (Math.abs(1 - ratio) <= TOLERANCE) return { replicas: current, utilization: avgUtil, usageMilli };
    return { replicas: Math.ceil(ratio * ready.length), utilization: avgUtil, usageMilli };
  }
  // Rebalance: missing Pods count as 0% (scale up) or 100% of target (scale down); unready as 0% on scale up.
  let u = usage, rq = request;
  for (const p of missing) {
    const r = podCpuRequest(p) as { cores: number };
    rq += r.cores;
    if (ratio < 1) u += (r.cores * targetUtilization) / 100;
  }
  if (ratio > 1) for (const p of unready) rq += (podCpuRequest(p) as { cores: number }).cores;
  const newRatio = rq > 0 ? ((u / rq) * 100) / targetUtilization : 0;
  if (Math.abs(1 - newRatio) <= TOLERANCE || (ratio < 1 && newRatio > 1) || (ratio > 1 && newRatio < 1)) return { replicas: current, utilization: avgUtil, usageMilli };
  const counted = ready.length + missing.length + (ratio > 1 ? unready.length : 0);
  const replicas = Math.ceil(newRatio * counted);
  if ((newRatio > 1 && replicas < current) || (newRatio < 1 && replicas > current)) return { replicas: current, utilization: avgUtil, usageMilli };
  return { replicas, utilization: avgUtil, usageMilli };
}

/** Replicas the rate policies allow within their periods (behavior; selectPolicy Max/Min/Disabled). */
function rateLimit(rules: HPAScalingRules, current: number, events: readonly ScaleEvent[], now: number, up: boolean): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const limits = (rules.policies ?? []).map((p) => {
    const since = now - p.periodSeconds * 1000;
    const changed = events.filter((e) => e.at > since && (up ? e.delta > 0 : e.delta < 0)).reduce((n, e) => n + Math.abs(e.delta), 0);
    const base = up ? current - changed : current + changed;
    if (p.type === 'Pods') return up ? base + p.value : base - p.value;
    return up ? Math.ceil(base * (1 + p.value / 100)) : Math.ceil(base * (1 - p.value / 100));
  });
  if (limits.length === 0) return up ? Infinity : 0;
  const pickMin = rules.selectPolicy === 'Min';
  return up ? (pickMin ? Math.min(...limits) : Math.max(...limits)) : (pickMin ? Math.max(...limits) : Math.min(...limits));
}

/** Plans one sync of `hpa` at `now`. */
export function planHpa(hpa: HorizontalPodAutoscaler, input: HpaInput, now: Date): HpaPlan {
  const spec = hpa.spec!;
  const prev = hpa.status;
  const current = input.currentReplicas;
  const min = spec.minReplicas ?? 1;
  const max = spec.maxReplicas;
  const base: HorizontalPodAutoscalerStatus = {
    currentReplicas: current, desiredReplicas: current, observedGeneration: hpa.metadata?.generation ?? 0,
    ...(prev?.lastScaleTime ? { lastScaleTime: prev.lastScaleTime } : {}),
  };
  const conds: HorizontalPodAutoscalerCondition[] = [];
  if (current === 0 && min !== 0) {
    conds.push(cond('AbleToScale', 'True', 'SucceededGetScale', 'the HPA controller was able to get the target\'s current scale', prev?.conditions, now));
    conds.push(cond('ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero', prev?.conditions, now));
    return { desiredReplicas: 0, status: { ...base, conditions: conds } };
  }
  const metric = (spec.metrics ?? []).find((m) => m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource.target?.type === 'Utilization');
  if (!metric) {
    conds.push(cond('ScalingActive', 'False', 'FailedGetResourceMetric', 'only cpu Utilization targets are supported by this controller', prev?.conditions, now));
    return { desiredReplicas: current, status: { ...base, conditions: conds } };
  }
  const target = metric.resource!.target.averageUtilization ?? 80;
  const r = cpuReplicas(input, target);
  conds.push(cond('AbleToScale', 'True', 'SucceededGetScale', 'the HPA controller was able to get the target\'s current scale', prev?.conditions, now));
  if ('error' in r) {
    conds.push(cond('ScalingActive', 'False', 'FailedGetResourceMetric', `the HPA was unable to compute the replica count: ${r.error}`, prev?.conditions, now));
    return {
      desiredReplicas: current, status: { ...base, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: {} } }], conditions: conds },
      event: { type: 'Warning', reason: 'FailedGetResourceMetric', message: r.error },
    };
  }
  const nowMs = now.getTime();
  const upRules = { ...DEFAULT_SCALE_UP, ...spec.behavior?.scaleUp };
  const downRules = { ...DEFAULT_SCALE_DOWN, ...spec.behavior?.scaleDown };
  // Stabilization: scale up to the lowest, down to the highest recommendation of the window.
  const rec = r.replicas;
  const upWindow = (upRules.stabilizationWindowSeconds ?? 0) * 1000;
  const downWindow = (downRules.stabilizationWindowSeconds ?? 300) * 1000;
  let upRec = rec, downRec = rec;
  for (const x of input.recommendations) {
    if (x.at > nowMs - upWindow) upRec = Math.min(upRec, x.replicas);
    if (x.at > nowMs - downWindow) downRec = Math.max(downRec, x.replicas);
  }
  let desired = current;
  if (rec > current) desired = Math.min(upRec, rateLimit(upRules, current, input.scaleEvents, nowMs, true));
  else if (rec < current) desired = Math.max(downRec, rateLimit(downRules, current, input.scaleEvents, nowMs, false));
  let limited: HorizontalPodAutoscalerCondition;
  if (desired > max) { desired = max; limited = cond('ScalingLimited', 'True', 'TooManyReplicas', 'the desired replica count is more than the maximum replica count', prev?.conditions, now); }
  else if (desired < min) { desired = min; limited = cond('ScalingLimited', 'True', 'TooFewReplicas', 'the desired replica count is less than the minimum replica count', prev?.conditions, now); }
  else limited = cond('ScalingLimited', 'False', 'DesiredWithinRange', 'the desired count is within the acceptable range', prev?.conditions, now);
  conds.push(cond('ScalingActive', 'True', 'ValidMetricFound', 'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)', prev?.conditions, now), limited);
  const status: HorizontalPodAutoscalerStatus = {
    ...base, desiredReplicas: desired,
    currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: r.utilization, averageValue: `${r.usageMilli}m` } } }],
    conditions: conds,
  };
  if (desired === current) return { desiredReplicas: desired, status, recommendation: rec };
  status.lastScaleTime = rfc3339(now);
  const why = desired > current ? 'above' : 'below';
  return {
    scaleTo: desired, desiredReplicas: desired, status, recommendation: rec,
    event: { type: 'Normal', reason: 'SuccessfulRescale', message: `New size: ${desired}; reason: cpu resource utilization (percentage of request) ${why} target` },
  };
}

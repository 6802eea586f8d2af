/**
 * The decision of the eviction subresource (Kubernetes' EvictionREST), pure: whether evicting a Pod
 * is allowed by the PodDisruptionBudgets of its namespace, and the PDB status that records the
 * disruption. The registry applies it (registry.ts `evict`).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { ApiError } from '../../api/errors.js';
import { deepCopy, type KubeObject } from '../../api/object.js';
import { matchesLabelSelector } from '../../api/selectors.js';
import { rfc3339 } from './meta.js';

/** A policy/v1 Eviction. */
export interface Eviction extends KubeObject {
  deleteOptions?: { gracePeriodSeconds?: number; preconditions?: { uid?: string; resourceVersion?: string }; propagationPolicy?: string; dryRun?: string[] };
}

export type EvictionDecision =
  /** Delete the Pod; no budget is involved. */
  | { kind: 'delete' }
  /** Record the disruption in this PDB (status write at its resourceVersion), then delete the Pod. */
  | { kind: 'decrement'; pdb: PodDisruptionBudget }
  /** Refused (429 TooManyRequests, 403, 500). */
  | { kind: 'refuse'; error: ApiError };

/** Kubernetes' limit on status.disruptedPods entries. */
const MAX_DISRUPTED_PODS = 2000;

function tooManyRequests(cause: string): ApiError {
  return new ApiError(429, 'TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget.",
    { causes: [{ reason: 'DisruptionBudget', message: cause }], retryAfterSeconds: 0 });
}

function podReady(p: Pod): boolean {
  return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Whether evicting `pod` is allowed by `pdbs` (every PDB of its namespace) at `now`. */
export function evictionChange(podObj: KubeObject, pdbs: readonly KubeObject[], now: Date): EvictionDecision {
  const pod = podObj as Pod;
  const phase = pod.status?.phase;
  // A Pod that is finished, not yet running or already going away disrupts nothing.
  if (pod.metadata?.deletionTimestamp || phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending') return { kind: 'delete' };
  const matching = (pdbs as PodDisruptionBudget[]).filter((b) => {
    const sel = b.spec?.selector;
    // A PDB with a nil selector matches nothing; an empty one matches every Pod (policy/v1).
    return sel !== undefined && sel !== null && matchesLabelSelector(sel, pod.metadata?.labels);
  });
  if (matching.length === 0) return { kind: 'delete' };
  if (matching.length > 1) {
    return { kind: 'refuse', error: new ApiError(500, 'InternalError', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.') };
  }
  const pdb = matching[0]!;
  const st = pdb.status;
  if ((st?.observedGeneration ?? 0) < (pdb.metadata?.generation ?? 0)) {
    return { kind: 'refuse', error: tooManyRequests(`The disruption budget ${pdb.metadata?.name} is still being processed by the server.`) };
  }
  // IfHealthyBudget (the default): a Pod that is not ready may go while the budget is met.
  const policy = pdb.spec?.unhealthyPodEvictionPolicy;
  if (!podReady(pod) && (policy === 'AlwaysAllow' || (st?.currentHealthy ?? 0) >= (st?.desiredHealthy ?? 0))) return { kind: 'delete' };
  const allowed = st?.disruptionsAllowed ?? 0;
  if (allowed < 0) return { kind: 'refuse', error: new ApiError(403, 'Forbidden', 'pdb disruptions allowed is negative') };
  if (Object.keys(st?.disruptedPods ?? {}).length > MAX_DISRUPTED_PODS) {
    return { kind: 'refuse', error: new ApiError(403, 'Forbidden', 'DisruptedPods map too big - too many evictions not confirmed by PDB controller') };
  }
  if (allowed === 0) {
    return { kind: 'refuse', error: tooManyRequests(`The disruption budget ${pdb.metadata?.name} needs ${st?.desiredHealthy ?? 0} healthy pods and has ${st?.currentHealthy ?? 0} currently`) };
  }
  const next = deepCopy(pdb) as { -readonly [K in keyof PodDisruptionBudget]: PodDisruptionBudget[K] };
  next.status = {
    ...next.status!, disruptionsAllowed: allowed - 1,
    disruptedPods: { ...next.status?.disruptedPods, [pod.metadata?.name ?? '']: rfc3339(now) },
  };
  return { kind: 'decrement', pdb: next };
}

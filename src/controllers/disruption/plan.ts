/**
 * Pure decision of the disruption controller (k8s.io/kubernetes/pkg/controller/disruption): a
 * PodDisruptionBudget's status from the Pods it selects and the scale of their controllers —
 * expectedPods, desiredHealthy (minAvailable, or expected minus maxUnavailable; percentages of
 * the controllers' scale rounded up), currentHealthy (ready Pods not being deleted and not just
 * evicted), disruptionsAllowed and the DisruptionAllowed condition.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from 'kubernetes-types/policy/v1.js';
import { matchesLabelSelector } from '../../api/selectors.js';
import { isPodReady } from '../util/pods.js';

/** An eviction recorded in status.disruptedPods counts as done for this long (DeletionTimeout). */
export const DISRUPTED_POD_TIMEOUT_MS = 2 * 60_000;

const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

function scaled(v: number | string | undefined, total: number): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\d+%$/.test(v)) return Math.ceil((Number(v.slice(0, -1)) * total) / 100);
  return 0;
}

/** The Pods `pdb` selects (an empty selector selects every Pod of the namespace; none selects nothing). */
export function selectedPods(pdb: PodDisruptionBudget, pods: readonly Pod[]): Pod[] {
  const sel = pdb.spec?.selector;
  if (!sel) return [];
  return pods.filter((p) => p.metadata?.namespace === pdb.metadata?.namespace && matchesLabelSelector(sel, p.metadata?.labels));
}

/**
 * `controllerScale(pod)` gives the replicas of the controller that owns a Pod (and that controller's
 * uid, so each controller is counted once); undefined for Pods without a scalable controller.
 */
export function planPdb(pdb: PodDisruptionBudget, pods: readonly Pod[], controllerScale: (p: Pod) => { uid: string; replicas: number } | undefined, now: Date): PodDisruptionBudgetStatus {
  const mine = selectedPods(pdb, pods);
  const spec = pdb.spec ?? {};
  let expected = mine.length;
  const needsScale = spec.maxUnavailable !== undefined || (typeof spec.minAvailable === 'string');
  if (needsScale) {
    const seen = new Map<string, number>();
    let loose = 0;
    for (const p of mine) {
      const s = controllerScale(p);
      if (s) seen.set(s.uid, s.replicas); else loose++;
    }
    expected = [...seen.values()].reduce((a, b) => a + b, 0) + loose;
  }
  let desired: number;
  if (spec.maxUnavailable !== undefined) desired = Math.max(0, expected - scaled(spec.maxUnavailable, expected));
  else if (spec.minAvailable !== undefined) desired = scaled(spec.minAvailable, expected);
  else desired = expected; // neither set: nothing may be disrupted
  // Evictions recorded but not yet seen as deletions still count as disrupted, for a while.
  const disrupted: Record<string, string> = {};
  for (const [name, at] of Object.entries(pdb.status?.disruptedPods ?? {})) {
    const p = mine.find((x) => x.metadata?.name === name);
    if (!p || p.metadata?.deletionTimestamp) continue;
    if (now.getTime() - Date.parse(at) > DISRUPTED_POD_TIMEOUT_MS) continue;
    disrupted[name] = at;
  }
  const healthy = mine.filter((p) => !p.metadata?.deletionTimestamp && isPodReady(p) && !(p.metadata?.name! in disrupted)).length;
  const allowed = Math.max(0, healthy - desired);
  const prevCond = pdb.status?.conditions?.find((c) => c.type === 'DisruptionAllowed');
  const condStatus = allowed > 0 ? 'True' : 'False';
  const cond = {
    type: 'DisruptionAllowed', status: condStatus, reason: allowed > 0 ? 'SufficientPods' : 'InsufficientPods', message: '',
    observedGeneration: pdb.metadata?.generation ?? 0,
    lastTransitionTime: prevCond && prevCond.status === condStatus ? prevCond.lastTransitionTime : rfc3339(now),
  };
  return {
    observedGeneration: pdb.metadata?.generation ?? 0,
    ...(Object.keys(disrupted).length ? { disruptedPods: disrupted } : {}),
    disruptionsAllowed: allowed, currentHealthy: healthy, desiredHealthy: desired, expectedPods: expected,
    conditions: [cond],
  };
}

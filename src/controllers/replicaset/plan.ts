/**
 * Pure decisions of the ReplicaSet controller: which Pods it owns (adopting orphans that match the
 * selector, releasing owned Pods that stopped matching), how many to create or which to delete, and
 * the status to report (k8s.io/kubernetes/pkg/controller/replicaset).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ReplicaSet, ReplicaSetStatus } from 'kubernetes-types/apps/v1.js';
import { matchesLabelSelector } from '../../api/selectors.js';
import { controllerRef, isPodActive, isPodAvailable, isPodReady } from '../util/pods.js';

export interface ReplicaSetPlan {
  /** Orphans to adopt (add our controller ownerReference). */
  adopt: Pod[];
  /** Owned Pods that no longer match: drop our ownerReference. */
  release: Pod[];
  /** Pods to create. */
  create: number;
  /** Pods to delete, most expendable first. */
  delete: Pod[];
  status: ReplicaSetStatus;
}

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/**
 * Scale-down order (controller.ActivePods Less): unscheduled before scheduled, Pending before
 * Unknown before Running, not ready before ready, more recently ready/created first.
 */
export function deletionOrder(a: Pod, b: Pod): number {
  const sa = a.spec?.nodeName ? 1 : 0, sb = b.spec?.nodeName ? 1 : 0;
  if (sa !== sb) return sa - sb;
  const pa = PHASE_RANK[a.status?.phase ?? 'Pending'] ?? 0, pb = PHASE_RANK[b.status?.phase ?? 'Pending'] ?? 0;
  if (pa !== pb) return pa - pb;
  const ra = isPodReady(a) ? 1 : 0, rb = isPodReady(b) ? 1 : 0;
  if (ra !== rb) return ra - rb;
  const ca = Date.parse(a.metadata?.creationTimestamp ?? '') || 0, cb = Date.parse(b.metadata?.creationTimestamp ?? '') || 0;
  if (ca !== cb) return cb - ca;
  return (b.metadata?.name ?? '').localeCompare(a.metadata?.name ?? '');
}

/** Plans one sync. `pods` are the candidate Pods of the namespace; `now` for availability. */
export function planReplicaSet(rs: ReplicaSet, pods: Pod[], now: Date, opts: { canAct?: boolean } = {}): ReplicaSetPlan {
  const uid = rs.metadata?.uid;
  const selector = rs.spec?.selector;
  const adopt: Pod[] = [], release: Pod[] = [], owned: Pod[] = [];
  for (const p of pods) {
    if (p.metadata?.namespace !== rs.metadata?.namespace) continue;
    const ref = controllerRef(p);
    const matches = matchesLabelSelector(selector, p.metadata?.labels);
    if (ref?.uid === uid) {
      if (matches) owned.push(p);
      else release.push(p);
    } else if (!ref && matches && isPodActive(p) && !rs.metadata?.deletionTimestamp) {
      adopt.push(p);
      owned.push(p);
    }
  }
  const active = owned.filter(isPodActive);
  const want = rs.spec?.replicas ?? 1;
  const plan: ReplicaSetPlan = { adopt, release, create: 0, delete: [], status: {} as ReplicaSetStatus };
  if (opts.canAct !== false && !rs.metadata?.deletionTimestamp) {
    if (active.length < want) plan.create = want - active.length;
    else if (active.length > want) plan.delete = [...active].sort(deletionOrder).slice(0, active.length - want);
  }
  const templateLabels = rs.spec?.template?.metadata?.labels ?? {};
  const minReady = rs.spec?.minReadySeconds ?? 0;
  plan.status = {
    replicas: active.length,
    fullyLabeledReplicas: active.filter((p) => Object.entries(templateLabels).every(([k, v]) => p.metadata?.labels?.[k] === v)).length,
    readyReplicas: active.filter(isPodReady).length,
    availableReplicas: active.filter((p) => isPodAvailable(p, minReady, now)).length,
    observedGeneration: rs.metadata?.generation ?? 0,
  };
  if (rs.status?.conditions) plan.status.conditions = rs.status.conditions;
  return plan;
}

/** True when the stored status differs from the planned one. */
export function statusChanged(rs: ReplicaSet, s: ReplicaSetStatus): boolean {
  const cur = rs.status ?? { replicas: 0 };
  return (cur.replicas ?? 0) !== s.replicas || (cur.fullyLabeledReplicas ?? 0) !== (s.fullyLabeledReplicas ?? 0) ||
    (cur.readyReplicas ?? 0) !== (s.readyReplicas ?? 0) || (cur.availableReplicas ?? 0) !== (s.availableReplicas ?? 0) ||
    (cur.observedGeneration ?? 0) !== (s.observedGeneration ?? 0);
}

/**
 * Pure decisions of the node lifecycle controller (kube-controller-manager's
 * pkg/controller/nodelifecycle): when a node is declared unreachable, what its conditions and
 * taints become, and which of its Pods are due for eviction.
 *
 * - A node's last sign of life is the newer of its Lease's renewTime and its Ready condition's
 *   lastHeartbeatTime. Older than the grace period (`--node-monitor-grace-period`, 40 s) → every
 *   condition the agent reports becomes Unknown (`NodeStatusUnknown`, "Kubelet stopped posting node
 *   status."), exactly as Kubernetes writes it.
 * - A node whose Ready is Unknown is tainted `node.kubernetes.io/unreachable` (NoSchedule and
 *   NoExecute), one whose Ready is False `node.kubernetes.io/not-ready`; a Ready node loses both.
 * - A Pod on a NoExecute-tainted node is evicted (deleted, so its controller replaces it elsewhere)
 *   once the taint is older than the Pod's tolerationSeconds for it, or than the
 *   `--pod-eviction-timeout` when the Pod does not say (Kubernetes' DefaultTolerationSeconds adds
 *   300 s to every Pod); a Pod that tolerates the taint without a time limit stays.
 */
import type { Node, NodeCondition, Pod, Taint } from 'kubernetes-types/core/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';

export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
/** The conditions the node agent reports (and the controller turns Unknown). */
export const AGENT_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'] as const;

/** When the node last showed it was alive (ms since the epoch; NaN when never). */
export function lastSeen(node: Node, lease: Lease | undefined): number {
  const hb = Date.parse(node.status?.conditions?.find((c) => c.type === 'Ready')?.lastHeartbeatTime ?? '');
  const renew = Date.parse(lease?.spec?.renewTime ?? '');
  const t = Math.max(Number.isNaN(hb) ? -Infinity : hb, Number.isNaN(renew) ? -Infinity : renew);
  return t === -Infinity ? Number.NaN : t;
}

/**
 * The conditions to write when the node has gone silent, or undefined when nothing changes (it
 * is not silent, or its conditions are Unknown already). `observedSinceMs` is when this controller
 * first saw the node: as in Kubernetes, a (re)started controller counts the grace period from
 * then, so it never declares a node dead on the strength of a heartbeat it could not have seen.
 */
export function silentConditions(node: Node, lease: Lease | undefined, now: Date, gracePeriodMs: number, observedSinceMs: number): NodeCondition[] | undefined {
  const seen = lastSeen(node, lease);
  const since = Math.max(Number.isNaN(seen) ? -Infinity : seen, observedSinceMs);
  if (!(now.getTime() - since > gracePeriodMs)) return undefined;
  const stamp = now.toISOString().replace(/\.\d+Z$/, 'Z');
  const current = node.status?.conditions ?? [];
  let changed = false;
  const out: NodeCondition[] = current.filter((c) => !(AGENT_CONDITIONS as readonly string[]).includes(c.type)).map((c) => ({ ...c }));
  for (const type of AGENT_CONDITIONS) {
    const c = current.find((x) => x.type === type);
    if (c?.status === 'Unknown') { out.push({ ...c }); continue; }
    changed = true;
    out.push(c
      ? { ...c, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: stamp }
      : { type, status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.', lastHeartbeatTime: stamp, lastTransitionTime: stamp });
  }
  return changed ? out : undefined;
}

/** The Ready condition's status: 'True', 'False', 'Unknown' (also when absent). */
export function readyStatus(node: Node): string {
  return node.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? 'Unknown';
}

/**
 * The node's taints with the lifecycle taints made right for its Ready status (others kept as
 * they are). An existing NoExecute taint keeps its timeAdded (eviction counts from it).
 */
export function lifecycleTaints(node: Node, now: Date): Taint[] {
  const ready = readyStatus(node);
  const want = ready === 'True' ? undefined : ready === 'False' ? TAINT_NOT_READY : TAINT_UNREACHABLE;
  const ours = (t: Taint) => t.key === TAINT_UNREACHABLE || t.key === TAINT_NOT_READY;
  const current = node.spec?.taints ?? [];
  const out = current.filter((t) => !ours(t) || t.key === want);
  if (want) {
    if (!out.some((t) => t.key === want && t.effect === 'NoSchedule')) out.push({ key: want, effect: 'NoSchedule' });
    if (!out.some((t) => t.key === want && t.effect === 'NoExecute')) out.push({ key: want, effect: 'NoExecute', timeAdded: now.toISOString().replace(/\.\d+Z$/, 'Z') });
  }
  return out;
}

/** True when the two taint lists differ (order ignored). */
export function taintsDiffer(a: readonly Taint[], b: readonly Taint[]): boolean {
  const k = (t: Taint) => `${t.key}=${t.value ?? ''}:${t.effect}`;
  const sa = new Set(a.map(k));
  return sa.size !== b.length || b.some((t) => !sa.has(k(t)));
}

/**
 * How long `pod` may stay on a node with NoExecute taint `taint` (ms): its matching toleration's
 * tolerationSeconds, Infinity when it tolerates without a limit, `defaultMs` when none matches.
 */
export function toleratedMs(pod: Pod, taint: Taint, defaultMs: number): number {
  let best: number | undefined;
  for (const tol of pod.spec?.tolerations ?? []) {
    if (tol.effect && tol.effect !== 'NoExecute') continue;
    const keyOk = tol.operator === 'Exists' ? !tol.key || tol.key === taint.key : tol.key === taint.key && (tol.value ?? '') === (taint.value ?? '');
    if (!keyOk) continue;
    const ms = tol.tolerationSeconds === undefined || tol.tolerationSeconds === null ? Infinity : Math.max(0, tol.tolerationSeconds) * 1000;
    best = best === undefined ? ms : Math.min(best, ms);
  }
  return best ?? defaultMs;
}

/** The Pods to evict from a node with `taints` at `now` (not terminal and not already being deleted). */
export function podsToEvict(pods: readonly Pod[], taints: readonly Taint[], now: Date, defaultMs: number): Pod[] {
  const noExec = taints.filter((t) => t.effect === 'NoExecute' && (t.key === TAINT_UNREACHABLE || t.key === TAINT_NOT_READY));
  if (noExec.length === 0) return [];
  return pods.filter((p) => {
    if (p.metadata?.deletionTimestamp || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') return false;
    return noExec.some((t) => {
      const added = Date.parse(t.timeAdded ?? '');
      const since = Number.isNaN(added) ? 0 : now.getTime() - added;
      return since >= toleratedMs(p, t, defaultMs);
    });
  });
}

/** The Pod's status with Ready set False (MarkPodsNotReady), or undefined when it is not Ready=True. */
export function notReadyStatus(pod: Pod, now: Date): Pod['status'] | undefined {
  const conds = pod.status?.conditions ?? [];
  const ready = conds.find((c) => c.type === 'Ready');
  if (!ready || ready.status !== 'True') return undefined;
  const stamp = now.toISOString().replace(/\.\d+Z$/, 'Z');
  return { ...pod.status, conditions: conds.map((c) => (c.type === 'Ready' ? { ...c, status: 'False', lastTransitionTime: stamp } : c)) };
}

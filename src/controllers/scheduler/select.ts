/**
 * Pure node selection for the scheduler: filter nodes the Pod may run on (Ready, schedulable,
 * nodeSelector, NoSchedule/NoExecute taints tolerated), then pick the least loaded (spreading),
 * ties broken by name so the outcome is deterministic.
 */
import type { Node, Pod, Taint, Toleration } from 'kubernetes-types/core/v1.js';

/** Result: the chosen node, or the reasons no node fits (FailedScheduling message). */
export type Placement = { node: string } | { message: string };

function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.operator === 'Exists') return !t.key || t.key === taint.key;
  return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
}

/** Chooses a node for `pod`; `load` counts Pods already on each node. */
export function selectNode(pod: Pod, nodes: Node[], load: Map<string, number>): Placement {
  const reasons = new Map<string, number>();
  const note = (r: string) => reasons.set(r, (reasons.get(r) ?? 0) + 1);
  const fit: Node[] = [];
  for (const n of nodes) {
    const ready = n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    if (!ready) { note('node(s) were not ready'); continue; }
    if (n.spec?.unschedulable) { note('node(s) were unschedulable'); continue; }
    const sel = pod.spec?.nodeSelector ?? {};
    if (Object.entries(sel).some(([k, v]) => n.metadata?.labels?.[k] !== v)) { note("node(s) didn't match Pod's node affinity/selector"); continue; }
    const taint = (n.spec?.taints ?? []).find((t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') &&
      !(pod.spec?.tolerations ?? []).some((tol) => tolerates(tol, t)));
    if (taint) { note(`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`); continue; }
    fit.push(n);
  }
  if (fit.length === 0) {
    const parts = [...reasons].map(([r, c]) => `${c} ${r}`).sort();
    return { message: `0/${nodes.length} nodes are available${parts.length ? `: ${parts.join(', ')}` : ''}. preemption: 0/${nodes.length} nodes are available: ${nodes.length} Preemption is not helpful for scheduling.` };
  }
  fit.sort((a, b) => (load.get(a.metadata!.name!) ?? 0) - (load.get(b.metadata!.name!) ?? 0) || a.metadata!.name!.localeCompare(b.metadata!.name!));
  return { node: fit[0].metadata!.name! };
}

/**
 * Pure node selection for the scheduler: filter nodes the Pod may run on (Ready, schedulable,
 * nodeSelector, NoSchedule/NoExecute taints tolerated), then pick the least loaded (spreading),
 * ties broken by name so the outcome is deterministic.
 */
import type { Node, NodeSelectorRequirement, NodeSelectorTerm, Pod, Taint, Toleration } from 'kubernetes-types/core/v1.js';

/** Result: the chosen node, or the reasons no node fits (FailedScheduling message). */
export type Placement = { node: string } | { message: string };

/** Whether toleration `t` tolerates `taint` (v1helper.ToleratesTaint). */
export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.operator === 'Exists') return !t.key || t.key === taint.key;
  return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
}

function requirementHolds(r: NodeSelectorRequirement, value: string | undefined): boolean {
  const vals = r.values ?? [];
  switch (r.operator) {
    case 'In': return value !== undefined && vals.includes(value);
    case 'NotIn': return value === undefined || !vals.includes(value);
    case 'Exists': return value !== undefined;
    case 'DoesNotExist': return value === undefined;
    case 'Gt': return value !== undefined && Number(value) > Number(vals[0]);
    case 'Lt': return value !== undefined && Number(value) < Number(vals[0]);
    default: return false;
  }
}

/**
 * Whether `node` satisfies required node affinity terms (any term; within a term, every label
 * expression and every field — only `metadata.name` — must hold), as the NodeAffinity plugin.
 */
export function nodeMatchesTerms(terms: readonly NodeSelectorTerm[], node: Node): boolean {
  const labels = node.metadata?.labels ?? {};
  return terms.some((t) => {
    if (!(t.matchExpressions?.length || t.matchFields?.length)) return false;
    return (t.matchExpressions ?? []).every((r) => requirementHolds(r, labels[r.key]))
      && (t.matchFields ?? []).every((r) => r.key === 'metadata.name' && requirementHolds(r, node.metadata?.name));
  });
}

const UNSCHEDULABLE_TAINT: Taint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };

/** Chooses a node for `pod`; `load` counts Pods already on each node. */
export function selectNode(pod: Pod, nodes: Node[], load: Map<string, number>): Placement {
  const reasons = new Map<string, number>();
  const note = (r: string) => reasons.set(r, (reasons.get(r) ?? 0) + 1);
  const fit: Node[] = [];
  for (const n of nodes) {
    const ready = n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    if (!ready) { note('node(s) were not ready'); continue; }
    // A cordoned node takes only Pods tolerating its unschedulable taint (DaemonSet Pods do).
    if (n.spec?.unschedulable && !(pod.spec?.tolerations ?? []).some((tol) => tolerates(tol, UNSCHEDULABLE_TAINT))) { note('node(s) were unschedulable'); continue; }
    const sel = pod.spec?.nodeSelector ?? {};
    const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
    if (Object.entries(sel).some(([k, v]) => n.metadata?.labels?.[k] !== v) || (terms?.length && !nodeMatchesTerms(terms, n))) {
      note("node(s) didn't match Pod's node affinity/selector"); continue;
    }
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

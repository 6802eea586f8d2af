/**
 * Pure decisions of the DaemonSet controller (k8s.io/kubernetes/pkg/controller/daemon): which nodes
 * should run a daemon Pod (nodeSelector, required node affinity, taints against the Pod's
 * tolerations plus the ones the controller adds), the Pods to create (each pinned to its node with
 * the node affinity term the controller writes, so the default scheduler places it) and delete,
 * the rolling update (maxUnavailable / maxSurge over Pods of an older template), and the status.
 */
import type { DaemonSet, DaemonSetStatus } from 'kubernetes-types/apps/v1.js';
import type { Node, NodeSelectorTerm, Pod, PodTemplateSpec, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { isPodAvailable, isPodReady } from '../util/pods.js';
import { nodeMatchesTerms, tolerates } from '../scheduler/select.js';

/** Label carrying the template hash of a daemon Pod. */
export const REVISION_LABEL = 'controller-revision-hash';

/** Tolerations every daemon Pod gets (util.AddOrUpdateDaemonPodTolerations). */
export function daemonTolerations(hostNetwork: boolean): Toleration[] {
  const t: Toleration[] = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (hostNetwork) t.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  return t;
}

/** The node a daemon Pod is for: spec.nodeName, or the metadata.name its node affinity requires. */
export function daemonPodNode(p: Pod): string | undefined {
  if (p.spec?.nodeName) return p.spec.nodeName;
  for (const term of p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const f of term.matchFields ?? []) if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
  }
  return undefined;
}

/** The template with the node affinity that pins it to `node` (ReplaceDaemonSetPodNodeNameNodeAffinity) and the daemon tolerations. */
export function podTemplateForNode(template: PodTemplateSpec, node: string): PodTemplateSpec {
  const t = structuredClone(template);
  const spec = t.spec!;
  const pin: NodeSelectorTerm = { matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] };
  const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  // Each existing term gets the metadata.name field requirement in place of its own (as Kubernetes does).
  const newTerms: NodeSelectorTerm[] = terms.length === 0 ? [pin]
    : terms.map((term) => ({ ...term, matchFields: [...(term.matchFields ?? []).filter((f) => f.key !== 'metadata.name'), pin.matchFields![0]!] }));
  spec.affinity = {
    ...spec.affinity,
    nodeAffinity: { ...spec.affinity?.nodeAffinity, requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: newTerms } },
  };
  const tol = [...(spec.tolerations ?? [])];
  for (const d of daemonTolerations(!!spec.hostNetwork)) if (!tol.some((x) => x.key === d.key && x.effect === d.effect)) tol.push(d);
  spec.tolerations = tol;
  return t;
}

/** Whether a daemon Pod should run on `node` (nodeShouldRunDaemonPod's predicates). */
export function shouldRunOn(ds: DaemonSet, node: Node): boolean {
  const spec = ds.spec?.template?.spec;
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const terms = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms && terms.length && !nodeMatchesTerms(terms, node)) return false;
  const tolerations = [...(spec?.tolerations ?? []), ...daemonTolerations(!!spec?.hostNetwork)];
  const blocking = (node.spec?.taints ?? []).find((t: Taint) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerations.some((tol) => tolerates(tol, t)));
  return !blocking;
}

function intOrPercent(v: number | string | undefined | null, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\d+%$/.test(v)) {
    const x = (Number(v.slice(0, -1)) * total) / 100;
    return roundUp ? Math.ceil(x) : Math.floor(x);
  }
  return 0;
}

export interface DaemonSetPlan {
  /** Nodes that need a Pod. */
  create: string[];
  delete: Pod[];
  status: DaemonSetStatus;
}

/**
 * Plans one sync. `pods` are the DaemonSet's Pods; `hash` the current template's hash (label
 * controller-revision-hash of up-to-date Pods); `canAct` false while earlier creates/deletes are
 * not yet observed (the status is still computed).
 */
export function planDaemonSet(ds: DaemonSet, nodes: readonly Node[], pods: readonly Pod[], hash: string, now: Date, canAct = true): DaemonSetPlan {
  const minReady = ds.spec?.minReadySeconds ?? 0;
  const byNode = new Map<string, Pod[]>();
  for (const p of pods) {
    if (p.metadata?.deletionTimestamp) continue;
    const n = daemonPodNode(p);
    if (!n) continue;
    const list = byNode.get(n) ?? [];
    list.push(p);
    byNode.set(n, list);
  }
  const create: string[] = [];
  const del: Pod[] = [];
  let desired = 0, current = 0, misscheduled = 0, ready = 0, updated = 0, available = 0;
  const isNew = (p: Pod): boolean => p.metadata?.labels?.[REVISION_LABEL] === hash;
  // Nodes whose (single) Pod is of an old template: rolling update candidates.
  const oldOnNode: { node: string; pod: Pod; available: boolean }[] = [];
  const surgeNodes: { node: string; old: Pod; newPod?: Pod }[] = [];
  let unavailableNodes = 0;
  const nodeNames = new Set(nodes.map((n) => n.metadata?.name ?? ''));
  for (const node of nodes) {
    const name = node.metadata?.name ?? '';
    const run = shouldRunOn(ds, node);
    const here = (byNode.get(name) ?? []).slice().sort((a, b) => (Date.parse(a.metadata?.creationTimestamp ?? '') || 0) - (Date.parse(b.metadata?.creationTimestamp ?? '') || 0));
    if (!run) {
      if (here.length) { misscheduled++; del.push(...here); }
      continue;
    }
    desired++;
    // Failed Pods are deleted and replaced.
    const failed = here.filter((p) => p.status?.phase === 'Failed');
    del.push(...failed);
    const alive = here.filter((p) => p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded');
    if (alive.length === 0) { create.push(name); unavailableNodes++; continue; }
    current++;
    const newer = alive.filter(isNew);
    const older = alive.filter((p) => !isNew(p));
    const shown = newer[0] ?? older[0]!;
    if (isPodReady(shown)) ready++;
    const anyAvailable = alive.some((p) => isPodAvailable(p, minReady, now));
    if (anyAvailable) available++; else unavailableNodes++;
    if (newer.length) updated++;
    if (newer.length && older.length) {
      // Surge in progress: the old Pod goes once the new one is available.
      surgeNodes.push({ node: name, old: older[0]!, newPod: newer[0] });
      if (newer.length > 1) del.push(...newer.slice(1));
    } else if (newer.length > 1) del.push(...newer.slice(1));
    else if (older.length > 1) del.push(...older.slice(1));
    else if (older.length === 1) oldOnNode.push({ node: name, pod: older[0]!, available: isPodAvailable(older[0]!, minReady, now) });
  }
  // Pods for nodes that no longer exist.
  for (const [n, ps] of byNode) if (!nodeNames.has(n)) del.push(...ps);

  const us = ds.spec?.updateStrategy;
  if (us?.type !== 'OnDelete') {
    const maxSurge = intOrPercent(us?.rollingUpdate?.maxSurge, desired, true);
    const maxUnavailable = intOrPercent(us?.rollingUpdate?.maxUnavailable ?? 1, desired, true);
    if (maxSurge === 0) {
      // Delete old Pods while no more than maxUnavailable nodes lack an available Pod; unavailable old Pods go first.
      let budget = maxUnavailable - unavailableNodes;
      for (const o of oldOnNode.filter((x) => !x.available)) del.push(o.pod);
      for (const o of oldOnNode.filter((x) => x.available)) {
        if (budget <= 0) break;
        del.push(o.pod);
        budget--;
      }
    } else {
      // Surge: a new Pod beside the old one (up to maxSurge at once); the old one leaves once the new is available.
      let surging = surgeNodes.length;
      for (const s of surgeNodes) if (s.newPod && isPodAvailable(s.newPod, minReady, now)) { del.push(s.old); }
      for (const o of oldOnNode) {
        if (!o.available) { del.push(o.pod); continue; }
        if (surging >= maxSurge) break;
        create.push(o.node);
        surging++;
      }
    }
  }
  const status: DaemonSetStatus = {
    currentNumberScheduled: current, desiredNumberScheduled: desired, numberMisscheduled: misscheduled, numberReady: ready,
    updatedNumberScheduled: updated, numberAvailable: available, numberUnavailable: Math.max(0, desired - available),
    observedGeneration: ds.metadata?.generation ?? 0,
  };
  if (ds.status?.collisionCount !== undefined) status.collisionCount = ds.status.collisionCount;
  if (status.numberAvailable === 0) delete status.numberAvailable;
  if (status.numberUnavailable === 0) delete status.numberUnavailable;
  if (status.updatedNumberScheduled === 0) delete status.updatedNumberScheduled;
  return { create: canAct ? create : [], delete: canAct ? [...new Set(del)] : [], status };
}

/**
 * ClusterRole aggregation (kube-controller-manager's clusterrole-aggregation controller, pure part):
 * a ClusterRole with an aggregationRule holds the rules of every other ClusterRole its selectors
 * match, in selector order, matching roles by name, each rule once.
 */
import type { ClusterRole, PolicyRule } from 'kubernetes-types/rbac/v1.js';
import { matchesLabelSelector } from '../../api/selectors.js';

const key = (r: PolicyRule): string => JSON.stringify([r.verbs ?? [], r.apiGroups ?? [], r.resources ?? [], r.resourceNames ?? [], r.nonResourceURLs ?? []]);

/** The rules `role` should hold; undefined when it has no aggregationRule. */
export function aggregatedRules(role: ClusterRole, all: readonly ClusterRole[]): PolicyRule[] | undefined {
  const selectors = role.aggregationRule?.clusterRoleSelectors;
  if (!role.aggregationRule) return undefined;
  const out: PolicyRule[] = [];
  const seen = new Set<string>();
  const byName = [...all].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  for (const sel of selectors ?? []) {
    for (const other of byName) {
      if (other.metadata?.name === role.metadata?.name || !matchesLabelSelector(sel, other.metadata?.labels ?? {})) continue;
      for (const rule of other.rules ?? []) {
        const k = key(rule);
        if (seen.has(k)) continue;
        seen.add(k);
        out.push(rule);
      }
    }
  }
  return out;
}

/** Whether two rule lists are the same (order included). */
export function sameRules(a: readonly PolicyRule[] | undefined, b: readonly PolicyRule[] | undefined): boolean {
  const x = a ?? []; const y = b ?? [];
  return x.length === y.length && x.every((r, i) => key(r) === key(y[i]!));
}

/**
 * Whether a policy set allows one connection, judged from the API objects (pure): which policies
 * isolate each end and which of them allow it. `clusterip diagnose` uses it to name the policy
 * that blocks a Service's traffic, beside the real probe's result and the kernel's drop counters;
 * the kernel rules (compile.ts) implement the same semantics, and the kernel tests check those
 * with real packets.
 */
import type { NetworkPolicyPeer, NetworkPolicyPort } from 'kubernetes-types/networking/v1.js';
import { matchesLabelSelector } from '../api/selectors.js';
import { cidrRange, inRanges, subtractRanges, type Range } from './ipv4.js';
import type { NamespaceInfo, PodInfo, PolicyInfo } from './model.js';
import { selects } from './compile.js';

/** One end of a connection: an address (absent: unknown, and an ipBlock is assumed to match it), and the Pod behind it when it is a Pod's. */
export interface Party {
  ip?: string;
  pod?: PodInfo;
}

export interface Judgement {
  /** Keys of the policies that isolate this end in this direction (empty: not isolated). */
  isolatedBy: string[];
  /** Keys of those that allow the connection. */
  allowedBy: string[];
  allowed: boolean;
}

function peerMatches(peer: NetworkPolicyPeer, policyNs: string, other: Party, ns: (name: string) => NamespaceInfo | undefined): boolean {
  if (peer.ipBlock) {
    const r = cidrRange(peer.ipBlock.cidr);
    if (!r) return false;
    const cut = (peer.ipBlock.except ?? []).map(cidrRange).filter((x): x is Range => !!x);
    return other.ip === undefined || inRanges(other.ip, subtractRanges([r], cut));
  }
  const pod = other.pod;
  if (!pod || pod.hostNetwork) return false;
  if (peer.namespaceSelector) {
    if (!matchesLabelSelector(peer.namespaceSelector, ns(pod.namespace)?.labels ?? {})) return false;
  } else if (pod.namespace !== policyNs) return false;
  return !peer.podSelector || matchesLabelSelector(peer.podSelector, pod.labels);
}

function portMatches(p: NetworkPolicyPort, proto: string, port: number, dest: Party): boolean {
  if ((p.protocol ?? 'TCP') !== proto) return false;
  if (p.port === undefined) return true;
  if (typeof p.port === 'number') return port >= p.port && port <= (p.endPort ?? p.port);
  return !!dest.pod?.ports.some((x) => x.name === p.port && x.protocol === proto && x.port === port);
}

/** Judges `from` → `to` on `proto`/`port` (the Pod's port, after any Service DNAT). */
export function judge(policies: readonly PolicyInfo[], ns: (name: string) => NamespaceInfo | undefined, from: Party, to: Party, proto: string, port: number): { ingress: Judgement; egress: Judgement } {
  const side = (dir: 'Ingress' | 'Egress'): Judgement => {
    const self = dir === 'Ingress' ? to : from;
    const other = dir === 'Ingress' ? from : to;
    const isolatedBy: string[] = [];
    const allowedBy: string[] = [];
    if (!self.pod || self.pod.hostNetwork) return { isolatedBy, allowedBy, allowed: true };
    for (const p of policies) {
      if (!(p.spec.policyTypes ?? ['Ingress']).includes(dir) || !selects(p, self.pod)) continue;
      isolatedBy.push(p.key);
      const rules = (dir === 'Ingress' ? p.spec.ingress : p.spec.egress) ?? [];
      const ok = rules.some((r) => {
        const peers = ((dir === 'Ingress' ? (r as { from?: NetworkPolicyPeer[] }).from : (r as { to?: NetworkPolicyPeer[] }).to) ?? []);
        const ports = r.ports ?? [];
        return (peers.length === 0 || peers.some((x) => peerMatches(x, p.namespace, other, ns)))
          && (ports.length === 0 || ports.some((x) => portMatches(x, proto, port, to)));
      });
      if (ok) allowedBy.push(p.key);
    }
    return { isolatedBy, allowedBy, allowed: isolatedBy.length === 0 || allowedBy.length > 0 };
  };
  return { ingress: side('Ingress'), egress: side('Egress') };
}

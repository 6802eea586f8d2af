/**
 * The decision for one policy on one node (pure): policy + cluster snapshot → the nftables objects
 * the policy owns there — one chain per direction whose rules `accept` what the policy allows, and
 * the sets those rules look up — plus the local Pods it selects (which the dispatch maps send to
 * it, ruleset.ts).
 *
 * Rule shape, per rule i of a direction (ingress matches the source, egress the destination):
 *   ip saddr @pol-H-in-i-pods  meta l4proto . th dport @pol-H-in-i-ports               accept
 *   ip saddr @pol-H-in-i-cidrs meta l4proto . th dport @pol-H-in-i-ports               accept
 *   ip saddr @pol-H-in-i-pods  ip daddr . meta l4proto . th dport @pol-H-in-i-named    accept
 * `pods` holds the addresses of the Pods the podSelector/namespaceSelector peers match (cluster
 * wide), `cidrs` the ipBlocks minus their excepts as non-overlapping intervals, `ports` numeric
 * ports and endPort ranges (`tcp . 8000-8100`; a protocol without a port is `tcp . 0-65535`),
 * `named` named ports resolved on each destination Pod (`10.244.0.5 . tcp . 8080`): on the selected
 * Pod for ingress, on the peer Pods for egress — the destination always, as Kubernetes specifies. An
 * empty `from`/`to` or `ports` leaves that match out (anything). Policy applies after the Service
 * DNAT, so every address here is a Pod's, never a ClusterIP.
 */
import type { NetworkPolicyPeer, NetworkPolicyPort } from 'kubernetes-types/networking/v1.js';
import { matchesLabelSelector } from '../api/selectors.js';
import { cidrRange, mergeRanges, rangeText, subtractRanges, type Range } from './ipv4.js';
import { hasPolicyAddress, type ClusterSnapshot, type PodInfo, type PolicyInfo } from './model.js';
import { policyChain, ruleSet, type Direction } from './names.js';

/** One named set as declared and filled. */
export interface NftSet {
  readonly name: string;
  /** nft type expression, e.g. `ipv4_addr` or `inet_proto . inet_service`. */
  readonly type: string;
  readonly interval: boolean;
  /** Elements as nft writes them, sorted, unique. */
  readonly elements: readonly string[];
}

/** Everything one policy owns on one node. Immutable once made. */
export interface PolicyFragment {
  readonly key: string;
  readonly ingress: boolean;
  readonly egress: boolean;
  /** Addresses of the local Pods the policy selects (sorted). */
  readonly selected: readonly string[];
  /** Chain name → its rules (nft rule text), in declaration order. */
  readonly chains: ReadonlyMap<string, readonly string[]>;
  readonly sets: ReadonlyMap<string, NftSet>;
}

const SET_TYPES = {
  pods: { type: 'ipv4_addr', interval: false },
  cidrs: { type: 'ipv4_addr', interval: true },
  ports: { type: 'inet_proto . inet_service', interval: true },
  named: { type: 'ipv4_addr . inet_proto . inet_service', interval: false },
} as const;

/** Pods a selector peer matches (namespaceSelector: in the namespaces it matches; else the policy's). */
export function peerPods(peer: NetworkPolicyPeer, policyNamespace: string, snap: ClusterSnapshot): PodInfo[] {
  if (peer.ipBlock || (!peer.podSelector && !peer.namespaceSelector)) return [];
  const namespaces: string[] = [];
  if (peer.namespaceSelector) {
    for (const n of snap.namespaces()) if (matchesLabelSelector(peer.namespaceSelector, n.labels)) namespaces.push(n.name);
  } else namespaces.push(policyNamespace);
  const out: PodInfo[] = [];
  for (const ns of namespaces) {
    for (const p of snap.podsIn(ns)) {
      if (hasPolicyAddress(p) && (!peer.podSelector || matchesLabelSelector(peer.podSelector, p.labels))) out.push(p);
    }
  }
  return out;
}

/** Whether `pod` lies in the policy's namespace and matches its podSelector (an empty one: every Pod). */
export function selects(policy: PolicyInfo, pod: PodInfo): boolean {
  return pod.namespace === policy.namespace && matchesLabelSelector(policy.spec.podSelector ?? {}, pod.labels);
}

/** The local Pods (on `node`) a policy isolates. */
export function selectedLocalPods(policy: PolicyInfo, snap: ClusterSnapshot, node: string): PodInfo[] {
  const out: PodInfo[] = [];
  for (const p of snap.podsIn(policy.namespace)) {
    if (p.node === node && hasPolicyAddress(p) && selects(policy, p)) out.push(p);
  }
  return out;
}

function sorted(xs: Iterable<string>): string[] {
  return [...new Set(xs)].sort();
}

const PROTOS = ['sctp', 'tcp', 'udp'] as const;

/** Numeric ports (and protocol-only entries) per protocol, as merged interval elements. */
function portElements(ports: readonly NetworkPolicyPort[]): string[] {
  const by = new Map<string, Range[]>();
  for (const p of ports) {
    if (typeof p.port === 'string') continue;
    const proto = (p.protocol ?? 'TCP').toLowerCase();
    const r = p.port === undefined ? { lo: 0, hi: 65535 } : { lo: p.port, hi: p.endPort ?? p.port };
    if (!by.has(proto)) by.set(proto, []);
    by.get(proto)!.push(r);
  }
  const out: string[] = [];
  for (const proto of PROTOS) {
    for (const r of mergeRanges(by.get(proto) ?? [])) out.push(`${proto} . ${r.lo === r.hi ? r.lo : `${r.lo}-${r.hi}`}`);
  }
  return out;
}

/** `ip . proto . port` of every destination Pod that has one of the named ports. */
function namedElements(named: readonly NetworkPolicyPort[], destinations: Iterable<PodInfo>): string[] {
  const out: string[] = [];
  for (const pod of destinations) {
    for (const n of named) {
      const proto = n.protocol ?? 'TCP';
      for (const cp of pod.ports) if (cp.name === n.port && cp.protocol === proto) out.push(`${pod.ip} . ${proto.toLowerCase()} . ${cp.port}`);
    }
  }
  return sorted(out);
}

/** Compiles one policy for `node` (pure). */
export function compilePolicy(policy: PolicyInfo, snap: ClusterSnapshot, node: string): PolicyFragment {
  const types = policy.spec.policyTypes ?? ['Ingress'];
  const ingress = types.includes('Ingress');
  const egress = types.includes('Egress');
  const local = selectedLocalPods(policy, snap, node);
  const chains = new Map<string, string[]>();
  const sets = new Map<string, NftSet>();
  const addSet = (name: string, kind: keyof typeof SET_TYPES, elements: string[]): string => {
    sets.set(name, { name, ...SET_TYPES[kind], elements });
    return name;
  };
  for (const dir of ['ingress', 'egress'] as Direction[]) {
    if (dir === 'ingress' ? !ingress : !egress) continue;
    const field = dir === 'ingress' ? 'ip saddr' : 'ip daddr';
    const rules: string[] = [];
    const list = (dir === 'ingress' ? policy.spec.ingress : policy.spec.egress) ?? [];
    list.forEach((rule, i) => {
      const peers = (dir === 'ingress' ? (rule as { from?: NetworkPolicyPeer[] }).from : (rule as { to?: NetworkPolicyPeer[] }).to) ?? [];
      const selPeers = peers.filter((p) => !p.ipBlock);
      const blocks = peers.filter((p) => p.ipBlock).map((p) => p.ipBlock!);
      const peerPodList = selPeers.flatMap((p) => peerPods(p, policy.namespace, snap));
      const peerMatches: string[] = [];
      if (peers.length === 0) peerMatches.push('');
      if (selPeers.length > 0) peerMatches.push(`${field} @${addSet(ruleSet(policy.key, dir, i, 'pods'), 'pods', sorted(peerPodList.map((p) => p.ip)))}`);
      if (blocks.length > 0) {
        const ranges: Range[] = [];
        for (const b of blocks) {
          const r = cidrRange(b.cidr);
          if (!r) continue; // an IPv6 block: nothing in this IPv4 cluster
          const cut = (b.except ?? []).map(cidrRange).filter((x): x is Range => !!x);
          ranges.push(...subtractRanges([r], cut));
        }
        peerMatches.push(`${field} @${addSet(ruleSet(policy.key, dir, i, 'cidrs'), 'cidrs', mergeRanges(ranges).map(rangeText))}`);
      }
      const ports = rule.ports ?? [];
      const portMatches: string[] = [];
      if (ports.length === 0) portMatches.push('');
      const numeric = ports.filter((p) => typeof p.port !== 'string');
      const named = ports.filter((p) => typeof p.port === 'string');
      if (numeric.length > 0) portMatches.push(`meta l4proto . th dport @${addSet(ruleSet(policy.key, dir, i, 'ports'), 'ports', portElements(numeric))}`);
      if (named.length > 0) {
        // The destination resolves a named port: the selected Pods for ingress; for egress the peer
        // Pods, or every Pod when the rule also allows ipBlocks or any destination.
        const dests: Iterable<PodInfo> = dir === 'ingress' ? local
          : blocks.length === 0 && peers.length > 0 ? peerPodList : [...snap.pods()].filter(hasPolicyAddress);
        portMatches.push(`ip daddr . meta l4proto . th dport @${addSet(ruleSet(policy.key, dir, i, 'named'), 'named', namedElements(named, dests))}`);
      }
      for (const pm of peerMatches) for (const po of portMatches) rules.push([pm, po, 'accept'].filter(Boolean).join(' '));
    });
    chains.set(policyChain(policy.key, dir), rules);
  }
  return { key: policy.key, ingress, egress, selected: sorted(local.map((p) => p.ip)), chains, sets };
}

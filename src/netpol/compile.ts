/**
 * The decision for one policy on one node (pure): policy + cluster snapshot → the nftables objects
 * the policy owns there — one chain per direction whose rules match what the policy allows (and `return`), and
 * the sets those rules look up — plus the local Pods it selects (which the dispatch maps send to
 * it, ruleset.ts).
 *
 * Rule shape, per rule i of a direction (ingress matches the source, egress the destination):
 *   ip saddr @pol-H-in-i-pods  meta l4proto . th dport @pol-H-in-i-ports               return
 *   ip saddr @pol-H-in-i-cidrs meta l4proto . th dport @pol-H-in-i-ports               return
 *   ip saddr @pol-H-in-i-pods  ip daddr . meta l4proto . th dport @pol-H-in-i-named    return
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
import { cidrRange, ipText, mergeRanges, rangeText, subtractRanges, type Range } from './ipv4.js';
import { hasPolicyAddress, type ClusterSnapshot, type PodInfo, type PolicyInfo } from './model.js';
import { SHARED_SETS, type Direction } from './policynames.js';

/** Everything one policy owns on one node. Immutable once made. */
export interface PolicyFragment {
  readonly key: string;
  readonly ingress: boolean;
  readonly egress: boolean;
  /** Addresses of the local Pods the policy selects (sorted). */
  readonly selected: readonly string[];
  /** Per direction: its rules (nft rule text), inlined into the group chain of every Pod it isolates. */
  readonly rules: Readonly<Record<Direction, readonly string[]>>;
  /** Elements it adds to the shared sets (SHARED_SETS), by set; each carries its rule's number. */
  readonly elements: ReadonlyMap<string, readonly string[]>;
}

/** Gives each rule (policy, direction, index) a number, stable while the policy exists. */
export interface RuleNumbers {
  of(key: string, dir: Direction, index: number): number;
}

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

/** A merged range this short is written as its single ports (hash lookups) rather than as a range. */
export const RANGE_AS_PORTS = 16;

/**
 * Numeric ports (and protocol-only entries) per protocol, merged: single ports (and short ranges,
 * one by one) for the hash set, wider ranges for the interval set.
 */
function portElements(ports: readonly NetworkPolicyPort[]): { single: string[]; ranges: string[] } {
  const by = new Map<string, Range[]>();
  for (const p of ports) {
    if (typeof p.port === 'string') continue;
    const proto = (p.protocol ?? 'TCP').toLowerCase();
    const r = p.port === undefined ? { lo: 0, hi: 65535 } : { lo: p.port, hi: p.endPort ?? p.port };
    if (!by.has(proto)) by.set(proto, []);
    by.get(proto)!.push(r);
  }
  const single: string[] = [];
  const ranges: string[] = [];
  for (const proto of PROTOS) {
    for (const r of mergeRanges(by.get(proto) ?? [])) {
      if (r.hi - r.lo < RANGE_AS_PORTS) for (let port = r.lo; port <= r.hi; port++) single.push(`${proto} . ${port}`);
      // Always `lo-hi`: nft 1.0.6 cannot delete a single-value element of a concatenated interval
      // set written as `tcp . 53 . N` ("No such file or directory"), but can as `tcp . 53-53 . N`.
      else ranges.push(`${proto} . ${r.lo}-${r.hi}`);
    }
  }
  return { single, ranges };
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

/**
 * Compiles one policy for `node` (pure, given the rule numbers). Rule i of a direction is
 *   ct mark set N  ip saddr . ct mark @peer-pods  meta l4proto . th dport . ct mark @rule-ports  return
 * (egress matches ip daddr), with N the rule's number: the connection mark is the register that
 * ties one lookup in a shared set to this rule's elements (`10.244.0.11 . N`), so the table holds
 * four sets whatever the number of policies. A match `return`s to the base chain, which goes on
 * to the other direction's judgement (plan.ts).
 */
export function compilePolicy(policy: PolicyInfo, snap: ClusterSnapshot, node: string, numbers: RuleNumbers): PolicyFragment {
  const types = policy.spec.policyTypes ?? ['Ingress'];
  const ingress = types.includes('Ingress');
  const egress = types.includes('Egress');
  const local = selectedLocalPods(policy, snap, node);
  const elements = new Map<string, string[]>();
  const add = (set: string, els: Iterable<string>): void => {
    let l = elements.get(set);
    if (!l) elements.set(set, l = []);
    for (const e of els) l.push(e);
  };
  const rules: Record<Direction, string[]> = { ingress: [], egress: [] };
  for (const dir of ['ingress', 'egress'] as Direction[]) {
    if (dir === 'ingress' ? !ingress : !egress) continue;
    const field = dir === 'ingress' ? 'ip saddr' : 'ip daddr';
    const list = (dir === 'ingress' ? policy.spec.ingress : policy.spec.egress) ?? [];
    list.forEach((rule, i) => {
      const n = numbers.of(policy.key, dir, i);
      const peers = (dir === 'ingress' ? (rule as { from?: NetworkPolicyPeer[] }).from : (rule as { to?: NetworkPolicyPeer[] }).to) ?? [];
      const selPeers = peers.filter((p) => !p.ipBlock);
      const blocks = peers.filter((p) => p.ipBlock).map((p) => p.ipBlock!);
      const peerPodList = selPeers.flatMap((p) => peerPods(p, policy.namespace, snap));
      const peerMatches: string[] = [];
      if (peers.length === 0) peerMatches.push('');
      if (selPeers.length > 0) {
        add(SHARED_SETS.pods.name, sorted(peerPodList.map((p) => p.ip)).map((ip) => `${ip} . ${n}`));
        peerMatches.push(`${field} . ct mark @${SHARED_SETS.pods.name}`);
      }
      if (blocks.length > 0) {
        const ranges: Range[] = [];
        for (const b of blocks) {
          const r = cidrRange(b.cidr);
          if (!r) continue; // an IPv6 block: nothing in this IPv4 cluster
          const cut = (b.except ?? []).map(cidrRange).filter((x): x is Range => !!x);
          ranges.push(...subtractRanges([r], cut));
        }
        // A single address as `a-a`, for the same nft limit as the ports (portElements).
        add(SHARED_SETS.cidrs.name, mergeRanges(ranges).map((r) => `${r.lo === r.hi ? `${ipText(r.lo)}-${ipText(r.lo)}` : rangeText(r)} . ${n}`));
        peerMatches.push(`${field} . ct mark @${SHARED_SETS.cidrs.name}`);
      }
      const ports = rule.ports ?? [];
      const portMatches: string[] = [];
      if (ports.length === 0) portMatches.push('');
      const numeric = ports.filter((p) => typeof p.port !== 'string');
      const named = ports.filter((p) => typeof p.port === 'string');
      if (numeric.length > 0) {
        const { single, ranges } = portElements(numeric);
        if (single.length > 0) {
          add(SHARED_SETS.ports.name, single.map((e) => `${e} . ${n}`));
          portMatches.push(`meta l4proto . th dport . ct mark @${SHARED_SETS.ports.name}`);
        }
        if (ranges.length > 0) {
          add(SHARED_SETS.portRanges.name, ranges.map((e) => `${e} . ${n}`));
          portMatches.push(`meta l4proto . th dport . ct mark @${SHARED_SETS.portRanges.name}`);
        }
      }
      if (named.length > 0) {
        // The destination resolves a named port: the selected Pods for ingress; for egress the peer
        // Pods, or every Pod when the rule also allows ipBlocks or any destination.
        const dests: Iterable<PodInfo> = dir === 'ingress' ? local
          : blocks.length === 0 && peers.length > 0 ? peerPodList : [...snap.pods()].filter(hasPolicyAddress);
        add(SHARED_SETS.named.name, namedElements(named, dests).map((e) => `${e} . ${n}`));
        portMatches.push(`ip daddr . meta l4proto . th dport . ct mark @${SHARED_SETS.named.name}`);
      }
      const mark = peerMatches.some(Boolean) || portMatches.some(Boolean) ? `ct mark set ${n} ` : '';
      for (const pm of peerMatches) {
        for (const po of portMatches) rules[dir].push(`${mark}${[pm, po].filter(Boolean).join(' ')}${pm || po ? ' ' : ''}return comment "${policy.key} ${dir} ${i}"`);
      }
    });
  }
  const frozen = new Map<string, readonly string[]>();
  for (const [k, v] of elements) frozen.set(k, sorted(v));
  return { key: policy.key, ingress, egress, selected: sorted(local.map((p) => p.ip)), rules, elements: frozen };
}

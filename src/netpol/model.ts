/**
 * The inputs of NetworkPolicy enforcement, trimmed from the API objects to what the decision reads:
 * a Pod's labels, address, node and named ports; a Namespace's labels; a policy's spec. The
 * informers cache only these (`trim*`), and `Snapshot` indexes them the way the compiler asks
 * (Pods by namespace, Pods by address).
 */
import type { Namespace, Pod } from 'kubernetes-types/core/v1.js';
import type { NetworkPolicy, NetworkPolicySpec } from 'kubernetes-types/networking/v1.js';

/** One named container port (`containerPort` with a `name`). */
export interface NamedPort {
  readonly name: string;
  /** TCP, UDP or SCTP. */
  readonly protocol: string;
  readonly port: number;
}

export interface PodInfo {
  /** `namespace/name`. */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** status.podIP ('' while it has none). */
  readonly ip: string;
  /** spec.nodeName ('' while unscheduled). */
  readonly node: string;
  /** hostNetwork Pods are not isolated and are no peers (their address is the node's). */
  readonly hostNetwork: boolean;
  /** Succeeded or Failed: its address may already belong to another Pod. */
  readonly terminal: boolean;
  readonly ports: readonly NamedPort[];
}

export interface NamespaceInfo {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface PolicyInfo {
  /** `namespace/name`. */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly spec: NetworkPolicySpec;
}

/** Whether a Pod takes part in policy (isolated or as a peer): it has its own address and is not finished. */
export function hasPolicyAddress(p: PodInfo): boolean {
  return p.ip !== '' && !p.hostNetwork && !p.terminal;
}

export function podInfo(pod: Pod): PodInfo {
  const ns = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  const ports: NamedPort[] = [];
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) if (p.name) ports.push({ name: p.name, protocol: p.protocol ?? 'TCP', port: p.containerPort });
  }
  const phase = pod.status?.phase;
  return {
    key: `${ns}/${name}`, namespace: ns, name, labels: pod.metadata?.labels ?? {},
    ip: pod.status?.podIP ?? '', node: pod.spec?.nodeName ?? '', hostNetwork: pod.spec?.hostNetwork === true,
    terminal: phase === 'Succeeded' || phase === 'Failed', ports,
  };
}

export function namespaceInfo(ns: Namespace): NamespaceInfo {
  return { name: ns.metadata?.name ?? '', labels: ns.metadata?.labels ?? {} };
}

export function policyInfo(np: NetworkPolicy): PolicyInfo {
  const ns = np.metadata?.namespace ?? '';
  const name = np.metadata?.name ?? '';
  return { key: `${ns}/${name}`, namespace: ns, name, spec: np.spec ?? { podSelector: {} } };
}

/** The cluster as the compiler reads it. */
export interface ClusterSnapshot {
  namespace(name: string): NamespaceInfo | undefined;
  namespaces(): Iterable<NamespaceInfo>;
  /** Pods of one namespace. */
  podsIn(namespace: string): Iterable<PodInfo>;
  pods(): Iterable<PodInfo>;
}

/** A `ClusterSnapshot` kept up to date by informer events (also what tests build). */
export class Snapshot implements ClusterSnapshot {
  private readonly ns = new Map<string, NamespaceInfo>();
  private readonly byNs = new Map<string, Map<string, PodInfo>>();

  static of(pods: readonly PodInfo[], namespaces: readonly NamespaceInfo[]): Snapshot {
    const s = new Snapshot();
    for (const n of namespaces) s.setNamespace(n);
    for (const p of pods) s.setPod(p);
    return s;
  }

  setNamespace(n: NamespaceInfo): void { this.ns.set(n.name, n); }
  deleteNamespace(name: string): void { this.ns.delete(name); }
  setPod(p: PodInfo): void {
    let m = this.byNs.get(p.namespace);
    if (!m) this.byNs.set(p.namespace, m = new Map());
    m.set(p.name, p);
  }
  deletePod(namespace: string, name: string): void {
    const m = this.byNs.get(namespace);
    m?.delete(name);
    if (m && m.size === 0) this.byNs.delete(namespace);
  }
  pod(namespace: string, name: string): PodInfo | undefined { return this.byNs.get(namespace)?.get(name); }

  namespace(name: string): NamespaceInfo | undefined { return this.ns.get(name); }
  namespaces(): Iterable<NamespaceInfo> { return this.ns.values(); }
  podsIn(namespace: string): Iterable<PodInfo> { return this.byNs.get(namespace)?.values() ?? []; }
  *pods(): Iterable<PodInfo> { for (const m of this.byNs.values()) yield* m.values(); }
}

/**
 * The proxy's own view of the cluster, shared by every backend: one `ServicePort` per
 * (Service, port) that needs rules, and the endpoints that back it. Built by the change trackers from
 * Services and EndpointSlices; backends only read it.
 */

/** L4 protocols a Service port can carry (the kernel here supports all three). */
export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/** One port of one Service that gets rules (ClusterIP set, not headless, IPv4). */
export interface ServicePort {
  namespace: string;
  /** Service name. */
  name: string;
  /** The port's name ('' for a single unnamed port). */
  portName: string;
  protocol: Protocol;
  clusterIP: string;
  port: number;
  /** Seconds of ClientIP affinity; undefined when sessionAffinity is None. */
  affinityTimeoutSeconds?: number;
  /** The port every node accepts for this Service port (type NodePort / LoadBalancer); undefined when none. */
  nodePort?: number;
  /**
   * Addresses outside the cluster network that lead to this port: `spec.externalIPs` and the
   * LoadBalancer ingress IPs in `status.loadBalancer` (those with ipMode VIP). Empty for most.
   */
  externalIPs?: string[];
  /** The LoadBalancer ingress IPs (a subset of externalIPs): `loadBalancerSourceRanges` apply to these only. */
  loadBalancerIPs?: string[];
  /** `spec.loadBalancerSourceRanges` (or its annotation): CIDRs allowed to reach the LoadBalancer IPs; empty = all. */
  sourceRanges?: string[];
  /** `externalTrafficPolicy: Local`: external traffic keeps its source IP and only goes to this node's endpoints. */
  externalPolicyLocal?: boolean;
  /** `internalTrafficPolicy: Local`: ClusterIP traffic only goes to endpoints on the sending node. */
  internalPolicyLocal?: boolean;
  /** Topology: use endpoint zone hints (`trafficDistribution: PreferClose`, or the topology-mode annotation). */
  topologyAware?: boolean;
  /** The Service's healthCheckNodePort (LoadBalancer, externalTrafficPolicy Local), on each of its ports. */
  healthCheckNodePort?: number;
}

/** True when traffic from outside the cluster reaches this port (a NodePort, an external or LoadBalancer IP). */
export function externallyAccessible(sp: ServicePort): boolean {
  return sp.nodePort !== undefined || (sp.externalIPs?.length ?? 0) > 0;
}

/** One endpoint address for one service port (an EndpointSlice endpoint resolved to a port). */
export interface Endpoint {
  ip: string;
  port: number;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  /** The endpoint runs on this proxy's node (its `nodeName` is ours). */
  local?: boolean;
  /** Zones the EndpointSlice controller hinted this endpoint for (`hints.forZones`); undefined without hints. */
  zoneHints?: string[];
}

/** `ns/name:portName` (`ns/name` for an unnamed port) — kube-proxy's ServicePortName string, used in comments. */
export function servicePortName(sp: Pick<ServicePort, 'namespace' | 'name' | 'portName'>): string {
  return sp.portName ? `${sp.namespace}/${sp.name}:${sp.portName}` : `${sp.namespace}/${sp.name}`;
}

/** Key that joins a Service port to EndpointSlice ports: same name and protocol. */
export function portKey(portName: string, protocol: Protocol): string {
  return `${portName}/${protocol}`;
}

/**
 * The endpoints a Service port sends new connections to: the ready ones; when none is ready, the
 * ones that are serving and terminating (kube-proxy's "terminating endpoints fallback"), so a
 * rolling update does not drop connections while the last Pods drain.
 */
export function usableEndpoints(eps: readonly Endpoint[]): Endpoint[] {
  const ready = eps.filter((e) => e.ready);
  if (ready.length > 0) return ready;
  return eps.filter((e) => e.serving && e.terminating);
}

/**
 * The endpoints one Service port sends to, as kube-proxy's CategorizeEndpoints splits them:
 * `cluster` for traffic policy Cluster (ready ones — within this node's zone when topology hints
 * say so — else serving+terminating ones), `local` for policy Local (this node's ready ones, else
 * its serving+terminating ones), and whether the Service has any usable endpoint at all (when it
 * has none, traffic is rejected; when it has some but none for this policy, dropped).
 */
export interface CategorizedEndpoints {
  cluster: Endpoint[];
  local: Endpoint[];
  hasAny: boolean;
}

/** kube-proxy's canUseTopology: every ready endpoint has hints and one is hinted for this zone. */
function canUseTopology(eps: readonly Endpoint[], zone: string | undefined): boolean {
  if (!zone) return false;
  let forZone = false;
  for (const e of eps) {
    if (!e.ready) continue;
    if (!e.zoneHints || e.zoneHints.length === 0) return false;
    if (e.zoneHints.includes(zone)) forZone = true;
  }
  return forZone;
}

/** Splits a port's endpoints for the Cluster and Local traffic policies (pure; kube-proxy's topology.go). */
export function categorizeEndpoints(eps: readonly Endpoint[], sp: ServicePort, zone?: string): CategorizedEndpoints {
  const topo = sp.topologyAware === true && canUseTopology(eps, zone);
  let cluster = eps.filter((e) => e.ready && (!topo || e.zoneHints!.includes(zone!)));
  if (cluster.length === 0) cluster = eps.filter((e) => e.serving && e.terminating);
  let local = eps.filter((e) => e.local && e.ready);
  if (local.length === 0) local = eps.filter((e) => e.local && e.serving && e.terminating);
  const hasAny = eps.some((e) => e.ready || (e.serving && e.terminating));
  return { cluster, local, hasAny };
}

/** Everything a backend needs to render the rules of one Service (all its ports). */
export interface ServiceState {
  /** `namespace/name`. */
  key: string;
  ports: ServicePort[];
  /** portKey(portName, protocol) → endpoints (all of them; the backend categorizes them). */
  endpoints: Map<string, Endpoint[]>;
  /** This node's `topology.kubernetes.io/zone` when the state was built (for topology hints). */
  zone?: string;
}

/** What the backends need to know about the node they program (besides the CIDRs). */
export interface NodeContext {
  /** The node's own addresses that accept NodePorts (kube-proxy's `--nodeport-addresses primary`). */
  nodeIPs: string[];
}

/**
 * A proxy backend (nftables, iptables). `plan` is pure: it turns the desired state of the changed
 * Services into one kernel transaction; `commit` records that the transaction was applied, so the
 * next plan is a difference against it. Only the proxy's sync loop calls these.
 */
export interface ProxyBackend {
  readonly mode: 'nftables' | 'iptables' | 'userspace';
  /**
   * One transaction text. `full`: rewrite everything (first sync, after an error); `existing` then
   * names the chains/sets currently in the kernel so stale ones are removed. Otherwise only the
   * Services in `changed` are rendered and diffed against what was written.
   */
  plan(desired: ReadonlyMap<string, ServiceState>, changed: ReadonlySet<string>, full: boolean, existing?: KernelInventory): SyncPlan;
  /** The rules of one Service as last written (nft / iptables-save text); '' if it has none. */
  rulesFor(key: string): string;
  /** Reads which of the proxy's chains/sets exist in the kernel now (before a full sync). */
  inventory(): Promise<KernelInventory>;
  /** Applies one transaction atomically; throws ProxyError KERNEL_COMMAND_FAILED on failure. */
  apply(text: string): Promise<void>;
  /** Removes every rule, chain and set the proxy made. */
  flushAll(): Promise<void>;
  /** Forgets the written model, so the next plan must be full. */
  reset(): void;
  /** Ends any long-lived helper process (the nftables session); the rules stay. */
  close(): Promise<void>;
  /** The node's NodePort addresses changed; the proxy follows with a full sync. */
  setNode?(ctx: NodeContext): void;
}

/** Names found in the kernel before a full sync. */
export interface KernelInventory {
  chains: Set<string>;
  sets: Set<string>;
  /** The table was written in an older shape that cannot be re-declared in place: delete it first. */
  recreate?: boolean;
}

/** A rendered transaction and how to adopt it once the kernel accepted it. */
export interface SyncPlan {
  text: string;
  /** Call after the kernel applied `text`: makes it the new "written" model. */
  commit(): void;
}

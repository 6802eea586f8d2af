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
}

/** One endpoint address for one service port (an EndpointSlice endpoint resolved to a port). */
export interface Endpoint {
  ip: string;
  port: number;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
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

/** Everything a backend needs to render the rules of one Service (all its ports). */
export interface ServiceState {
  /** `namespace/name`. */
  key: string;
  ports: ServicePort[];
  /** portKey(portName, protocol) → endpoints (all of them; the backend applies usableEndpoints). */
  endpoints: Map<string, Endpoint[]>;
}

/**
 * A proxy backend (nftables, iptables). `plan` is pure: it turns the desired state of the changed
 * Services into one kernel transaction; `commit` records that the transaction was applied, so the
 * next plan is a difference against it. Only the proxy's sync loop calls these.
 */
export interface ProxyBackend {
  readonly mode: 'nftables' | 'iptables';
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

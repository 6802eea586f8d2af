/**
 * What explain and diagnose need to know about the cluster beyond its API: its nodes' network
 * namespaces, where a Pod's namespace is, the proxy mode, the DNS server, and where the proxy's sync
 * status comes from. An interface only, because src/cluster is the layer above this one (it wires
 * the trace and flows of this folder in): the CLI builds it from the cluster record
 * (`clusterViewFromRecord`, src/cli/inspectcommon.ts, with names from src/cluster/topology.ts and
 * src/node/podnames.ts); the daemon (web view) can build it from its live objects, passing
 * `proxyStatus` from `Proxy.status()`.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ProxyStatus } from '../proxy/proxy.js';

export interface ClusterNode {
  /** The Node object's name. */
  name: string;
  /** Its network namespace (where the proxy's rules live). */
  netns: string;
  /** Its address on the underlay (where NodePorts answer), when known. */
  ip?: string;
}

export interface ClusterView {
  name: string;
  proxyMode: 'nftables' | 'iptables' | 'userspace';
  serviceCIDR: string;
  podCIDR: string;
  clusterDomain: string;
  /** The kube-dns Service's ClusterIP (the nameserver in every Pod's resolv.conf). */
  dnsServiceIP: string;
  nodes: ClusterNode[];
  /** The "outside" host: a namespace on the underlay with no route to the Service CIDR. */
  outside: { netns: string; ip: string };
  /** The network namespace a Pod's processes run in (its node's for hostNetwork Pods); undefined if unplaced. */
  podNetns(pod: Pod): string | undefined;
  /** The network namespace a node agent makes for the sandbox of the (not hostNetwork) Pod with this UID. */
  sandboxNetns(uid: string): string;
  /** The proxy's last syncs on a node, when published. */
  proxyStatus(node: string): ProxyStatus | undefined;
}

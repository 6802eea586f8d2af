/**
 * What explain and diagnose need to know about the cluster beyond its API: its nodes' network
 * namespaces, where a Pod's namespace is, the proxy mode, the DNS server, and where the proxy's sync
 * status comes from. The CLI builds it from the cluster record (`clusterViewFromRecord`); the
 * daemon (web view) can build it from its live objects, passing `proxyStatus` from `Proxy.status()`.
 * Names come from src/cluster/topology.ts and src/node/names.ts, so they match what the cluster made.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { nthAddress } from '../cluster/addons.js';
import { readProxyStatus } from '../cluster/proxy-status.js';
import type { ClusterRecord } from '../cluster/state.js';
import { nodeName, topologyNames, UNDERLAY_PREFIX } from '../cluster/topology.js';
import { podNetnsName } from '../node/names.js';
import type { ProxyStatus } from '../proxy/proxy.js';

export interface ClusterNode {
  /** The Node object's name. */
  name: string;
  /** Its network namespace (where the proxy's rules live). */
  netns: string;
}

export interface ClusterView {
  name: string;
  proxyMode: 'nftables' | 'iptables';
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

/** The view of a cluster started by `clusterip up`, from its record and state directory. */
export function clusterViewFromRecord(rec: ClusterRecord, stateDir: string, clusterDomain = 'cluster.local'): ClusterView {
  const names = topologyNames(rec.id);
  const nodes = Array.from({ length: rec.nodes }, (_, n) => ({ name: nodeName(rec.name, n, rec.nodes), netns: names.node(n) }));
  const byName = new Map(nodes.map((n) => [n.name, n.netns]));
  return {
    name: rec.name,
    proxyMode: rec.proxyMode,
    serviceCIDR: rec.serviceCIDR,
    podCIDR: rec.podCIDR,
    clusterDomain,
    dnsServiceIP: nthAddress(rec.serviceCIDR, 10),
    nodes,
    outside: { netns: names.outside, ip: `${UNDERLAY_PREFIX}.2` },
    podNetns(pod) {
      if (pod.spec?.hostNetwork) return pod.spec.nodeName ? byName.get(pod.spec.nodeName) : undefined;
      const uid = pod.metadata?.uid;
      return uid && pod.spec?.nodeName ? podNetnsName(`cip-${rec.id}`, uid) : undefined;
    },
    sandboxNetns: (uid) => podNetnsName(`cip-${rec.id}`, uid),
    proxyStatus: (node) => readProxyStatus(stateDir, node),
  };
}

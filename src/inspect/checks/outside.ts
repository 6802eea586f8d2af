/**
 * Check 8 (seeds 000/001: "Trying to access externally"): a ClusterIP is internal. A real
 * connection from the cluster's outside host (a namespace on the underlay with no route to the
 * Service CIDR) shows it, and the finding says what to use from outside instead.
 */
import type { DiagnoseFacts } from '../diagnosefacts.js';
import type { Finding } from '../types.js';
import { finding } from './common.js';

export function checkOutside(f: DiagnoseFacts): Finding[] {
  const e = f.explanation;
  const v = e.service;
  if (!v.clusterIP) return [finding('outside', 'info', 'NoVirtualIP', v.type === 'ExternalName' ? 'an ExternalName Service is a name only' : 'a headless Service has no virtual IP; outside hosts reach Pods only through port-forward or a NodePort/LoadBalancer Service')];
  const o = f.outside;
  const ev: string[] = [e.outside.why];
  if (o?.answer) ev.unshift(`from the outside host ${f.cluster.name ? `(clusterip outside --name ${f.cluster.name})` : ''}: ${o.ip}:${o.port} → ${o.answer.ok ? 'CONNECTED' : o.answer.error}`);
  else if (o?.error) ev.unshift(`outside host not probed: ${o.error}`);
  if (o?.answer?.ok) {
    return [finding('outside', 'warn', 'ReachableFromOutside', `${v.clusterIP} answered from outside the cluster network: it should not`, ev, [`ip netns exec ${e.nodes[0]?.netns ?? '<node>'} nft list table ip clusterip`])];
  }
  // A NodePort or LoadBalancer Service: its ClusterIP is internal, its NodePort / LoadBalancer IP are not.
  if (e.outside.reachable) {
    return [finding('outside', 'info', 'ExternallyReachable', `${v.type}: outside hosts connect at ${[...(v.loadBalancerIPs ?? []), ...(v.nodePorts?.length ? [`<node>:${v.nodePorts.join(',')}`] : [])].join(' and ')}; the ClusterIP ${v.clusterIP} itself stays internal`,
      [e.outside.why, ...ev.slice(0, -1)], e.outside.use)];
  }
  return [finding('outside', 'info', 'InternalOnly', `${v.clusterIP} is reachable only inside the cluster (as designed); from this machine use port-forward`, ev, e.outside.use)];
}

/**
 * A small cluster for the table tests, the kernel tests and the benchmark: namespaces, Pods on two
 * nodes with named ports, and the policies each case adds (written as users write them).
 */
import type { NetworkPolicySpec } from 'kubernetes-types/networking/v1.js';
import { Snapshot, type NamespaceInfo, type PodInfo, type PolicyInfo } from '../model.js';

export function pod(namespace: string, name: string, ip: string, node: string, labels: Record<string, string>, ports: PodInfo['ports'] = []): PodInfo {
  return { key: `${namespace}/${name}`, namespace, name, labels, ip, node, hostNetwork: false, terminal: false, ports };
}

export function ns(name: string, labels: Record<string, string> = {}): NamespaceInfo {
  return { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } };
}

export function policy(namespace: string, name: string, spec: Partial<NetworkPolicySpec>): PolicyInfo {
  return { key: `${namespace}/${name}`, namespace, name, spec: { podSelector: {}, ...spec } as NetworkPolicySpec };
}

export const NAMESPACES = [ns('default'), ns('kube-system'), ns('shop', { team: 'a' }), ns('lab', { team: 'b' })];

export const PODS: PodInfo[] = [
  pod('default', 'web-1', '10.244.0.10', 'node-0', { app: 'web' }, [{ name: 'http', protocol: 'TCP', port: 8080 }]),
  pod('default', 'web-2', '10.244.1.10', 'node-1', { app: 'web' }, [{ name: 'http', protocol: 'TCP', port: 8081 }]),
  pod('default', 'client', '10.244.0.11', 'node-0', { app: 'client' }),
  pod('kube-system', 'dns', '10.244.1.2', 'node-1', { 'k8s-app': 'kube-dns' }, [{ name: 'dns', protocol: 'UDP', port: 53 }, { name: 'dns-tcp', protocol: 'TCP', port: 53 }]),
  pod('shop', 'cart', '10.244.0.20', 'node-0', { app: 'cart' }),
  pod('lab', 'probe', '10.244.1.30', 'node-1', { app: 'probe' }),
  { ...pod('default', 'host', '172.31.255.10', 'node-0', { app: 'web' }), hostNetwork: true },
  { ...pod('default', 'done', '10.244.0.99', 'node-0', { app: 'web' }), terminal: true },
];

export function snapshot(pods: readonly PodInfo[] = PODS, namespaces: readonly NamespaceInfo[] = NAMESPACES): Snapshot {
  return Snapshot.of(pods, namespaces);
}

/** The policies of the golden cases, by case name. */
export const CASES: Record<string, PolicyInfo[]> = {
  'default-deny-ingress': [policy('default', 'deny-all', {})],
  'allow-client-named-port': [
    policy('default', 'deny-all', {}),
    policy('default', 'web-from-client', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }], ports: [{ port: 'http', protocol: 'TCP' }] }] }),
  ],
  'namespace-selector': [
    policy('default', 'web-from-team-a', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'a' } } }] }] }),
  ],
  'ip-block-end-port': [
    policy('default', 'web-ranges', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{
      from: [{ ipBlock: { cidr: '10.244.0.0/16', except: ['10.244.1.0/24', '10.244.0.11/32'] } }, { ipBlock: { cidr: '10.244.2.0/24' } }],
      ports: [{ port: 8000, endPort: 8100, protocol: 'TCP' }, { port: 8080, protocol: 'TCP' }, { protocol: 'UDP' }] }] }),
  ],
  // Single ports and short ranges go to the hash set one by one, wide ranges to the interval set:
  // one rule per set, both with the rule's number.
  'ports-single-and-ranges': [
    policy('default', 'web-ports', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{
      from: [{ podSelector: { matchLabels: { app: 'client' } } }],
      ports: [{ port: 80, protocol: 'TCP' }, { port: 8080, endPort: 8083, protocol: 'TCP' }, { port: 9000, endPort: 9100, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }] }] }),
  ],
  'egress-dns-only': [
    policy('default', 'deny-egress', { policyTypes: ['Egress'] }),
    policy('default', 'allow-dns', { policyTypes: ['Egress'], egress: [{
      to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
      ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }] }] }),
  ],
  'egress-named-port-any-destination': [
    policy('default', 'client-out', { podSelector: { matchLabels: { app: 'client' } }, policyTypes: ['Egress'], egress: [{ ports: [{ port: 'http', protocol: 'TCP' }] }] }),
  ],
  'allow-all-ingress': [policy('shop', 'allow-all', { ingress: [{}] })],
};

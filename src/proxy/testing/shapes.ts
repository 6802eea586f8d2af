/**
 * Service shapes shared by the golden tests of both backends: one ServiceState per shape the
 * proxy must handle, built the way the trackers build them (from real Service/EndpointSlice JSON).
 * The proxy under test runs on node `node-0` in zone `zone-a` with NodePort address `NODE_IP`.
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { servicePortsOf } from '../servicechange.js';
import { endpointsOfSlices } from '../endpointschange.js';
import type { ServiceState } from '../types.js';

/** The node the golden proxy programs, its zone and its NodePort address. */
export const NODE = 'node-0';
export const ZONE = 'zone-a';
export const NODE_IP = '172.31.255.10';

type Spec = NonNullable<Service['spec']>;

export function svc(ns: string, name: string, clusterIP: string, ports: { name?: string; port: number; protocol?: string; nodePort?: number }[], extra: Partial<Spec> = {}, status?: Service['status']): Service {
  return {
    apiVersion: 'v1', kind: 'Service', metadata: { namespace: ns, name },
    spec: { clusterIP, clusterIPs: [clusterIP], ports: ports.map((p) => ({ ...p, targetPort: p.port })), ...extra },
    ...(status ? { status } : {}),
  };
}

export interface EpSpec { ip: string; ready?: boolean; serving?: boolean; terminating?: boolean; nodeName?: string; zones?: string[] }

export function slice(ns: string, service: string, sliceName: string, ports: { name?: string; port: number; protocol?: string }[], eps: EpSpec[], annotations?: Record<string, string>): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
    metadata: { namespace: ns, name: sliceName, labels: { 'kubernetes.io/service-name': service }, ...(annotations ? { annotations } : {}) },
    ports: ports.map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' })),
    endpoints: eps.map((e) => ({
      addresses: [e.ip],
      conditions: { ready: e.ready ?? true, serving: e.serving ?? e.ready ?? true, terminating: e.terminating ?? false },
      ...(e.nodeName ? { nodeName: e.nodeName } : {}),
      ...(e.zones ? { hints: { forZones: e.zones.map((name) => ({ name })) } } : {}),
    })),
  } as EndpointSlice;
}

export function state(service: Service, slices: EndpointSlice[]): ServiceState {
  const key = `${service.metadata!.namespace}/${service.metadata!.name}`;
  return { key, ports: servicePortsOf(service), endpoints: endpointsOfSlices(slices, NODE), zone: ZONE };
}

/** The shapes, keyed by Service key. */
export function shapes(): Map<string, ServiceState> {
  const list: ServiceState[] = [
    // Plain TCP, two ready endpoints, targetPort differs from port.
    state(svc('ns1', 'web', '10.96.0.11', [{ port: 80 }]),
      [slice('ns1', 'web', 'web-abc', [{ port: 8080 }], [{ ip: '10.244.0.2' }, { ip: '10.244.0.3' }])]),
    // UDP without endpoints: rejected.
    state(svc('ns1', 'dns', '10.96.0.12', [{ port: 53, protocol: 'UDP' }]), []),
    // ClientIP affinity (60 s).
    state(svc('ns2', 'sticky', '10.96.0.13', [{ port: 80 }], { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } }),
      [slice('ns2', 'sticky', 'sticky-1', [{ port: 80 }], [{ ip: '10.244.1.5' }])]),
    // Multi-port, named; one unready endpoint gets nothing.
    state(svc('ns2', 'multi', '10.96.0.14', [{ name: 'http', port: 80 }, { name: 'metrics', port: 9090 }]),
      [slice('ns2', 'multi', 'multi-1', [{ name: 'http', port: 8080 }, { name: 'metrics', port: 9100 }],
        [{ ip: '10.244.0.7' }, { ip: '10.244.0.8', ready: false, serving: false }])]),
    // Only a serving+terminating endpoint: used as fallback.
    state(svc('ns3', 'draining', '10.96.0.15', [{ port: 443 }]),
      [slice('ns3', 'draining', 'draining-1', [{ port: 8443 }], [{ ip: '10.244.2.9', ready: false, serving: true, terminating: true }])]),
    // NodePort, Cluster policy, TCP and UDP on one port (one NodePort), endpoints on two nodes.
    state(svc('ns4', 'np', '10.96.0.16', [{ name: 'dns-tcp', port: 53, nodePort: 30053 }, { name: 'dns-udp', port: 53, protocol: 'UDP', nodePort: 30053 }],
      { type: 'NodePort', externalTrafficPolicy: 'Cluster' }),
    [slice('ns4', 'np', 'np-1', [{ name: 'dns-tcp', port: 5353 }, { name: 'dns-udp', port: 5353, protocol: 'UDP' }],
      [{ ip: '10.244.0.20', nodeName: NODE }, { ip: '10.244.1.20', nodeName: 'node-1' }])]),
    // LoadBalancer, externalTrafficPolicy Local: one local endpoint of three; source ranges on its IP.
    state(svc('ns4', 'lb-local', '10.96.0.17', [{ port: 80, nodePort: 30080 }],
      { type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 32000, loadBalancerSourceRanges: ['172.31.255.0/24', '192.0.2.0/24'] },
      { loadBalancer: { ingress: [{ ip: '172.31.255.200', ipMode: 'VIP' }] } }),
    [slice('ns4', 'lb-local', 'lb-local-1', [{ port: 8080 }],
      [{ ip: '10.244.0.21', nodeName: NODE }, { ip: '10.244.1.21', nodeName: 'node-1' }, { ip: '10.244.2.21', nodeName: 'node-2' }])]),
    // LoadBalancer, Local policy, no endpoint on this node: outside clients are dropped here.
    state(svc('ns4', 'lb-remote', '10.96.0.18', [{ port: 80, nodePort: 30081 }],
      { type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 32001 },
      { loadBalancer: { ingress: [{ ip: '172.31.255.201' }] } }),
    [slice('ns4', 'lb-remote', 'lb-remote-1', [{ port: 8080 }], [{ ip: '10.244.1.22', nodeName: 'node-1' }])]),
    // NodePort without endpoints: rejected on the NodePort too.
    state(svc('ns4', 'np-empty', '10.96.0.19', [{ port: 80, nodePort: 30082 }], { type: 'NodePort', externalTrafficPolicy: 'Cluster' }), []),
    // externalIPs (ClusterIP type), internalTrafficPolicy Local.
    state(svc('ns5', 'ext', '10.96.0.20', [{ port: 80 }], { externalIPs: ['192.0.2.50'], internalTrafficPolicy: 'Local', externalTrafficPolicy: 'Cluster' }),
      [slice('ns5', 'ext', 'ext-1', [{ port: 8080 }], [{ ip: '10.244.0.23', nodeName: NODE }, { ip: '10.244.1.23', nodeName: 'node-1' }])]),
    // NodePort with ClientIP affinity and the Local policy.
    state(svc('ns5', 'np-sticky', '10.96.0.21', [{ port: 80, nodePort: 30083 }],
      { type: 'NodePort', externalTrafficPolicy: 'Local', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 30 } } }),
    [slice('ns5', 'np-sticky', 'np-sticky-1', [{ port: 8080 }], [{ ip: '10.244.0.24', nodeName: NODE }, { ip: '10.244.1.24', nodeName: 'node-1' }])]),
    // trafficDistribution PreferClose: zone hints keep ClusterIP traffic in this node's zone.
    state(svc('ns5', 'close', '10.96.0.22', [{ port: 80 }], { trafficDistribution: 'PreferClose' }),
      [slice('ns5', 'close', 'close-1', [{ port: 8080 }], [{ ip: '10.244.0.25', nodeName: NODE, zones: ['zone-a'] }, { ip: '10.244.1.25', nodeName: 'node-1', zones: ['zone-b'] }])]),
  ];
  return new Map(list.map((s) => [s.key, s]));
}

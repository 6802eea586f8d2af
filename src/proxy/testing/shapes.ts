/**
 * Service shapes shared by the golden tests of both backends: one ServiceState per shape the
 * proxy must handle, built the way the trackers build them (from real Service/EndpointSlice JSON).
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { servicePortsOf } from '../servicechange.js';
import { endpointsOfSlices } from '../endpointschange.js';
import type { ServiceState } from '../types.js';

export function svc(ns: string, name: string, clusterIP: string, ports: { name?: string; port: number; protocol?: string }[], extra: Partial<NonNullable<Service['spec']>> = {}): Service {
  return {
    apiVersion: 'v1', kind: 'Service', metadata: { namespace: ns, name },
    spec: { clusterIP, clusterIPs: [clusterIP], ports: ports.map((p) => ({ ...p, targetPort: p.port })), ...extra },
  };
}

export interface EpSpec { ip: string; ready?: boolean; serving?: boolean; terminating?: boolean }

export function slice(ns: string, service: string, sliceName: string, ports: { name?: string; port: number; protocol?: string }[], eps: EpSpec[], annotations?: Record<string, string>): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
    metadata: { namespace: ns, name: sliceName, labels: { 'kubernetes.io/service-name': service }, ...(annotations ? { annotations } : {}) },
    ports: ports.map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' })),
    endpoints: eps.map((e) => ({
      addresses: [e.ip],
      conditions: { ready: e.ready ?? true, serving: e.serving ?? e.ready ?? true, terminating: e.terminating ?? false },
    })),
  } as EndpointSlice;
}

export function state(service: Service, slices: EndpointSlice[]): ServiceState {
  const key = `${service.metadata!.namespace}/${service.metadata!.name}`;
  return { key, ports: servicePortsOf(service), endpoints: endpointsOfSlices(slices) };
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
  ];
  return new Map(list.map((s) => [s.key, s]));
}

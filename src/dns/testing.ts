/**
 * Test helpers for DNS: fixtures and zone-file rendering of answers, so tests state expectations
 * in the domain's own notation (`svc.ns.svc.cluster.local. 30 IN A 10.96.0.5`).
 */
import type { Answer } from 'dns-packet';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';

/** One answer as a zone-file line. */
export function zoneLine(a: Answer): string {
  const d = (a as { data?: unknown }).data;
  let data: string;
  switch (a.type) {
    case 'SRV': { const s = d as { priority: number; weight: number; port: number; target: string }; data = `${s.priority} ${s.weight} ${s.port} ${s.target}.`; break; }
    case 'SOA': { const s = d as { mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number }; data = `${s.mname}. ${s.rname}. SERIAL ${s.refresh} ${s.retry} ${s.expire} ${s.minimum}`; break; }
    case 'CNAME': case 'PTR': case 'NS': data = `${d as string}.`; break;
    case 'TXT': data = `"${Array.isArray(d) ? d.map(String).join('') : String(d)}"`; break;
    default: data = String(d);
  }
  return `${a.name}. ${(a as { ttl?: number }).ttl} IN ${a.type} ${data}`;
}

/** A ClusterIP (or headless, with clusterIP 'None') Service fixture. */
export function svc(ns: string, name: string, spec: Service['spec']): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: ns, name }, spec };
}

/** An EndpointSlice fixture owned by Service `service`. */
export function slice(ns: string, service: string, name: string, endpoints: EndpointSlice['endpoints'], ports: EndpointSlice['ports'] = []): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4', endpoints, ports,
    metadata: { namespace: ns, name, labels: { 'kubernetes.io/service-name': service } },
  };
}

/**
 * Small builders of API objects and diagnose facts for the unit tests of explain and the checks.
 * The facts go through the same pure `buildServiceExplanation` the real gatherers feed.
 */
import type { Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { ClusterView } from '../clusterview.js';
import type { DiagnoseFacts, ProbeConnect } from '../diagnosefacts.js';
import { buildServiceExplanation } from '../explain.js';
import type { ServiceFacts } from '../gather.js';
import type { DnsNameView, KernelServicePort, ListenerView, NodeRulesView } from '../types.js';

export const cluster: ClusterView = {
  name: 'test', proxyMode: 'nftables', serviceCIDR: '10.96.0.0/12', podCIDR: '10.244.0.0/16', clusterDomain: 'cluster.local',
  dnsServiceIP: '10.96.0.10', nodes: [{ name: 'test-node', netns: 'cip-t-n0' }], outside: { netns: 'cip-t-out', ip: '172.31.255.2' },
  podNetns: (p) => (p.metadata?.uid ? `netns-${p.metadata.name}` : undefined),
  sandboxNetns: (uid) => `netns-${uid}`,
  proxyStatus: () => ({ node: 'test-node', mode: 'nftables', syncs: 3, failuresSinceSync: 0, lastSyncAt: '2026-12-06T10:00:00.000Z' }),
};

export function service(name: string, spec: Service['spec'], namespace = 'shop'): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace, uid: `uid-${name}` }, spec: { clusterIP: '10.96.5.5', type: 'ClusterIP', sessionAffinity: 'None', ...spec } };
}

export function pod(name: string, labels: Record<string, string>, opts: { ip?: string; ready?: boolean; ports?: { name?: string; containerPort: number; protocol?: 'TCP' | 'UDP' }[]; namespace?: string; waiting?: string; owner?: string } = {}): Pod {
  const ready = opts.ready ?? true;
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: opts.namespace ?? 'shop', uid: `uid-${name}`, labels, ...(opts.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: opts.owner, uid: 'rs', controller: true }] } : {}) },
    spec: { nodeName: 'test-node', containers: [{ name: 'app', image: 'nginx', ...(opts.ports ? { ports: opts.ports } : {}) }] },
    status: {
      phase: 'Running', podIP: opts.ip ?? '10.244.0.5',
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      containerStatuses: [{
        name: 'app', image: 'nginx', imageID: '', ready, restartCount: 0,
        state: opts.waiting ? { waiting: { reason: opts.waiting, message: `Back-off pulling image "x"` } } : { running: { startedAt: '2026-12-06T10:00:00Z' } },
      }],
    },
  };
}

export function slice(svcName: string, ports: { name?: string; port: number; protocol?: 'TCP' | 'UDP' }[], endpoints: { ip: string; pod?: string; ready?: boolean }[], namespace = 'shop'): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
    metadata: { name: `${svcName}-abcde`, namespace, labels: { 'kubernetes.io/service-name': svcName, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
    ports: ports.map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' })),
    endpoints: endpoints.map((e) => ({ addresses: [e.ip], conditions: { ready: e.ready ?? true, serving: e.ready ?? true, terminating: false }, ...(e.pod ? { targetRef: { kind: 'Pod', name: e.pod, namespace } } : {}) })),
  };
}

export function endpointsObject(name: string, addresses: string[], port: number, namespace = 'shop'): Endpoints {
  return { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace }, subsets: addresses.length ? [{ addresses: addresses.map((ip) => ({ ip })), ports: [{ port }] }] : [] };
}

/** Kernel rules of one Service port with the given endpoints (or a reject). */
export function rules(ports: KernelServicePort[]): NodeRulesView[] {
  return [{ node: 'test-node', netns: 'cip-t-n0', mode: 'nftables', text: '', ports, hairpin: [], proxy: cluster.proxyStatus('test-node') }];
}

export interface FactsInput {
  svc: Service;
  pods?: Pod[];
  slices?: EndpointSlice[];
  endpoints?: Endpoints;
  rules?: NodeRulesView[];
  /** Listeners per Pod name (absent: `0.0.0.0:80/TCP nginx`). */
  listeners?: Record<string, ListenerView[]>;
  dns?: DnsNameView[];
  extra?: Partial<DiagnoseFacts>;
}

const NGINX: ListenerView[] = [{ protocol: 'TCP', address: '0.0.0.0', port: 80, process: 'nginx' }];

/** Facts as the gatherers would produce them. */
export function facts(i: FactsInput): DiagnoseFacts {
  const pods = i.pods ?? [];
  const sf: ServiceFacts = { service: i.svc, slices: i.slices ?? [], ...(i.endpoints ? { endpoints: i.endpoints } : {}), pods, events: [] };
  const listeners = new Map<string, ListenerView[] | Error>(pods.map((p) => [`netns-${p.metadata!.name}`, i.listeners?.[p.metadata!.name!] ?? NGINX]));
  const explanation = buildServiceExplanation(cluster, sf, { rules: i.rules ?? rules([]), listeners, dns: i.dns ?? [] }, new Date('2026-12-06T10:00:01Z'));
  return {
    cluster: { name: 'test', serviceCIDR: '10.96.0.0/12', podCIDR: '10.244.0.0/16', clusterDomain: 'cluster.local', dnsServiceIP: '10.96.0.10', proxyMode: 'nftables' },
    from: i.svc.metadata!.namespace!, explanation, slices: sf.slices, ...(i.endpoints ? { endpoints: i.endpoints } : {}), pods, podsElsewhere: [],
    dnsPods: [pod('coredns-1', { 'k8s-app': 'kube-dns' }, { namespace: 'kube-system', ip: '10.244.0.2' })],
    probe: { placed: true, pod: 'clusterip-probe-x', namespace: i.svc.metadata!.namespace!, node: 'test-node', ip: '10.244.0.9', placedMs: 90 },
    lookups: [], vipConnects: [], endpointConnects: [],
    ...i.extra,
  };
}

export function connect(ip: string, port: number, ok: boolean | string, pod?: string): ProbeConnect {
  return { ip, port, protocol: 'TCP', servicePort: String(port), ...(pod ? { pod } : {}), answer: ok === true ? { ok: true, ms: 0.4 } : { ok: false, ms: 0.3, error: ok === false ? 'ECONNREFUSED' : ok } };
}

/**
 * Deterministic cluster contents for the DNS benchmark: ClusterIP Services, headless Services with
 * EndpointSlices (≤ 100 endpoints per slice, as the EndpointSlice controller cuts them), the dnsperf
 * query files asked of both servers, and the same records as unbound `local-data` lines.
 *
 * The parent (query files, unbound config) and the server child (objects) build the same fixture
 * from the same spec, so nothing large crosses the process boundary.
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { recordsForService, type Rec } from '../../src/dns/records.js';

export const ZONE = 'cluster.local';
export const TTL = 30;

export interface FixtureSpec {
  /** Services with a cluster IP and two named ports (http, metrics). */
  clusterIP: number;
  /** Headless Services (clusterIP None, one named port). */
  headless: number;
  /** Ready endpoints per headless Service (one Pod each). */
  endpointsPerHeadless: number;
  /** Namespaces the Services are spread over. */
  namespaces: number;
}

/** The throughput/latency fixture: 10k ClusterIP Services, 100 headless ones with 10 Pods each. */
export const QPS_FIXTURE: FixtureSpec = { clusterIP: 10_000, headless: 100, endpointsPerHeadless: 10, namespaces: 100 };
/** The memory fixture: 10k Services in all, 1k of them headless with 100 Pods each (100k endpoints). */
export const RSS_FIXTURE: FixtureSpec = { clusterIP: 9_000, headless: 1_000, endpointsPerHeadless: 100, namespaces: 100 };

const MAX_PER_SLICE = 100;

function ipv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}
/** Service CIDR 10.96.0.0/12 (kubeadm default), skipping the first 16 addresses. */
const clusterIPOf = (i: number) => ipv4(((10 << 24) | (96 << 16)) + 16 + i);
/** Pod addresses from 10.128.0.0/9: 100k Pods fit with room to spare. */
export const podIPOf = (i: number) => ipv4(((10 << 24) | (128 << 16)) + 2 + i);
const nsOf = (spec: FixtureSpec, i: number) => `ns-${String(i % spec.namespaces).padStart(3, '0')}`;
/** A UID of the usual 36-character shape; `kind` is one hex-safe letter naming the object kind. */
const uid = (kind: string, i: number) => `0000000${kind}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;

export const clusterIPName = (i: number) => `svc-${i}`;
export const headlessName = (j: number) => `hl-${j}`;

/** All Services of the fixture, shaped as the API server returns them (metadata, selector, ports). */
export function services(spec: FixtureSpec): Service[] {
  const out: Service[] = [];
  for (let i = 0; i < spec.clusterIP; i++) {
    const name = clusterIPName(i);
    const ip = clusterIPOf(i);
    out.push({
      apiVersion: 'v1', kind: 'Service',
      metadata: { name, namespace: nsOf(spec, i), uid: uid('c', i), resourceVersion: String(10 + i), creationTimestamp: '2026-11-23T00:00:00Z', labels: { app: name } },
      spec: {
        type: 'ClusterIP', clusterIP: ip, clusterIPs: [ip], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack',
        selector: { app: name }, sessionAffinity: 'None', internalTrafficPolicy: 'Cluster',
        ports: [
          { name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 },
          { name: 'metrics', port: 9090, protocol: 'TCP', targetPort: 9090 },
        ],
      },
    });
  }
  for (let j = 0; j < spec.headless; j++) {
    const name = headlessName(j);
    out.push({
      apiVersion: 'v1', kind: 'Service',
      metadata: { name, namespace: nsOf(spec, j), uid: uid('d', j), resourceVersion: String(10 + spec.clusterIP + j), creationTimestamp: '2026-11-23T00:00:00Z', labels: { app: name } },
      spec: {
        type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'], selector: { app: name }, sessionAffinity: 'None',
        ports: [{ name: 'http', port: 8080, protocol: 'TCP', targetPort: 8080 }],
      },
    });
  }
  return out;
}

/** The EndpointSlices of the headless Services, ready Pods, up to 100 endpoints per slice. */
export function endpointSlices(spec: FixtureSpec): EndpointSlice[] {
  const out: EndpointSlice[] = [];
  let pod = 0;
  for (let j = 0; j < spec.headless; j++) {
    const name = headlessName(j);
    const namespace = nsOf(spec, j);
    for (let k = 0; k * MAX_PER_SLICE < spec.endpointsPerHeadless; k++) {
      const n = Math.min(MAX_PER_SLICE, spec.endpointsPerHeadless - k * MAX_PER_SLICE);
      const endpoints: EndpointSlice['endpoints'] = [];
      for (let e = 0; e < n; e++, pod++) {
        endpoints.push({
          addresses: [podIPOf(pod)], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'node-1',
          targetRef: { kind: 'Pod', namespace, name: `${name}-pod-${k * MAX_PER_SLICE + e}`, uid: uid('e', pod) },
        });
      }
      out.push({
        apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4', endpoints,
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
        metadata: {
          name: `${name}-${k}`, namespace, uid: uid('f', j * 1000 + k), resourceVersion: String(1_000_000 + out.length),
          labels: { 'kubernetes.io/service-name': name, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
          ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name, uid: uid('d', j), controller: true, blockOwnerDeletion: true }],
        },
      });
    }
  }
  return out;
}

/** A seeded PRNG (mulberry32), so query files are the same every run. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(xs: T[], seed: number): T[] {
  const r = rng(seed);
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

export interface QueryMix {
  /** dnsperf input lines `name TYPE`. */
  lines: string[];
  /** Share of queries whose expected answer is NXDOMAIN. */
  nxShare: number;
  /** Distinct questions in the file. */
  distinct: number;
}

/**
 * The main query mix: A for every ClusterIP Service, SRV for a fifth of them, a headless A for each
 * headless Service (5× each, 10 answers), and names that do not exist (NXDOMAIN). 14.1k distinct
 * questions, which fit the server's 20k-entry answer cache, as a busy cluster's working set would.
 */
export function mainQueries(spec: FixtureSpec): QueryMix {
  const lines: string[] = [];
  const fq = (name: string, i: number) => `${name}.${nsOf(spec, i)}.svc.${ZONE}`;
  for (let i = 0; i < spec.clusterIP; i++) lines.push(`${fq(clusterIPName(i), i)} A`);
  for (let i = 0; i < spec.clusterIP; i += 5) lines.push(`_http._tcp.${fq(clusterIPName(i), i)} SRV`);
  for (let j = 0; j < spec.headless; j++) for (let r = 0; r < 5; r++) lines.push(`${fq(headlessName(j), j)} A`);
  const nx = Math.round(spec.clusterIP / 5);
  for (let i = 0; i < nx; i++) lines.push(`nosuch-${i}.${nsOf(spec, i)}.svc.${ZONE} A`);
  const distinct = spec.clusterIP + spec.clusterIP / 5 + spec.headless + nx;
  return { lines: shuffle(lines, 1), nxShare: nx / lines.length, distinct };
}

/**
 * A mix of 30k distinct questions (A and SRV for every ClusterIP Service, 10k NXDOMAIN names): more
 * than the server's answer cache holds, so nearly every query takes the full decode-resolve-encode path.
 */
export function missQueries(spec: FixtureSpec): QueryMix {
  const lines: string[] = [];
  const fq = (name: string, i: number) => `${name}.${nsOf(spec, i)}.svc.${ZONE}`;
  for (let i = 0; i < spec.clusterIP; i++) {
    lines.push(`${fq(clusterIPName(i), i)} A`, `_http._tcp.${fq(clusterIPName(i), i)} SRV`, `nosuch-${i}.${nsOf(spec, i)}.svc.${ZONE} A`);
  }
  return { lines: shuffle(lines, 2), nxShare: 1 / 3, distinct: lines.length };
}

function zoneData(r: Rec): string {
  switch (r.type) {
    case 'SRV': return `${r.data.priority} ${r.data.weight} ${r.data.port} ${r.data.target}.`;
    case 'CNAME': case 'PTR': return `${r.data}.`;
    case 'TXT': return `"${r.data}"`;
    default: return r.data;
  }
}

/**
 * The fixture's records as unbound `local-data` lines, computed by the server's own
 * `recordsForService`, so both servers hold the same answers. PTR records are left out (the query
 * mixes ask none, and unbound would need an in-addr.arpa zone per /8 for them).
 */
export function unboundLocalData(spec: FixtureSpec): string[] {
  const bySvc = new Map<string, EndpointSlice[]>();
  for (const s of endpointSlices(spec)) {
    const key = `${s.metadata!.namespace}/${s.metadata!.labels!['kubernetes.io/service-name']}`;
    let l = bySvc.get(key);
    if (!l) bySvc.set(key, l = []);
    l.push(s);
  }
  const out = [
    `local-data: "${ZONE}. ${TTL} IN SOA ns.dns.${ZONE}. hostmaster.${ZONE}. 1 7200 1800 86400 ${TTL}"`,
    `local-data: "${ZONE}. ${TTL} IN NS ns.dns.${ZONE}."`,
  ];
  for (const svc of services(spec)) {
    const key = `${svc.metadata!.namespace}/${svc.metadata!.name}`;
    for (const r of recordsForService(svc, bySvc.get(key) ?? [], ZONE)) {
      if (r.type === 'PTR') continue;
      out.push(`local-data: "${r.name}. ${TTL} IN ${r.type} ${zoneData(r)}"`);
    }
  }
  return out;
}

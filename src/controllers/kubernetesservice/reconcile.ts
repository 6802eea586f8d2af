/**
 * Pure part of the lease endpoint reconciler (kube-apiserver's `--endpoint-reconciler-type=lease`,
 * pkg/controlplane/reconcilers/lease.go): every API server holds a Lease, and the endpoints of the
 * `default/kubernetes` Service are the addresses of the API servers whose Lease is live — so every
 * API server is listed and one that stops renewing drops out when its Lease expires.
 *
 * The Leases are `kube-system/apiserver-<id>` with kube-apiserver's identity label; what Kubernetes
 * keeps in its `/masterleases/<ip>` keys (the address) is carried in annotations here, with the
 * server's machine-level URL so joined nodes learn every API server (src/cluster/loadbalancer.ts).
 */
import type { Endpoints } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';

/** Namespace of the API server Leases. */
export const LEASE_NAMESPACE = 'kube-system';
/** kube-apiserver's identity label on its Lease. */
export const LABEL_IDENTITY = 'apiserver.kubernetes.io/identity';
export const IDENTITY_VALUE = 'kube-apiserver';
/** Where the API server's endpoint (its address on the cluster network) is written on the Lease. */
export const ANNOTATION_ADDRESS = 'clusterip.dev/advertise-address';
export const ANNOTATION_PORT = 'clusterip.dev/advertise-port';
/** The URL other machines reach this API server at (joined nodes' load balancers read it). */
export const ANNOTATION_SERVER_URL = 'clusterip.dev/server-url';
/** Label that keeps the EndpointSlice mirroring controller away from the reconciler's Endpoints. */
const LABEL_SKIP_MIRROR = 'endpointslice.kubernetes.io/skip-mirror';
const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';

/** What one API server advertises. */
export interface ApiServerEndpoint {
  /** IPv4 address on the cluster network (where Pods connect). */
  address: string;
  port: number;
  /** https URL other machines use (absent for a loopback-only server). */
  serverURL?: string;
}

/** The Lease of API server `id`, renewed at `now`. */
export function apiServerLease(id: string, ep: ApiServerEndpoint, durationSeconds: number, now: Date, hostname: string): Lease {
  const t = microTime(now);
  return {
    apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
    metadata: {
      name: `apiserver-${id}`, namespace: LEASE_NAMESPACE,
      labels: { [LABEL_IDENTITY]: IDENTITY_VALUE, 'kubernetes.io/hostname': hostname },
      annotations: {
        [ANNOTATION_ADDRESS]: ep.address, [ANNOTATION_PORT]: String(ep.port),
        ...(ep.serverURL ? { [ANNOTATION_SERVER_URL]: ep.serverURL } : {}),
      },
    },
    spec: { holderIdentity: `apiserver-${id}`, leaseDurationSeconds: durationSeconds, renewTime: t, acquireTime: t },
  };
}

/** RFC 3339 with microseconds, the MicroTime format Leases carry. */
export function microTime(d: Date): string {
  return d.toISOString().replace('Z', '000Z');
}

/** True when `lease` was renewed less than its duration ago. */
export function leaseLive(lease: Lease, now: Date): boolean {
  const renewed = Date.parse(lease.spec?.renewTime ?? lease.spec?.acquireTime ?? '');
  const secs = lease.spec?.leaseDurationSeconds ?? 0;
  return Number.isFinite(renewed) && secs > 0 && renewed + secs * 1000 > now.getTime();
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The endpoints of the live API server Leases, deduplicated by address and sorted (a stable result). */
export function liveEndpoints(leases: readonly Lease[], now: Date): ApiServerEndpoint[] {
  const byAddress = new Map<string, ApiServerEndpoint>();
  for (const l of leases) {
    if (l.metadata?.labels?.[LABEL_IDENTITY] !== IDENTITY_VALUE || !leaseLive(l, now)) continue;
    const a = l.metadata?.annotations ?? {};
    const address = a[ANNOTATION_ADDRESS] ?? '';
    const m = IPV4.exec(address);
    const port = Number(a[ANNOTATION_PORT]);
    if (!m || m.slice(1).some((o) => Number(o) > 255) || !(Number.isInteger(port) && port > 0 && port < 65536)) continue;
    byAddress.set(address, { address, port, ...(a[ANNOTATION_SERVER_URL] ? { serverURL: a[ANNOTATION_SERVER_URL] } : {}) });
  }
  const key = (ip: string): number => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  return [...byAddress.values()].sort((x, y) => key(x.address) - key(y.address));
}

/**
 * The desired `default/kubernetes` Endpoints (kube-apiserver's shape: one subset, port `https`).
 * The API servers' ports must agree (they do: every node namespace listens on 6443); the first one wins.
 */
export function kubernetesEndpoints(eps: readonly ApiServerEndpoint[]): Endpoints {
  return {
    apiVersion: 'v1', kind: 'Endpoints',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { [LABEL_SKIP_MIRROR]: 'true' } },
    subsets: eps.length === 0 ? [] : [{
      addresses: eps.map((e) => ({ ip: e.address })),
      ports: [{ name: 'https', port: eps[0]!.port, protocol: 'TCP' }],
    }],
  };
}

/** The desired `default/kubernetes` EndpointSlice (written by the reconciler itself, as kube-apiserver does). */
export function kubernetesEndpointSlice(eps: readonly ApiServerEndpoint[]): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { [LABEL_SERVICE_NAME]: 'kubernetes' } },
    addressType: 'IPv4',
    endpoints: eps.map((e) => ({ addresses: [e.address], conditions: { ready: true } })),
    ports: eps.length === 0 ? [] : [{ name: 'https', port: eps[0]!.port, protocol: 'TCP' }],
  };
}

/** True when the stored Endpoints already say what `desired` says (subsets and our label). */
export function endpointsUpToDate(stored: Endpoints | undefined, desired: Endpoints): boolean {
  if (!stored) return false;
  return JSON.stringify(stored.subsets ?? []) === JSON.stringify(desired.subsets ?? []) &&
    stored.metadata?.labels?.[LABEL_SKIP_MIRROR] === 'true';
}

/** True when the stored slice already says what `desired` says. */
export function sliceUpToDate(stored: EndpointSlice | undefined, desired: EndpointSlice): boolean {
  if (!stored) return false;
  const norm = (s: EndpointSlice) => JSON.stringify({
    t: s.addressType, p: s.ports ?? [],
    e: (s.endpoints ?? []).map((e) => ({ a: e.addresses, r: e.conditions?.ready ?? null })),
  });
  return norm(stored) === norm(desired) && stored.metadata?.labels?.[LABEL_SERVICE_NAME] === 'kubernetes';
}

/**
 * The pure heart of the EndpointSlice mirroring controller (kube-controller-manager's
 * endpointslicemirroring): a Service without a selector gets its endpoints from whoever writes its
 * core/v1 Endpoints by hand; the proxy and DNS read EndpointSlices only, so those addresses are
 * mirrored into slices labelled `endpointslice.kubernetes.io/managed-by:
 * endpointslicemirroring-controller.k8s.io`. Nothing is written here; the controller applies the
 * result.
 *
 * Rules (Kubernetes'):
 * - Mirrored only when the Endpoints exist, are not labelled `endpointslice.kubernetes.io/skip-mirror:
 *   "true"` (the endpoints controller labels its own), carry no leader-election annotation, and a
 *   Service of the same name exists whose `spec.selector` is unset. Otherwise every mirrored slice
 *   of that name is deleted.
 * - One slice per (address type, port list): each subset's ports become the slice's ports, its
 *   `addresses` endpoints with ready=true and its `notReadyAddresses` ready=false (hostname,
 *   nodeName and targetRef copied). Invalid IPs are skipped (Event `InvalidIPAddress`).
 * - At most `maxEndpointsPerSubset` (1000) addresses of a subset are mirrored; the rest are skipped
 *   (Event `TooManyAddressesToMirror`), so a slice is at most that big.
 * - Labels of the Endpoints are copied (service-name and managed-by overwrite theirs), annotations
 *   too except `endpoints.kubernetes.io/last-change-trigger-time` and kubectl's last-applied
 *   configuration; the owner is the Endpoints object (controller reference).
 * - A slice that already holds the desired content is not written; of several slices for one
 *   port list the first (by name) is kept and the others deleted; a slice that would be deleted is
 *   reused (renamed content) instead of creating a new one. No slice is created for Endpoints that
 *   are being deleted.
 *
 * Difference: Kubernetes rewrites a slice only when its endpoints changed; here a change of the
 * Endpoints' labels or annotations reaches the slices too (newer Kubernetes does the same).
 */
import { isIP } from 'node:net';
import type { EndpointAddress, EndpointPort as CorePort, Endpoints, Service } from 'kubernetes-types/core/v1.js';
import type { Endpoint, EndpointPort, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { deepCopy } from '../../api/object.js';
import { generateName } from '../../api/generatename.js';
import { LABEL_SKIP_MIRROR } from '../endpoints/reconcile.js';
import { ANNOTATION_TRIGGER_TIME, LABEL_MANAGED_BY, LABEL_SERVICE_NAME } from '../endpointslice/reconcile.js';

/** This controller's managed-by value. */
export const MIRRORING_CONTROLLER_NAME = 'endpointslicemirroring-controller.k8s.io';
/** kube-controller-manager's --mirroring-max-endpoints-per-subset default. */
export const DEFAULT_MAX_ENDPOINTS_PER_SUBSET = 1000;
/** client-go's leader-election record annotation: such Endpoints are locks, not endpoints. */
export const ANNOTATION_LEADER = 'control-plane.alpha.kubernetes.io/leader';
const ANNOTATION_LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

type AddressType = 'IPv4' | 'IPv6';

export interface MirrorOptions {
  /** Default 1000. */
  maxEndpointsPerSubset?: number;
  /** Name for a new slice from its prefix. Default: prefix + 5 random characters. */
  nameFor?: (prefix: string) => string;
}

/** An Event the controller records on the Endpoints object. */
export interface MirrorEvent {
  reason: 'InvalidIPAddress' | 'TooManyAddressesToMirror';
  message: string;
}

/** What the controller must write for one Endpoints name. */
export interface MirrorChanges {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
  events: MirrorEvent[];
  /** Why nothing is mirrored (the mirrored slices, if any, are deleted), or undefined when mirrored. */
  notMirrored?: 'NoEndpoints' | 'SkipMirrorLabel' | 'LeaderElection' | 'NoService' | 'ServiceHasSelector';
}

/** shouldMirror: not a controller's own Endpoints (skip-mirror) and not a leader-election lock. */
export function shouldMirror(ep: Endpoints | undefined): boolean {
  return !!ep && ep.metadata?.labels?.[LABEL_SKIP_MIRROR] !== 'true' && ep.metadata?.annotations?.[ANNOTATION_LEADER] === undefined;
}

/** True for a slice this controller mirrored for Endpoints `name`. */
export function isMirroredSlice(s: EndpointSlice, name: string): boolean {
  return s.metadata?.labels?.[LABEL_MANAGED_BY] === MIRRORING_CONTROLLER_NAME && s.metadata?.labels?.[LABEL_SERVICE_NAME] === name;
}

/**
 * An Endpoints IP as a slice holds it (Go's ParseIPSloppy + String): leading zeros of IPv4 octets
 * dropped, IPv6 compressed, an IPv4-mapped IPv6 address as IPv4. Undefined when it is no IP.
 */
export function normalizeIP(raw: string): { ip: string; type: AddressType } | undefined {
  const s = raw.trim();
  const sloppy4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (sloppy4) {
    const octets = sloppy4.slice(1).map(Number);
    return octets.every((o) => o <= 255) ? { ip: octets.join('.'), type: 'IPv4' } : undefined;
  }
  if (isIP(s) !== 6) return undefined;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(s);
  if (mapped) return normalizeIP(mapped[1]!);
  // The URL parser serializes IPv6 in RFC 5952 form (lowercase, longest zero run compressed), as Go does.
  const canonical = new URL(`http://[${s}]/`).hostname.slice(1, -1);
  const mappedHex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (mappedHex) {
    const hi = parseInt(mappedHex[1]!, 16); const lo = parseInt(mappedHex[2]!, 16);
    return { ip: `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, type: 'IPv4' };
  }
  return { ip: canonical, type: 'IPv6' };
}

function slicePorts(ports: readonly CorePort[] | undefined): EndpointPort[] {
  return (ports ?? []).map((p) => {
    const out: EndpointPort = { name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' };
    if (p.appProtocol) out.appProtocol = p.appProtocol;
    return out;
  });
}

/** Key of (address type, port list), order-independent. */
function groupKey(type: AddressType, ports: readonly EndpointPort[] | undefined): string {
  return `${type}|${JSON.stringify((ports ?? []).map((p) => [p.name ?? '', p.port ?? 0, p.protocol ?? 'TCP', p.appProtocol ?? '']).sort())}`;
}

function toEndpoint(a: EndpointAddress, ip: string, ready: boolean): Endpoint {
  const ep: Endpoint = { addresses: [ip], conditions: { ready } };
  if (a.hostname) ep.hostname = a.hostname;
  if (a.nodeName) ep.nodeName = a.nodeName;
  if (a.targetRef) ep.targetRef = deepCopy(a.targetRef);
  return ep;
}

/** The labels and annotations a mirrored slice of `ep` carries. */
export function mirroredMeta(ep: Endpoints): { labels: Record<string, string>; annotations: Record<string, string> } {
  const labels: Record<string, string> = { ...(ep.metadata?.labels ?? {}) };
  labels[LABEL_SERVICE_NAME] = ep.metadata?.name ?? '';
  labels[LABEL_MANAGED_BY] = MIRRORING_CONTROLLER_NAME;
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(ep.metadata?.annotations ?? {})) {
    if (k !== ANNOTATION_TRIGGER_TIME && k !== ANNOTATION_LAST_APPLIED) annotations[k] = v;
  }
  return { labels, annotations };
}

function sameMap(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  const ka = Object.keys(a ?? {});
  return ka.length === Object.keys(b).length && ka.every((k) => a![k] === b[k]);
}

/** Canonical text of an endpoint (the fields this controller sets), for "already mirrored" checks. */
function endpointText(e: Endpoint): string {
  const t = e.targetRef;
  return JSON.stringify([e.addresses, e.conditions?.ready ?? null, e.hostname ?? '', e.nodeName ?? '',
    t ? [t.kind ?? '', t.namespace ?? '', t.name ?? '', t.uid ?? '', t.resourceVersion ?? '', t.fieldPath ?? '', t.apiVersion ?? ''] : null]);
}

function sameEndpointSet(a: readonly Endpoint[], b: readonly Endpoint[]): boolean {
  if (a.length !== b.length) return false;
  const x = a.map(endpointText).sort(); const y = b.map(endpointText).sort();
  return x.every((s, i) => s === y[i]);
}

function byName(a: EndpointSlice, b: EndpointSlice): number {
  const x = a.metadata?.name ?? ''; const y = b.metadata?.name ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Computes the writes that make `existing` (the slices labelled with this name and this
 * controller's managed-by, as cached) mirror `endpoints` for `service`. Inputs are never mutated.
 */
export function reconcileMirroring(endpoints: Endpoints | undefined, service: Service | undefined, existing: readonly EndpointSlice[], opts: MirrorOptions = {}): MirrorChanges {
  const out: MirrorChanges = { create: [], update: [], delete: [], events: [] };
  const name = endpoints?.metadata?.name ?? service?.metadata?.name ?? '';
  const mirrored = existing.filter((s) => isMirroredSlice(s, name) && !s.metadata?.deletionTimestamp);
  const why: MirrorChanges['notMirrored'] = !endpoints ? 'NoEndpoints'
    : endpoints.metadata?.labels?.[LABEL_SKIP_MIRROR] === 'true' ? 'SkipMirrorLabel'
      : endpoints.metadata?.annotations?.[ANNOTATION_LEADER] !== undefined ? 'LeaderElection'
        : !service ? 'NoService'
          // Kubernetes tests `Selector != nil`: an empty selector `{}` is a selector too.
          : service.spec?.selector !== undefined && service.spec.selector !== null ? 'ServiceHasSelector' : undefined;
  if (why || !endpoints) {
    out.notMirrored = why;
    out.delete.push(...mirrored);
    return out;
  }

  const max = opts.maxEndpointsPerSubset ?? DEFAULT_MAX_ENDPOINTS_PER_SUBSET;
  const nameFor = opts.nameFor ?? generateName;
  const namespace = endpoints.metadata?.namespace ?? '';
  const { labels, annotations } = mirroredMeta(endpoints);

  // Desired endpoints per (address type, ports), in the order the subsets list them.
  const desired = new Map<string, { type: AddressType; ports: EndpointPort[]; endpoints: Map<string, Endpoint> }>();
  let invalid = 0;
  let skipped = 0;
  for (const subset of endpoints.subsets ?? []) {
    const ports = slicePorts(subset.ports);
    const all: [EndpointAddress, boolean][] = [
      ...(subset.addresses ?? []).map((a): [EndpointAddress, boolean] => [a, true]),
      ...(subset.notReadyAddresses ?? []).map((a): [EndpointAddress, boolean] => [a, false]),
    ];
    let added = 0;
    for (const [a, ready] of all) {
      if (added >= max) break;
      const ip = normalizeIP(a.ip ?? '');
      if (!ip) { invalid++; continue; }
      const key = groupKey(ip.type, ports);
      let g = desired.get(key);
      if (!g) desired.set(key, g = { type: ip.type, ports, endpoints: new Map() });
      // One endpoint per address of a port list (the first listed wins, ready before not-ready).
      if (!g.endpoints.has(ip.ip)) g.endpoints.set(ip.ip, toEndpoint(a, ip.ip, ready));
      added++;
    }
    skipped += all.length - added;
  }
  if (invalid > 0) out.events.push({ reason: 'InvalidIPAddress', message: `Skipped ${invalid} invalid IP addresses when mirroring to EndpointSlices` });
  if (skipped > invalid) {
    out.events.push({ reason: 'TooManyAddressesToMirror', message: `A max of ${max} addresses can be mirrored to EndpointSlices per Endpoints subset. ${skipped - invalid} addresses were skipped` });
  }

  const existingByKey = new Map<string, EndpointSlice[]>();
  for (const s of mirrored) {
    const k = groupKey(s.addressType === 'IPv6' ? 'IPv6' : 'IPv4', s.ports ?? []);
    existingByKey.set(k, [...(existingByKey.get(k) ?? []), s]);
  }
  const ownerRef = {
    apiVersion: 'v1', kind: 'Endpoints', name, uid: endpoints.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true,
  };
  const build = (g: { type: AddressType; ports: EndpointPort[] }, eps: Endpoint[], sliceName?: string): EndpointSlice => ({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: {
      ...(sliceName ? { name: sliceName } : { name: nameFor(`${name}-`), generateName: `${name}-` }),
      namespace, labels: { ...labels }, annotations: { ...annotations }, ownerReferences: [{ ...ownerRef }],
    },
    addressType: g.type, ports: g.ports.map((p) => ({ ...p })), endpoints: eps,
  });

  const toCreate: { g: { type: AddressType; ports: EndpointPort[] }; eps: Endpoint[] }[] = [];
  for (const [key, g] of desired) {
    const eps = [...g.endpoints.values()].slice(0, max);
    const slices = [...(existingByKey.get(key) ?? [])].sort(byName);
    const [first, ...extra] = slices;
    out.delete.push(...extra);
    if (!first) { toCreate.push({ g, eps }); continue; }
    const current = first.metadata ?? {};
    const same = sameEndpointSet(first.endpoints ?? [], eps) && sameMap(current.labels, labels) && sameMap(current.annotations, annotations) &&
      (current.ownerReferences ?? []).some((r) => r.kind === 'Endpoints' && r.uid === ownerRef.uid && r.controller);
    if (same) continue;
    const next = deepCopy(first);
    const rebuilt = build(g, eps, current.name);
    next.metadata = { ...next.metadata, labels: rebuilt.metadata!.labels, annotations: rebuilt.metadata!.annotations, ownerReferences: rebuilt.metadata!.ownerReferences };
    next.endpoints = eps;
    next.ports = rebuilt.ports;
    out.update.push(next);
  }
  for (const [key, slices] of existingByKey) if (!desired.has(key)) out.delete.push(...slices);

  // recycleSlices: a slice about to be deleted takes the content of one about to be created (of the
  // same address type: a slice's addressType is immutable).
  out.delete.sort(byName);
  for (const c of toCreate) {
    const i = out.delete.findIndex((s) => (s.addressType === 'IPv6' ? 'IPv6' : 'IPv4') === c.g.type);
    const reuse = i >= 0 ? out.delete.splice(i, 1)[0] : undefined;
    if (reuse) {
      const next = deepCopy(reuse);
      const rebuilt = build(c.g, c.eps, reuse.metadata?.name);
      next.metadata = { ...next.metadata, labels: rebuilt.metadata!.labels, annotations: rebuilt.metadata!.annotations, ownerReferences: rebuilt.metadata!.ownerReferences };
      next.ports = rebuilt.ports;
      next.endpoints = c.eps;
      out.update.push(next);
    } else if (!endpoints.metadata?.deletionTimestamp) {
      out.create.push(build(c.g, c.eps));
    }
  }
  return out;
}

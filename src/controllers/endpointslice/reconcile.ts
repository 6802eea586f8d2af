/**
 * The pure heart of the EndpointSlice controller: given a Service, the Pods its selector matches and
 * the EndpointSlices that exist for it, compute which slices to create, update and delete
 * (k8s.io/endpointslice reconciler). Nothing is written here; the controller applies the result.
 *
 * Invariants:
 * - Inputs are never mutated (cached objects); updates are copies.
 * - Endpoints are grouped by (address type, resolved port list): Pods whose named targetPorts
 *   resolve differently land in different slices, as in Kubernetes.
 * - An endpoint already in a slice stays in that slice; a slice whose content and labels did not
 *   change is not touched, so watchers (proxy, DNS) see no churn.
 * - When a Service has no endpoints at all, exactly one empty placeholder slice exists.
 */
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import type { Endpoint, EndpointPort, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { deepCopy } from '../../api/object.js';
import { isPodReady, isPodTerminal } from '../util/pods.js';
import { matchesServiceSelector } from '../../api/selectors.js';
import { generateName } from '../../api/generatename.js';
import { endpointPorts, portsKey } from './ports.js';

/** Label naming the Service a slice belongs to. */
export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
/** Label naming the controller that manages a slice. */
export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
/** This controller's managed-by value. */
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
/** Label set on slices of headless Services. */
export const LABEL_HEADLESS = 'service.kubernetes.io/headless';
/** Annotation with the time of the newest change that led to this slice's content. */
export const ANNOTATION_TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';

export interface ReconcileOptions {
  /** Maximum endpoints per slice. Default 100 (kube-controller-manager --max-endpoints-per-slice). */
  maxEndpointsPerSlice?: number;
  /** Name for a new slice from its generateName prefix. Default: prefix + 5 random characters. */
  nameFor?: (prefix: string) => string;
  /** Overrides the trigger time computed from the objects (RFC 3339). */
  triggerTime?: string;
  /** The `topology.kubernetes.io/zone` of a node (endpoint `zone`, and hints for trafficDistribution). */
  zoneOf?: (nodeName: string) => string | undefined;
}

/** The annotation that asked for topology hints before `trafficDistribution` (Auto). */
const TOPOLOGY_MODE_ANNOTATION = 'service.kubernetes.io/topology-mode';

/**
 * Whether endpoints get zone hints: `trafficDistribution: PreferClose` (or PreferSameZone), or the
 * older `service.kubernetes.io/topology-mode: Auto`. Kubernetes' PreferClose heuristic hints every
 * endpoint for its own zone; the proxies then keep traffic in the client's zone when they can.
 */
export function wantsZoneHints(service: Service): boolean {
  const td = service.spec?.trafficDistribution;
  return td === 'PreferClose' || td === 'PreferSameZone' || /^auto$/i.test(service.metadata?.annotations?.[TOPOLOGY_MODE_ANNOTATION] ?? '');
}

/** What the controller must write. */
export interface SliceChanges {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
}

type AddressType = 'IPv4' | 'IPv6';

/** True when the Pod may appear in a slice at all (ShouldPodBeInEndpoints with includeTerminating). */
export function podEligible(pod: Pod): boolean {
  return !!pod.spec?.nodeName && !!pod.status?.podIP && !isPodTerminal(pod);
}

function podIPFor(pod: Pod, family: AddressType): string | undefined {
  const ips = (pod.status?.podIPs ?? []).map((x) => x.ip).filter((x): x is string => !!x);
  if (pod.status?.podIP && !ips.includes(pod.status.podIP)) ips.unshift(pod.status.podIP);
  return ips.find((ip) => (ip.includes(':') ? 'IPv6' : 'IPv4') === family);
}

/** The endpoint a Pod contributes (conditions as the EndpointSlice controller sets them). */
export function podEndpoint(service: Service, pod: Pod, ip: string, zone?: string): Endpoint {
  const terminating = !!pod.metadata?.deletionTimestamp;
  const podReady = isPodReady(pod);
  const publish = service.spec?.publishNotReadyAddresses === true;
  const ep: Endpoint = {
    addresses: [ip],
    // A terminating Pod is never "ready" unless the Service publishes not-ready addresses.
    conditions: { ready: publish || (podReady && !terminating), serving: podReady, terminating },
  };
  if (pod.spec?.hostname && pod.spec.subdomain === service.metadata?.name && pod.metadata?.namespace === service.metadata?.namespace) {
    ep.hostname = pod.spec.hostname;
  }
  if (pod.spec?.nodeName) ep.nodeName = pod.spec.nodeName;
  if (zone) {
    ep.zone = zone;
    if (wantsZoneHints(service)) ep.hints = { forZones: [{ name: zone }] };
  }
  ep.targetRef = { kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid };
  return ep;
}

function endpointKey(ep: Endpoint): string {
  return `${ep.addresses[0] ?? ''}|${ep.targetRef?.uid ?? ep.targetRef?.name ?? ''}`;
}

/**
 * The newest of a set of RFC 3339 times. Timestamps in the API server's own form
 * (`2006-01-02T15:04:05Z`, fixed width, UTC) order as strings, so only a new maximum among those
 * is parsed — `Date.parse` on every Pod condition was a measurable share of a 10k-Service sync.
 * Any other form (fractions, offsets) is parsed.
 */
class NewestTime {
  private canonical = '';
  private parsed = Number.NaN;

  add(t: string | undefined): void {
    if (!t) return;
    if (t.length === 20 && t.charCodeAt(19) === 90 /* Z */ && t.charCodeAt(10) === 84 /* T */) {
      // Parsed only when it is a new maximum, which also keeps an invalid date from winning.
      if (t > this.canonical && !Number.isNaN(Date.parse(t))) this.canonical = t;
      return;
    }
    const ms = Date.parse(t);
    if (!Number.isNaN(ms) && !(ms <= this.parsed)) this.parsed = ms;
  }

  /** The newest time as `toISOString()` renders it, or undefined when none was valid. */
  result(): string | undefined {
    const c = this.canonical ? Date.parse(this.canonical) : Number.NaN;
    const best = Number.isNaN(c) ? this.parsed : Number.isNaN(this.parsed) ? c : Math.max(c, this.parsed);
    return Number.isNaN(best) ? undefined : new Date(best).toISOString();
  }
}

/** The newest change time among the Service and the Pods that feed its endpoints. */
export function computeTriggerTime(service: Service, pods: Pod[]): string | undefined {
  const newest = new NewestTime();
  newest.add(service.metadata?.creationTimestamp);
  for (const p of pods) {
    newest.add(p.metadata?.creationTimestamp);
    newest.add(p.metadata?.deletionTimestamp);
    for (const c of p.status?.conditions ?? []) newest.add(c.lastTransitionTime);
  }
  return newest.result();
}

/** The labels every managed slice of `service` carries. */
export function sliceLabels(service: Service): Record<string, string> {
  const labels: Record<string, string> = { ...(service.metadata?.labels ?? {}) };
  labels[LABEL_SERVICE_NAME] = service.metadata?.name ?? '';
  labels[LABEL_MANAGED_BY] = CONTROLLER_NAME;
  if (service.spec?.clusterIP === 'None') labels[LABEL_HEADLESS] = '';
  else delete labels[LABEL_HEADLESS];
  return labels;
}

function ownerRef(service: Service) {
  return {
    apiVersion: 'v1', kind: 'Service', name: service.metadata?.name ?? '', uid: service.metadata?.uid ?? '',
    controller: true, blockOwnerDeletion: true,
  };
}

function ownedBy(slice: EndpointSlice, service: Service): boolean {
  const refs = slice.metadata?.ownerReferences ?? [];
  return refs.length === 0 || refs.some((r) => r.uid === service.metadata?.uid && r.kind === 'Service');
}

/** True for slices this controller manages for `service`. */
export function isManagedSlice(slice: EndpointSlice, service: Service): boolean {
  return slice.metadata?.labels?.[LABEL_MANAGED_BY] === CONTROLLER_NAME &&
    slice.metadata?.labels?.[LABEL_SERVICE_NAME] === service.metadata?.name &&
    slice.metadata?.namespace === service.metadata?.namespace;
}

function sameLabels(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  const ka = Object.keys(a ?? {});
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (a![k] !== b[k]) return false;
  return true;
}

function byName(a: { metadata?: { name?: string } }, b: { metadata?: { name?: string } }): number {
  const x = a.metadata?.name ?? '', y = b.metadata?.name ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
}

function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  if (a.addresses.length !== b.addresses.length || a.addresses.some((x, i) => x !== b.addresses[i])) return false;
  const ca = a.conditions ?? {}, cb = b.conditions ?? {};
  if (!!ca.ready !== !!cb.ready || !!ca.serving !== !!cb.serving || !!ca.terminating !== !!cb.terminating) return false;
  if ((a.hostname ?? '') !== (b.hostname ?? '') || (a.nodeName ?? '') !== (b.nodeName ?? '') || (a.zone ?? '') !== (b.zone ?? '')) return false;
  if ((a.hints?.forZones ?? []).map((z) => z.name).join(',') !== (b.hints?.forZones ?? []).map((z) => z.name).join(',')) return false;
  const ta = a.targetRef, tb = b.targetRef;
  if (!ta || !tb) return !ta && !tb;
  return ta.kind === tb.kind && ta.name === tb.name && ta.namespace === tb.namespace && ta.uid === tb.uid;
}

/** Endpoint lists equal in order and content (the fields this controller sets). */
function sameEndpoints(a: Endpoint[], b: Endpoint[]): boolean {
  return a.length === b.length && a.every((e, i) => sameEndpoint(e, b[i]));
}

/**
 * Computes the slice writes that bring `existingSlices` in line with `service` and `pods`.
 * `pods` may contain Pods that do not match the selector or are not eligible: they are skipped.
 * A Service without a selector yields no changes (its slices are user-managed).
 */
export function reconcileEndpointSlices(service: Service, pods: Pod[], existingSlices: EndpointSlice[], opts: ReconcileOptions = {}): SliceChanges {
  const out: SliceChanges = { create: [], update: [], delete: [] };
  const selector = service.spec?.selector;
  if (!selector || Object.keys(selector).length === 0 || service.spec?.type === 'ExternalName') return out;

  const max = opts.maxEndpointsPerSlice ?? 100;
  const nameFor = opts.nameFor ?? generateName;
  const svcName = service.metadata?.name ?? '';
  const namespace = service.metadata?.namespace ?? '';
  const labels = sliceLabels(service);
  const families = ((service.spec?.ipFamilies?.length ? service.spec.ipFamilies : ['IPv4']) as AddressType[]);

  const selected = pods
    .filter((p) => p.metadata?.namespace === namespace && matchesServiceSelector(selector, p.metadata?.labels) && podEligible(p))
    .sort(byName);
  const trigger = opts.triggerTime ?? computeTriggerTime(service, selected);

  const stamp = (s: EndpointSlice): EndpointSlice => {
    s.metadata = s.metadata ?? {};
    s.metadata.labels = { ...labels };
    if (trigger) s.metadata.annotations = { ...(s.metadata.annotations ?? {}), [ANNOTATION_TRIGGER_TIME]: trigger };
    s.metadata.ownerReferences = [ownerRef(service)];
    return s;
  };
  const fresh = (type: AddressType, ports: EndpointPort[], endpoints: Endpoint[]): EndpointSlice => stamp({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: nameFor(`${svcName}-`), generateName: `${svcName}-`, namespace },
    addressType: type, endpoints, ports,
  });

  const managed = existingSlices.filter((s) => isManagedSlice(s, service) && !s.metadata?.deletionTimestamp);
  for (const s of managed) {
    if (!ownedBy(s, service) || !families.includes(s.addressType as AddressType)) out.delete.push(s);
  }

  for (const family of families) {
    // Desired endpoints grouped by their resolved port list.
    const groups = new Map<string, { ports: EndpointPort[]; endpoints: Map<string, Endpoint> }>();
    for (const pod of selected) {
      const ip = podIPFor(pod, family);
      if (!ip) continue;
      const ports = endpointPorts(service, pod);
      const key = portsKey(ports);
      let g = groups.get(key);
      if (!g) groups.set(key, g = { ports, endpoints: new Map() });
      const ep = podEndpoint(service, pod, ip, pod.spec?.nodeName ? opts.zoneOf?.(pod.spec.nodeName) : undefined);
      g.endpoints.set(endpointKey(ep), ep);
    }
    const existing = managed.filter((s) => s.addressType === family && ownedBy(s, service));
    const existingByGroup = new Map<string, EndpointSlice[]>();
    for (const s of existing) {
      const k = portsKey(s.ports ?? []);
      const list = existingByGroup.get(k) ?? [];
      list.push(s);
      existingByGroup.set(k, list);
    }

    const created: EndpointSlice[] = [];
    const deleted: EndpointSlice[] = [];
    const keys = new Set([...groups.keys(), ...existingByGroup.keys()]);
    for (const key of keys) {
      const desired = groups.get(key);
      const remaining = new Map(desired?.endpoints ?? []);
      const kept: { slice: EndpointSlice; eps: Endpoint[]; changed: boolean }[] = [];
      // Sorted by name so the outcome does not depend on list order.
      const slices = [...(existingByGroup.get(key) ?? [])].sort(byName);
      for (const slice of slices) {
        const eps: Endpoint[] = [];
        for (const old of slice.endpoints ?? []) {
          const k = endpointKey(old);
          const want = remaining.get(k);
          if (want && eps.length < max) { eps.push(want); remaining.delete(k); }
        }
        const changed = !sameEndpoints(eps, slice.endpoints ?? []) ||
          !sameLabels(slice.metadata?.labels, labels) || !(slice.metadata?.ownerReferences ?? []).some((r) => r.uid === service.metadata?.uid);
        kept.push({ slice, eps, changed });
      }
      // Fill slices that change anyway first, then others with room; create new ones last.
      for (const pass of [true, false]) {
        for (const k of kept) {
          if (k.changed !== pass) continue;
          for (const [ek, ep] of remaining) {
            if (k.eps.length >= max) break;
            k.eps.push(ep);
            remaining.delete(ek);
            k.changed = true;
          }
        }
      }
      for (const k of kept) {
        // A slice left without endpoints is deleted (the placeholder rule below may keep one).
        if (k.eps.length === 0) { deleted.push(k.slice); continue; }
        if (!k.changed) continue;
        const s = deepCopy(k.slice);
        s.endpoints = k.eps;
        out.update.push(stamp(s));
      }
      const rest = [...remaining.values()];
      for (let i = 0; i < rest.length; i += max) created.push(fresh(family, desired!.ports, rest.slice(i, i + max)));
    }

    // The placeholder: a Service with no endpoints keeps exactly one empty slice.
    if (existing.length === deleted.length && created.length === 0) {
      const placeholder = deleted.find((s) => (s.endpoints ?? []).length === 0 && (s.ports ?? []).length === 0);
      if (placeholder) {
        deleted.splice(deleted.indexOf(placeholder), 1);
        if (!sameLabels(placeholder.metadata?.labels, labels)) out.update.push(stamp(deepCopy(placeholder)));
      } else {
        created.push(fresh(family, [], []));
      }
    }
    out.create.push(...created);
    out.delete.push(...deleted);
  }
  return out;
}

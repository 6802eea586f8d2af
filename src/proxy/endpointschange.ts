/**
 * Records EndpointSlice changes between syncs, as kube-proxy's EndpointsChangeTracker. Slices are
 * grouped by the Service named in their `kubernetes.io/service-name` label; a Service's endpoints
 * are the union of its slices. It also keeps, per Service, the earliest
 * `endpoints.kubernetes.io/last-change-trigger-time` seen since the last sync, from which the
 * proxy reports network programming latency.
 */
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Endpoint, Protocol } from './types.js';
import { portKey } from './types.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const TRIGGER_TIME_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';

/** portKey → endpoints, for one Service. */
export type ServiceEndpoints = Map<string, Endpoint[]>;

/** The Service key (`ns/name`) a slice belongs to, or undefined when it names none. */
export function sliceServiceKey(slice: EndpointSlice): string | undefined {
  const svc = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
  return svc ? `${slice.metadata?.namespace ?? ''}/${svc}` : undefined;
}

/**
 * Merges the slices of one Service into endpoints per port. Only IPv4 slices count; an endpoint
 * whose `ready` is unset counts as ready (API semantics); `serving` defaults to `ready`; an endpoint
 * whose `nodeName` is `nodeName` is `local`; zone hints are kept. The same
 * address:port listed twice (slices overlapping during a controller update) is kept once.
 */
export function endpointsOfSlices(slices: Iterable<EndpointSlice>, nodeName?: string): ServiceEndpoints {
  const out: ServiceEndpoints = new Map();
  const seen = new Set<string>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4') continue;
    for (const p of slice.ports ?? []) {
      if (p.port === undefined || p.port === null) continue;
      const pk = portKey(p.name ?? '', (p.protocol ?? 'TCP') as Protocol);
      let list = out.get(pk);
      if (!list) out.set(pk, list = []);
      for (const e of slice.endpoints ?? []) {
        const ip = e.addresses?.[0];
        if (!ip) continue;
        const id = `${pk}|${ip}:${p.port}`;
        if (seen.has(id)) continue;
        seen.add(id);
        const ready = e.conditions?.ready ?? true;
        const hints = e.hints?.forZones?.map((z) => z.name).filter((z) => !!z);
        list.push({
          ip, port: p.port, ready,
          serving: e.conditions?.serving ?? ready,
          terminating: e.conditions?.terminating ?? false,
          ...(nodeName !== undefined && e.nodeName === nodeName ? { local: true } : {}),
          ...(hints?.length ? { zoneHints: hints } : {}),
        });
      }
    }
  }
  for (const list of out.values()) list.sort((a, b) => cmpIp(a.ip, b.ip) || a.port - b.port);
  return out;
}

function ipNum(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

function cmpIp(a: string, b: string): number {
  return ipNum(a) - ipNum(b);
}

export interface EndpointsApplyResult {
  changed: Set<string>;
  /** service key → earliest trigger time (ms since epoch) recorded since the last apply. */
  triggerTimes: Map<string, number>;
}

export class EndpointsChangeTracker {
  /** `nodeName`: endpoints on this node are marked `local` (for the Local traffic policies). */
  constructor(private readonly nodeName?: string) {}

  /** Applied slices: service key → slice name → slice. */
  private readonly slices = new Map<string, Map<string, EndpointSlice>>();
  /** Pending: service key → slice name → slice (null = deleted). */
  private readonly pending = new Map<string, Map<string, EndpointSlice | null>>();
  private readonly triggers = new Map<string, number>();

  /** Records one informer event (previous undefined = add, current undefined = delete). */
  update(previous: EndpointSlice | undefined, current: EndpointSlice | undefined): void {
    // A slice whose label changed moves between Services: record it gone from the old one.
    const oldKey = previous ? sliceServiceKey(previous) : undefined;
    const newKey = current ? sliceServiceKey(current) : undefined;
    if (previous && oldKey && oldKey !== newKey) this.record(oldKey, previous.metadata?.name ?? '', null);
    if (current && newKey) {
      this.record(newKey, current.metadata?.name ?? '', current);
      const t = Date.parse(current.metadata?.annotations?.[TRIGGER_TIME_ANNOTATION] ?? '');
      if (!Number.isNaN(t)) {
        const prev = this.triggers.get(newKey);
        if (prev === undefined || t < prev) this.triggers.set(newKey, t);
      }
    }
  }

  private record(svcKey: string, sliceName: string, slice: EndpointSlice | null): void {
    let m = this.pending.get(svcKey);
    if (!m) this.pending.set(svcKey, m = new Map());
    m.set(sliceName, slice);
  }

  /** True when changes wait to be applied. */
  /** Services with unsynced changes (kube-proxy's `..._changes_pending` gauge). */
  get pendingCount(): number {
    return this.pending.size;
  }

  get hasPending(): boolean {
    return this.pending.size > 0;
  }

  /** Folds pending changes into `map` (service key → endpoints) and returns what changed. */
  apply(map: Map<string, ServiceEndpoints>): EndpointsApplyResult {
    const changed = new Set<string>();
    for (const [svcKey, updates] of this.pending) {
      let current = this.slices.get(svcKey);
      if (!current) this.slices.set(svcKey, current = new Map());
      for (const [name, slice] of updates) {
        if (slice) current.set(name, slice);
        else current.delete(name);
      }
      const before = map.get(svcKey);
      const after = endpointsOfSlices(current.values(), this.nodeName);
      if (current.size === 0) {
        this.slices.delete(svcKey);
        map.delete(svcKey);
      } else {
        map.set(svcKey, after);
      }
      if (!sameEndpoints(before, after)) changed.add(svcKey);
    }
    this.pending.clear();
    const triggerTimes = new Map(this.triggers);
    this.triggers.clear();
    return { changed, triggerTimes };
  }
}

function sameEndpoints(a: ServiceEndpoints | undefined, b: ServiceEndpoints): boolean {
  if (!a) return b.size === 0 || [...b.values()].every((l) => l.length === 0);
  return JSON.stringify([...a]) === JSON.stringify([...b]);
}

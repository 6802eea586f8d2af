/**
 * The page's copy of the topology (from `/ui/api/topology`): records by key plus the indexes the
 * views need to stay fast with 1k Services and 10k Pods — Pods by namespace and by label, slices by
 * Service — and the list rows of the topology pane. Pure (no DOM), so it is unit-tested in Node.
 *
 * Which Pods sit next to a Service: the Pods its slices' endpoints point at, and the Pods its
 * selector matches (a Pod can be matched yet not be an endpoint — not ready, or no IP yet).
 * Selector matches are worked out through the label index (an intersection of the smallest sets),
 * only for the rows on screen.
 */
import type {
  EndpointRec, NamespaceRec, NodeRec, PodRec, ServiceRec, SliceRec, TopologyKind, TopologyRecord, TopologySnapshot, TopologyUpdate,
} from '../model.js';
import { recordKey } from '../model.js';

export type Row =
  | { type: 'ns'; ns: string; services: number; pods: number }
  | { type: 'svc'; key: string }
  | { type: 'loose'; ns: string };

/** One Pod beside a Service, with how it is tied to it. */
export interface PodBeside {
  key: string;
  name: string;
  pod?: PodRec;
  /** The Service's selector matches its labels. */
  selected: boolean;
  /** Its endpoint in the Service's slices (absent: not an endpoint). */
  endpoint?: EndpointRec;
}

/** One endpoint of a Service, with its slice and Pod. */
export interface EndpointBeside {
  ep: EndpointRec;
  slice: string;
  pod?: PodRec;
}

const labelKey = (ns: string, k: string, v: string): string => `${ns}\u0000${k}=${v}`;
const add = <K, V>(m: Map<K, Set<V>>, k: K, v: V): void => { let s = m.get(k); if (!s) m.set(k, s = new Set()); s.add(v); };
const del = <K, V>(m: Map<K, Set<V>>, k: K, v: V): void => { const s = m.get(k); if (s) { s.delete(v); if (s.size === 0) m.delete(k); } };

export class TopologyStore {
  readonly nodes = new Map<string, NodeRec>();
  readonly namespaces = new Map<string, NamespaceRec>();
  readonly services = new Map<string, ServiceRec>();
  readonly slices = new Map<string, SliceRec>();
  readonly pods = new Map<string, PodRec>();
  private readonly podsByNs = new Map<string, Set<string>>();
  private readonly podsByLabel = new Map<string, Set<string>>();
  private readonly servicesByNs = new Map<string, Set<string>>();
  private readonly slicesByService = new Map<string, Set<string>>();
  /** Bumps on every applied change. */
  version = 0;
  /** Bumps when the rows can change (a Service or namespace came or went). */
  structure = 0;
  private rowCache?: { structure: number; filter: string; rows: Row[] };

  private map(kind: TopologyKind): Map<string, TopologyRecord> {
    switch (kind) {
      case 'nodes': return this.nodes;
      case 'namespaces': return this.namespaces;
      case 'services': return this.services;
      case 'endpointslices': return this.slices;
      case 'pods': return this.pods;
    }
  }

  /** Applies one line of the topology stream. */
  apply(u: TopologyUpdate): void {
    if (u.type === 'snapshot') { this.load(u.snapshot); return; }
    if (u.type === 'begin') { this.load({ nodes: [], namespaces: [], services: [], endpointslices: [], pods: [] }); return; }
    if (u.type === 'records') { for (const r of u.recs) this.put(u.kind, r); return; }
    if (u.type === 'ready') { this.version++; this.structure++; return; }
    for (const { kind, key } of u.deletes) this.remove(kind, key);
    for (const { kind, rec } of u.upserts) this.put(kind, rec);
    this.version++;
  }

  private load(s: TopologySnapshot): void {
    for (const m of [this.nodes, this.namespaces, this.services, this.slices, this.pods, this.podsByNs, this.podsByLabel, this.servicesByNs, this.slicesByService]) m.clear();
    for (const r of s.nodes) this.put('nodes', r);
    for (const r of s.namespaces) this.put('namespaces', r);
    for (const r of s.services) this.put('services', r);
    for (const r of s.endpointslices) this.put('endpointslices', r);
    for (const r of s.pods) this.put('pods', r);
    this.version++;
    this.structure++;
  }

  private put(kind: TopologyKind, rec: TopologyRecord): void {
    const key = recordKey(kind, rec);
    const map = this.map(kind);
    const old = map.get(key);
    if (old) this.unindex(kind, key, old);
    map.set(key, rec);
    this.index(kind, key, rec);
    // Rows change when a Service or namespace comes, or a namespace's first Pod.
    if (!old && (kind === 'services' || kind === 'namespaces' || (kind === 'pods' && this.podsByNs.get((rec as PodRec).namespace)?.size === 1))) this.structure++;
  }

  private remove(kind: TopologyKind, key: string): void {
    const map = this.map(kind);
    const old = map.get(key);
    if (!old) return;
    map.delete(key);
    this.unindex(kind, key, old);
    if (kind === 'services' || kind === 'namespaces' || (kind === 'pods' && !this.podsByNs.has((old as PodRec).namespace))) this.structure++;
  }

  private index(kind: TopologyKind, key: string, rec: TopologyRecord): void {
    if (kind === 'pods') {
      const p = rec as PodRec;
      add(this.podsByNs, p.namespace, key);
      for (const [k, v] of Object.entries(p.labels)) add(this.podsByLabel, labelKey(p.namespace, k, v), key);
    } else if (kind === 'services') {
      add(this.servicesByNs, (rec as ServiceRec).namespace, key);
    } else if (kind === 'endpointslices') {
      const s = rec as SliceRec;
      if (s.service) add(this.slicesByService, `${s.namespace}/${s.service}`, key);
    }
  }

  private unindex(kind: TopologyKind, key: string, rec: TopologyRecord): void {
    if (kind === 'pods') {
      const p = rec as PodRec;
      del(this.podsByNs, p.namespace, key);
      for (const [k, v] of Object.entries(p.labels)) del(this.podsByLabel, labelKey(p.namespace, k, v), key);
    } else if (kind === 'services') {
      del(this.servicesByNs, (rec as ServiceRec).namespace, key);
    } else if (kind === 'endpointslices') {
      const s = rec as SliceRec;
      if (s.service) del(this.slicesByService, `${s.namespace}/${s.service}`, key);
    }
  }

  /** Keys of the Pods in `ns` whose labels match `selector` (every pair; an empty selector matches nothing, as for Services). */
  selectorMatches(ns: string, selector: Record<string, string> | undefined): string[] {
    const pairs = Object.entries(selector ?? {});
    if (pairs.length === 0) return [];
    const sets = pairs.map(([k, v]) => this.podsByLabel.get(labelKey(ns, k, v)));
    if (sets.some((s) => !s)) return [];
    const sorted = (sets as Set<string>[]).sort((a, b) => a.size - b.size);
    return [...sorted[0]!].filter((k) => sorted.every((s) => s.has(k)));
  }

  /** The slices of a Service, by name. */
  slicesOf(svcKey: string): SliceRec[] {
    return [...(this.slicesByService.get(svcKey) ?? [])].map((k) => this.slices.get(k)!).filter(Boolean).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Every endpoint of a Service (over its slices), ready ones first, then by IP. */
  endpointsOf(svcKey: string): EndpointBeside[] {
    const ns = svcKey.slice(0, svcKey.indexOf('/'));
    const out: EndpointBeside[] = [];
    for (const s of this.slicesOf(svcKey)) {
      for (const ep of s.endpoints) {
        const pod = ep.pod ? this.pods.get(`${ns}/${ep.pod}`) : undefined;
        out.push({ ep, slice: s.name, ...(pod ? { pod } : {}) });
      }
    }
    return out.sort((a, b) => Number(b.ep.ready) - Number(a.ep.ready) || a.ep.ip.localeCompare(b.ep.ip, undefined, { numeric: true }));
  }

  /** The Pods beside a Service: its endpoints' Pods and the Pods its selector matches. */
  podsBeside(svcKey: string): PodBeside[] {
    const svc = this.services.get(svcKey);
    if (!svc) return [];
    const byKey = new Map<string, PodBeside>();
    for (const k of this.selectorMatches(svc.namespace, svc.selector)) {
      const pod = this.pods.get(k)!;
      byKey.set(k, { key: k, name: pod.name, pod, selected: true });
    }
    for (const { ep, pod } of this.endpointsOf(svcKey)) {
      const k = `${svc.namespace}/${ep.pod ?? ep.ip}`;
      const b = byKey.get(k);
      if (b) b.endpoint ??= ep;
      else byKey.set(k, { key: k, name: ep.pod ?? ep.ip, ...(pod ? { pod } : {}), selected: false, endpoint: ep });
    }
    return [...byKey.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Pods of a namespace that no Service of it selects or points at. */
  loosePods(ns: string): PodRec[] {
    const tied = new Set<string>();
    for (const sk of this.servicesByNs.get(ns) ?? []) for (const b of this.podsBeside(sk)) tied.add(b.key);
    return [...(this.podsByNs.get(ns) ?? [])].filter((k) => !tied.has(k)).map((k) => this.pods.get(k)!).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Pods in a namespace. */
  podsInNamespace(ns: string): number {
    return this.podsByNs.get(ns)?.size ?? 0;
  }

  /** Pods per node. */
  podsOnNode(node: string): number {
    let n = 0;
    for (const p of this.pods.values()) if (p.node === node) n++;
    return n;
  }

  /**
   * The rows of the topology pane: per namespace (by name) a header, its Services (by name) and,
   * when it has Pods, a row of the Pods no Service reaches. `filter` keeps Services whose
   * namespace/name or ClusterIP contains it. Cached until a Service or namespace comes or goes.
   */
  rows(filter = ''): Row[] {
    const f = filter.trim().toLowerCase();
    if (this.rowCache && this.rowCache.structure === this.structure && this.rowCache.filter === f) return this.rowCache.rows;
    const namespaces = new Set([...this.namespaces.keys(), ...this.servicesByNs.keys(), ...this.podsByNs.keys()]);
    const rows: Row[] = [];
    for (const ns of [...namespaces].sort()) {
      const svcs = [...(this.servicesByNs.get(ns) ?? [])].filter((k) => !f || k.toLowerCase().includes(f) || (this.services.get(k)!.clusterIP ?? '').includes(f)).sort();
      if (f && svcs.length === 0) continue;
      rows.push({ type: 'ns', ns, services: svcs.length, pods: this.podsByNs.get(ns)?.size ?? 0 });
      for (const k of svcs) rows.push({ type: 'svc', key: k });
      // Which Pods no Service reaches is worked out when the row is drawn (it needs every Service's selector).
      if (!f && (this.podsByNs.get(ns)?.size ?? 0) > 0) rows.push({ type: 'loose', ns });
    }
    this.rowCache = { structure: this.structure, filter: f, rows };
    return rows;
  }
}

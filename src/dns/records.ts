/**
 * The DNS record index: Kubernetes Services and EndpointSlices turned into resource records, per the
 * Kubernetes DNS specification (kubernetes/dns docs/specification.md, schema 1.1.0).
 *
 * Records are recomputed per Service whenever the Service or one of its EndpointSlices changes, so the
 * cost of a change is proportional to that Service, and answering is a map lookup (never a scan).
 * The index also knows which names exist without records (empty non-terminals such as
 * `default.svc.cluster.local`, or a headless Service with no ready endpoints) so it can tell NODATA
 * from NXDOMAIN.
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';

/** One resource record. Names are lower-case and have no trailing dot. */
export type Rec =
  | { name: string; type: 'A' | 'AAAA'; data: string }
  | { name: string; type: 'CNAME' | 'PTR'; data: string }
  | { name: string; type: 'TXT'; data: string }
  | { name: string; type: 'SRV'; data: { priority: number; weight: number; port: number; target: string } };

/** Schema version of the Kubernetes DNS specification this server implements. */
export const SCHEMA_VERSION = '1.1.0';

/** `10.0.0.1` → `1.0.0.10.in-addr.arpa`; IPv6 → nibble form under ip6.arpa. */
export function reverseName(ip: string): string {
  if (ip.includes(':')) {
    const full = expandIPv6(ip).replace(/:/g, '');
    return `${[...full].reverse().join('.')}.ip6.arpa`;
  }
  return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
}

function expandIPv6(ip: string): string {
  const [head, tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = ip.includes('::') ? Array(8 - h.length - t.length).fill('0') : [];
  return [...h, ...fill, ...t].map((g) => g.padStart(4, '0')).join(':');
}

/** The label an endpoint gets under a headless Service: its hostname, else its address with dashes. */
function endpointLabel(address: string, hostname: string | undefined): string {
  return (hostname ?? address.replace(/[.:]/g, '-')).toLowerCase();
}

/** Computes every record one Service contributes. Pure. */
export function recordsForService(svc: Service, slices: readonly EndpointSlice[], zone: string): Rec[] {
  const name = svc.metadata?.name;
  const ns = svc.metadata?.namespace;
  if (!name || !ns || !svc.spec) return [];
  const base = `${name}.${ns}.svc.${zone}`.toLowerCase();
  const spec = svc.spec;
  const out: Rec[] = [];
  if (spec.type === 'ExternalName') {
    if (spec.externalName) out.push({ name: base, type: 'CNAME', data: spec.externalName.toLowerCase().replace(/\.$/, '') });
    return out;
  }
  const namedPorts = (spec.ports ?? []).filter((p) => p.name);
  const clusterIPs = (spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [])
    .filter((ip) => ip && ip !== 'None');
  if (clusterIPs.length > 0) {
    for (const ip of clusterIPs) {
      out.push({ name: base, type: ip.includes(':') ? 'AAAA' : 'A', data: ip });
      out.push({ name: reverseName(ip), type: 'PTR', data: base });
    }
    for (const p of namedPorts) {
      out.push({
        name: `_${p.name}._${(p.protocol ?? 'TCP').toLowerCase()}.${base}`.toLowerCase(), type: 'SRV',
        data: { priority: 0, weight: 100, port: p.port, target: base },
      });
    }
    return out;
  }
  // Headless: one record per endpoint that may receive traffic.
  const publishNotReady = spec.publishNotReadyAddresses === true;
  const seen = new Set<string>();
  for (const slice of slices) {
    const family = slice.addressType === 'IPv6' ? 'AAAA' : slice.addressType === 'IPv4' ? 'A' : undefined;
    if (!family) continue; // FQDN slices are not published
    // SRV owner names per slice port, computed once per slice (one string shared by all its endpoints).
    const srvPorts: { name: string; port: number }[] = [];
    for (const sp of slice.ports ?? []) {
      if (!sp.name || sp.port == null || !namedPorts.some((p) => p.name === sp.name)) continue;
      srvPorts.push({ name: `_${sp.name}._${(sp.protocol ?? 'TCP').toLowerCase()}.${base}`.toLowerCase(), port: sp.port });
    }
    for (const ep of slice.endpoints ?? []) {
      // An unset ready condition means ready (EndpointSlice API semantics).
      if (!publishNotReady && ep.conditions?.ready === false) continue;
      for (const address of ep.addresses ?? []) {
        if (seen.has(address)) continue;
        seen.add(address);
        const host = `${endpointLabel(address, ep.hostname)}.${base}`;
        out.push({ name: base, type: family, data: address });
        out.push({ name: host, type: family, data: address });
        out.push({ name: reverseName(address), type: 'PTR', data: host });
        for (const sp of srvPorts) {
          out.push({ name: sp.name, type: 'SRV', data: { priority: 0, weight: 100, port: sp.port, target: host } });
        }
      }
    }
  }
  return out;
}

/** The names a Service makes exist even without records (a headless Service with no endpoints). */
function ownNames(svc: Service, zone: string): string[] {
  const name = svc.metadata?.name;
  const ns = svc.metadata?.namespace;
  return name && ns ? [`${name}.${ns}.svc.${zone}`.toLowerCase()] : [];
}

/** Every record and existing name of a zone, kept up to date one Service at a time. */
export class RecordIndex {
  /** Records by owner name: one Rec alone (most names have one record), or several in an array. */
  private readonly byName = new Map<string, Rec | Rec[]>();
  /**
   * Reference counts of names that exist without being owners in `byName`: the ancestors of every
   * owner name (empty non-terminals) and each Service's own name. Owner names are not counted
   * here; `byName` already says they exist.
   */
  private readonly existing = new Map<string, number>();
  private readonly bySource = new Map<string, { recs: Rec[]; names: string[] }>();
  /** Bumped on every change; answer caches compare it. */
  generation = 0;

  constructor(readonly zone: string) {
    this.setSource('@version', [{ name: `dns-version.${zone}`, type: 'TXT', data: SCHEMA_VERSION }], []);
  }

  /** Replaces the records of one Service (key `namespace/name`). */
  setService(key: string, svc: Service, slices: readonly EndpointSlice[]): void {
    this.setSource(key, recordsForService(svc, slices, this.zone), ownNames(svc, this.zone));
  }

  /** Removes the records of one Service. */
  deleteService(key: string): void {
    this.setSource(key, [], []);
  }

  /** Records of `name` (lower-case, no trailing dot), any type. */
  lookup(name: string): readonly Rec[] | undefined {
    const v = this.byName.get(name);
    return v === undefined || Array.isArray(v) ? v : [v];
  }

  /** True when `name` exists in the zone (it has records, or names below it do). */
  exists(name: string): boolean {
    return this.existing.has(name) || this.byName.has(name);
  }

  private setSource(key: string, recs: Rec[], names: string[]): void {
    const old = this.bySource.get(key);
    if (old) {
      for (const r of old.recs) this.removeRec(r);
      this.countNames(old.recs, old.names, -1);
    }
    if (recs.length === 0 && names.length === 0) this.bySource.delete(key);
    else this.bySource.set(key, { recs, names });
    for (const r of recs) this.addRec(r);
    this.countNames(recs, names, +1);
    this.generation++;
  }

  private addRec(r: Rec): void {
    const v = this.byName.get(r.name);
    if (v === undefined) this.byName.set(r.name, r);
    else if (Array.isArray(v)) v.push(r);
    else this.byName.set(r.name, [v, r]);
  }

  private removeRec(r: Rec): void {
    const v = this.byName.get(r.name);
    if (v === undefined) return;
    if (!Array.isArray(v)) {
      if (v === r) this.byName.delete(r.name);
      return;
    }
    const i = v.indexOf(r);
    if (i >= 0) v.splice(i, 1);
    if (v.length === 1) this.byName.set(r.name, v[0]);
    else if (v.length === 0) this.byName.delete(r.name);
  }

  /**
   * Adds `delta` to the count of every ancestor of each distinct owner name of `recs` (the owner
   * itself is in byName) and of every name in `names` and its ancestors. Distinct names only, so
   * a headless Service with n endpoints walks its base name's ancestors once, not n times.
   */
  private countNames(recs: readonly Rec[], names: readonly string[], delta: 1 | -1): void {
    const owners = new Set<string>();
    for (const r of recs) owners.add(r.name);
    for (const o of owners) { const a = this.ancestors(o); for (let i = 1; i < a.length; i++) this.count(a[i], delta); }
    for (const n of names) for (const a of this.ancestors(n)) this.count(a, delta);
  }

  private count(name: string, delta: 1 | -1): void {
    const c = (this.existing.get(name) ?? 0) + delta;
    if (c <= 0) this.existing.delete(name); else this.existing.set(name, c);
  }

  private ancestors(name: string): string[] {
    const out: string[] = [];
    const suffix = name.endsWith(this.zone) ? this.zone : name.endsWith('.arpa') ? 'arpa' : '';
    let n = name;
    while (n.length > suffix.length) {
      out.push(n);
      const dot = n.indexOf('.');
      if (dot < 0) break;
      n = n.slice(dot + 1);
    }
    return out;
  }
}

/**
 * The DNS record index: Kubernetes Services and EndpointSlices as resource records, per the
 * Kubernetes DNS specification (kubernetes/dns docs/specification.md, schema 1.1.0).
 *
 * Records are not stored one object per record. The index keeps one small entry per Service
 * (its name, cluster IPs or ExternalName, named ports, and for a headless Service its slices'
 * endpoints in the packed form the informer already keeps) and works the records of a name out
 * when asked, by the shape of the name, as CoreDNS does: `<svc>.<ns>.svc.<zone>`,
 * `<endpoint>.<svc>.<ns>.svc.<zone>`, `_<port>._<proto>.<svc>.<ns>.svc.<zone>`, and reverse names
 * through a map from address to the Services that publish it. With 10k Services and 100k endpoints
 * that is ~10 MB of index instead of ~60 MB for half a million record objects and their names.
 * Answering stays a map lookup plus a scan of one Service's endpoints, and the answer cache in
 * front of it (answercache.ts) makes repeated questions a hash lookup.
 *
 * The index also knows which names exist without records (empty non-terminals such as
 * `default.svc.cluster.local` or `_tcp.<svc>.<ns>.svc.<zone>`, a headless Service with no ready
 * endpoints) so it can tell NODATA from NXDOMAIN.
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

/** The address a reverse name stands for (`1.0.0.10.in-addr.arpa` → `10.0.0.1`), else undefined. */
function addressOfReverseName(name: string): string | undefined {
  if (name.endsWith('.in-addr.arpa')) {
    const octets = name.slice(0, -'.in-addr.arpa'.length).split('.');
    if (octets.length !== 4 || octets.some((o) => !/^(0|[1-9]\d{0,2})$/.test(o) || Number(o) > 255)) return undefined;
    return octets.reverse().join('.');
  }
  if (name.endsWith('.ip6.arpa')) {
    const nibbles = name.slice(0, -'.ip6.arpa'.length).split('.');
    if (nibbles.length !== 32 || nibbles.some((n) => !/^[0-9a-f]$/.test(n))) return undefined;
    const hex = nibbles.reverse().join('');
    return compressIPv6(hex.match(/.{4}/g)!.map((g) => g.replace(/^0+(?=.)/, '')));
  }
  return undefined;
}

function expandIPv6(ip: string): string {
  const [head, tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = ip.includes('::') ? Array(8 - h.length - t.length).fill('0') : [];
  return [...h, ...fill, ...t].map((g) => g.padStart(4, '0')).join(':');
}

/** The canonical text form (RFC 5952) of eight groups: the longest run of two or more zero groups as `::`. */
function compressIPv6(groups: string[]): string {
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/**
 * An EndpointSlice reduced to what DNS publishes: its address family, named ports and the
 * endpoints in parallel arrays (one string per address, no object per endpoint). This is also
 * what the feed's informer keeps in place of the slice, so the index holds no second copy.
 */
export interface PackedSlice {
  /** A for IPv4 slices, AAAA for IPv6; undefined for FQDN slices (never published). */
  readonly family: 'A' | 'AAAA' | undefined;
  /** The slice's named ports. */
  readonly ports: readonly { readonly name: string; readonly protocol: string; readonly port: number }[];
  /** Every address of every endpoint, in order. */
  readonly addresses: readonly string[];
  /** Lower-case hostname per address (parallel to `addresses`); undefined when no endpoint has one. */
  readonly hostnames: readonly (string | undefined)[] | undefined;
  /** Readiness per address; undefined when every endpoint is ready (the common case). */
  readonly ready: readonly boolean[] | undefined;
}

/** Packs one EndpointSlice (see PackedSlice). */
export function packSlice(slice: EndpointSlice): PackedSlice {
  const family = slice.addressType === 'IPv6' ? 'AAAA' : slice.addressType === 'IPv4' ? 'A' : undefined;
  const ports: { name: string; protocol: string; port: number }[] = [];
  for (const p of slice.ports ?? []) if (p.name && p.port != null) ports.push({ name: p.name, protocol: p.protocol ?? 'TCP', port: p.port });
  const addresses: string[] = [];
  const hostnames: (string | undefined)[] = [];
  const ready: boolean[] = [];
  let anyHostname = false, allReady = true;
  for (const ep of slice.endpoints ?? []) {
    // An unset ready condition means ready (EndpointSlice API semantics).
    const isReady = ep.conditions?.ready !== false;
    const hostname = ep.hostname?.toLowerCase();
    for (const address of ep.addresses ?? []) {
      addresses.push(address);
      hostnames.push(hostname);
      ready.push(isReady);
      anyHostname ||= hostname !== undefined;
      allReady &&= isReady;
    }
  }
  return { family, ports, addresses, hostnames: anyHostname ? hostnames : undefined, ready: allReady ? undefined : ready };
}

/** The label an endpoint gets under a headless Service: its hostname, else its address with dashes. */
function endpointLabel(address: string, hostname: string | undefined): string {
  return hostname ?? address.replace(/[.:]/g, '-').toLowerCase();
}

/** What the index keeps of one Service. */
class ServiceEntry {
  constructor(
    /** `<svc>.<ns>.svc.<zone>`, lower-case. */
    readonly base: string,
    readonly namespace: string,
    readonly kind: 'clusterIP' | 'headless' | 'externalName',
    /** Cluster IPs (clusterIP), or the CNAME target (externalName, lower-case, no trailing dot). */
    readonly targets: readonly string[],
    /** Named ports of the Service: `_<name>._<protocol>` lower-case, and the port number. */
    readonly ports: readonly { readonly srv: string; readonly name: string; readonly port: number }[],
    readonly publishNotReady: boolean,
    /** Headless: the Service's slices. */
    readonly slices: readonly PackedSlice[],
  ) {}

  /**
   * Calls `fn` once per address this headless Service publishes (first slice wins for an address
   * in several), with its slice and position. Stops when `fn` returns true.
   */
  eachEndpoint(fn: (slice: PackedSlice, i: number) => boolean | void): void {
    if (this.kind !== 'headless') return;
    const seen = this.slices.length > 1 ? new Set<string>() : undefined;
    for (const s of this.slices) {
      if (!s.family) continue;
      for (let i = 0; i < s.addresses.length; i++) {
        if (!this.publishNotReady && s.ready && !s.ready[i]) continue;
        if (seen) {
          if (seen.has(s.addresses[i])) continue;
          seen.add(s.addresses[i]);
        }
        if (fn(s, i) === true) return;
      }
    }
  }

  /** The SRV owner names (`_<port>._<proto>.<base>`) the slice publishes, with its port numbers. */
  srvPortsOf(slice: PackedSlice): { owner: string; port: number }[] {
    const out: { owner: string; port: number }[] = [];
    for (const sp of slice.ports) {
      const named = this.ports.find((p) => p.name === sp.name);
      if (named) out.push({ owner: `_${sp.name}._${sp.protocol}.${this.base}`.toLowerCase(), port: sp.port });
    }
    return out;
  }

  hostOf(slice: PackedSlice, i: number): string {
    return `${endpointLabel(slice.addresses[i], slice.hostnames?.[i])}.${this.base}`;
  }

  /** Every record of this Service, in a stable order (the reference for tests and the benchmark's unbound zone). */
  records(): Rec[] {
    const out: Rec[] = [];
    const base = this.base;
    if (this.kind === 'externalName') {
      for (const t of this.targets) out.push({ name: base, type: 'CNAME', data: t });
      return out;
    }
    if (this.kind === 'clusterIP') {
      for (const ip of this.targets) {
        out.push({ name: base, type: ip.includes(':') ? 'AAAA' : 'A', data: ip });
        out.push({ name: reverseName(ip), type: 'PTR', data: base });
      }
      for (const p of this.ports) out.push({ name: `${p.srv}.${base}`, type: 'SRV', data: srvData(p.port, base) });
      return out;
    }
    this.eachEndpoint((s, i) => {
      const address = s.addresses[i];
      const host = this.hostOf(s, i);
      out.push({ name: base, type: s.family!, data: address });
      out.push({ name: host, type: s.family!, data: address });
      out.push({ name: reverseName(address), type: 'PTR', data: host });
      for (const sp of this.srvPortsOf(s)) out.push({ name: sp.owner, type: 'SRV', data: srvData(sp.port, host) });
    });
    return out;
  }
}

const srvData = (port: number, target: string) => ({ priority: 0, weight: 100, port, target });

/** Builds the entry of one Service; undefined when it publishes no name (no name, namespace or spec). */
function entryFor(svc: Service, slices: readonly PackedSlice[], zone: string): ServiceEntry | undefined {
  const name = svc.metadata?.name;
  const ns = svc.metadata?.namespace;
  const spec = svc.spec;
  if (!name || !ns || !spec) return undefined;
  const base = `${name}.${ns}.svc.${zone}`.toLowerCase();
  const ports = (spec.ports ?? []).filter((p) => p.name)
    .map((p) => ({ srv: `_${p.name}._${p.protocol ?? 'TCP'}`.toLowerCase(), name: p.name!, port: p.port }));
  if (spec.type === 'ExternalName') {
    const target = spec.externalName?.toLowerCase().replace(/\.$/, '');
    return new ServiceEntry(base, ns.toLowerCase(), 'externalName', target ? [target] : [], [], false, []);
  }
  const clusterIPs = (spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [])
    .filter((ip) => ip && ip !== 'None');
  if (clusterIPs.length > 0) return new ServiceEntry(base, ns.toLowerCase(), 'clusterIP', clusterIPs, ports, false, []);
  return new ServiceEntry(base, ns.toLowerCase(), 'headless', [], ports, spec.publishNotReadyAddresses === true, slices);
}

/** Computes every record one Service contributes. Pure. */
export function recordsForService(svc: Service, slices: readonly EndpointSlice[], zone: string): Rec[] {
  return entryFor(svc, slices.map(packSlice), zone)?.records() ?? [];
}

/** Every record and existing name of a zone, kept up to date one Service at a time. */
export class RecordIndex {
  /** Service entries by `<svc>.<ns>` (lower-case). */
  private readonly services = new Map<string, ServiceEntry>();
  /** Entry per Service key (`namespace/name` as the API spells it), for replacing and deleting. */
  private readonly byKey = new Map<string, ServiceEntry>();
  /** Services per namespace (lower-case): `<ns>.svc.<zone>` exists while any are there. */
  private readonly perNamespace = new Map<string, number>();
  /** Address → the Service entries that publish a PTR for it. */
  private readonly byAddress = new Map<string, ServiceEntry | ServiceEntry[]>();
  private readonly svcSuffix: string;
  /** Bumped on every change; answer caches compare it. */
  generation = 0;

  constructor(readonly zone: string) {
    this.svcSuffix = `.svc.${zone}`;
  }

  /** Replaces the records of one Service (key `namespace/name`), given its slices packed. */
  setService(key: string, svc: Service, slices: readonly PackedSlice[]): void {
    this.remove(key);
    const entry = entryFor(svc, slices, this.zone);
    if (entry) this.add(key, entry);
    this.generation++;
  }

  /** Removes the records of one Service. */
  deleteService(key: string): void {
    this.remove(key);
    this.generation++;
  }

  /** Records of `name` (lower-case, no trailing dot), any type; undefined when it has none. */
  lookup(name: string): readonly Rec[] | undefined {
    const out: Rec[] = [];
    if (name.endsWith('.arpa')) {
      const address = addressOfReverseName(name);
      const owners = address === undefined ? undefined : this.byAddress.get(address);
      for (const e of owners === undefined ? [] : Array.isArray(owners) ? owners : [owners]) {
        if (e.kind === 'clusterIP') out.push({ name, type: 'PTR', data: e.base });
        else e.eachEndpoint((s, i) => { if (s.addresses[i] === address) { out.push({ name, type: 'PTR', data: e.hostOf(s, i) }); return true; } });
      }
    } else if (name === `dns-version.${this.zone}`) {
      out.push({ name, type: 'TXT', data: SCHEMA_VERSION });
    } else if (name.endsWith(this.svcSuffix)) {
      const labels = name.slice(0, -this.svcSuffix.length).split('.');
      if (labels.length === 2) this.serviceRecords(name, this.services.get(name.slice(0, -this.svcSuffix.length)), out);
      else if (labels.length === 3) this.endpointRecords(name, labels[0], this.services.get(`${labels[1]}.${labels[2]}`), out);
      else if (labels.length === 4) this.srvRecords(name, `${labels[0]}.${labels[1]}`, this.services.get(`${labels[2]}.${labels[3]}`), out);
    }
    return out.length > 0 ? out : undefined;
  }

  /** True when `name` exists in the zone (it has records, or names below it do). */
  exists(name: string): boolean {
    if (name === this.zone || name === `dns-version.${this.zone}`) return true;
    if (name === this.svcSuffix.slice(1)) return this.services.size > 0;
    if (!name.endsWith(this.svcSuffix)) return name.endsWith('.arpa') && this.lookup(name) !== undefined;
    const labels = name.slice(0, -this.svcSuffix.length).split('.');
    if (labels.length === 1) return this.perNamespace.has(labels[0]);
    if (labels.length === 2) return this.services.has(`${labels[0]}.${labels[1]}`);
    const entry = this.services.get(`${labels[labels.length - 2]}.${labels[labels.length - 1]}`);
    if (!entry) return false;
    // `_<proto>.<svc>...` is an empty non-terminal when some SRV name sits below it.
    if (labels.length === 3 && labels[0].startsWith('_')) return this.srvOwners(entry).some((o) => o.endsWith(`${labels[0]}.${entry.base}`));
    return this.lookup(name) !== undefined;
  }

  private serviceRecords(name: string, e: ServiceEntry | undefined, out: Rec[]): void {
    if (!e) return;
    if (e.kind === 'externalName') { for (const t of e.targets) out.push({ name, type: 'CNAME', data: t }); return; }
    if (e.kind === 'clusterIP') { for (const ip of e.targets) out.push({ name, type: ip.includes(':') ? 'AAAA' : 'A', data: ip }); return; }
    e.eachEndpoint((s, i) => { out.push({ name, type: s.family!, data: s.addresses[i] }); });
  }

  /** `<label>.<svc>.<ns>.svc.<zone>`: the endpoints whose hostname, or dashed address, is `label`. */
  private endpointRecords(name: string, label: string, e: ServiceEntry | undefined, out: Rec[]): void {
    if (!e || e.kind !== 'headless') return;
    // Compare against the label without building every endpoint's label: an address-derived label
    // turns back into the address by its dashes (dots for IPv4, colons for IPv6).
    const asV4 = label.replaceAll('-', '.');
    const asV6 = label.replaceAll('-', ':');
    e.eachEndpoint((s, i) => {
      const host = s.hostnames?.[i];
      const a = s.addresses[i];
      if (host !== undefined ? host === label : a === asV4 || a.toLowerCase() === asV6) out.push({ name, type: s.family!, data: a });
    });
  }

  /** `_<port>._<proto>.<svc>.<ns>.svc.<zone>`. */
  private srvRecords(name: string, srv: string, e: ServiceEntry | undefined, out: Rec[]): void {
    if (!e || e.kind === 'externalName') return;
    if (e.kind === 'clusterIP') {
      for (const p of e.ports) if (p.srv === srv) out.push({ name, type: 'SRV', data: srvData(p.port, e.base) });
      return;
    }
    let ports: { owner: string; port: number }[] = [];
    let portsOf: PackedSlice | undefined;
    e.eachEndpoint((s, i) => {
      if (s !== portsOf) { portsOf = s; ports = e.srvPortsOf(s).filter((p) => p.owner === name); }
      for (const p of ports) out.push({ name, type: 'SRV', data: srvData(p.port, e.hostOf(s, i)) });
    });
  }

  /** The SRV owner names a Service has records under. */
  private srvOwners(e: ServiceEntry): string[] {
    if (e.kind === 'clusterIP') return e.ports.map((p) => `${p.srv}.${e.base}`);
    const owners = new Set<string>();
    const done = new Set<PackedSlice>();
    e.eachEndpoint((s) => {
      if (done.has(s)) return;
      done.add(s);
      for (const p of e.srvPortsOf(s)) owners.add(p.owner);
    });
    return [...owners];
  }

  private add(key: string, e: ServiceEntry): void {
    const dnsKey = e.base.slice(0, -this.svcSuffix.length);
    // Two API keys cannot share a DNS name (names and namespaces are lower-case DNS labels), so the
    // last writer owns it; removal below only drops what this key put in.
    this.services.set(dnsKey, e);
    this.byKey.set(key, e);
    this.perNamespace.set(e.namespace, (this.perNamespace.get(e.namespace) ?? 0) + 1);
    for (const address of this.addressesOf(e)) {
      const v = this.byAddress.get(address);
      if (v === undefined) this.byAddress.set(address, e);
      else if (Array.isArray(v)) v.push(e);
      else this.byAddress.set(address, [v, e]);
    }
  }

  private remove(key: string): void {
    const e = this.byKey.get(key);
    if (!e) return;
    this.byKey.delete(key);
    const dnsKey = e.base.slice(0, -this.svcSuffix.length);
    if (this.services.get(dnsKey) === e) this.services.delete(dnsKey);
    const n = (this.perNamespace.get(e.namespace) ?? 1) - 1;
    if (n <= 0) this.perNamespace.delete(e.namespace); else this.perNamespace.set(e.namespace, n);
    for (const address of this.addressesOf(e)) {
      const v = this.byAddress.get(address);
      if (v === e) this.byAddress.delete(address);
      else if (Array.isArray(v)) {
        const i = v.indexOf(e);
        if (i >= 0) v.splice(i, 1);
        if (v.length === 1) this.byAddress.set(address, v[0]);
      }
    }
  }

  /** The addresses `e` publishes PTR records for. */
  private addressesOf(e: ServiceEntry): string[] {
    if (e.kind === 'clusterIP') return [...e.targets];
    const out: string[] = [];
    e.eachEndpoint((s, i) => { out.push(s.addresses[i]); });
    return out;
  }
}

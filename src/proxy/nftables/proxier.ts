/**
 * The nftables backend, shaped after kube-proxy's nftables proxier but leaner. Everything lives in
 * one table, `table ip clusterip`, inside the node namespace:
 *
 * - `service-ips` verdict map keyed on `daddr . l4proto . dport` sends a new connection to its
 *   Service port's chain, so the first-packet cost does not grow with the number of Services;
 * - the endpoints of every Service port live in one map per protocol, `service-endpoints-<proto>`
 *   (`clusterIP . proto . port . i : podIP . targetPort`); a Service port with N usable endpoints
 *   jumps to the shared chain `endpoints-mod-N`, whose one rule DNATs through that map keyed with
 *   `numgen random mod N`. An endpoint change is thus a few map-element updates. Only Services
 *   with ClientIP affinity get kube-proxy's per-Service `service-…` chain, per-endpoint
 *   `endpoint-…` chains and dynamic timeout sets `affinity-…`;
 * - traffic to a ClusterIP from outside the Pod CIDR is marked and masqueraded; hairpin traffic (a
 *   Pod sent to itself) is masqueraded through the `hairpin-endpoints` set (`ep . ep` pairs);
 * - `no-endpoint-services` rejects connections to Service ports without usable endpoints;
 *   `cluster-ips` rejects other ports of a ClusterIP, and the rest of the Service CIDR is dropped.
 *   Both run in prerouting just after DNAT (and in output for the node's own traffic), so the
 *   rejection does not depend on the node namespace's routes.
 *
 * Why leaner than kube-proxy: `nft` reads the whole table back before each transaction, so a sync's
 * cost grows with the number of chains, rules and sets in the table, and the kernel looks sets up by
 * walking a list (anonymous per-rule maps made a 10k-Service full sync take 12 s). Map elements
 * instead of per-Service chains keep both full and incremental syncs cheap at 10k Services.
 *
 * Syncs are diffs: the proxier keeps a model of what it wrote per Service (chains, map elements,
 * sets) and a sync emits only the chains and elements that changed. A full sync (first one, after
 * an error) re-declares everything and removes leftovers found in the kernel; it never deletes the
 * table, so affinity sets and existing connections survive a proxy restart.
 */
import type { Endpoint, KernelInventory, ProxyBackend, ServicePort, ServiceState, SyncPlan } from '../types.js';
import { portKey, servicePortName, usableEndpoints } from '../types.js';
import { nftAffinitySet, nftEndpointChain, nftServiceChain } from '../names.js';
import type { NetnsExec, NetnsSpawn } from '../exec.js';
import { ProxyError } from '../errors.js';
import { NftSession } from './session.js';
import type { SessionSupervision } from '../session.js';
import { PendingCounts, PendingMap } from '../pending.js';

/** The table the proxy owns in the node namespace. */
export const NFT_TABLE = 'clusterip';
const MASQ_MARK = '0x4000';
/** Elements per `add element` / `delete element` command. */
const ELEMENTS_PER_COMMAND = 1000;
/**
 * Transactions up to this size go through the long-lived `nft -i` session; larger ones (full
 * syncs, big bursts) through `nft -f -`, which reads a big input several times faster than nft's
 * interactive line reader.
 */
const SESSION_MAX_BYTES = 256 * 1024;

export interface NftablesOptions {
  serviceCIDR: string;
  podCIDR: string;
  /** Runs nft in the node namespace. Not needed for rendering only. */
  exec?: NetnsExec;
  /**
   * Starts the long-lived `nft -i` session in the node namespace. Without it every transaction is
   * a separate `nft -f -` through `exec` (unit tests record those).
   */
  spawn?: NetnsSpawn;
  /** Restart the session when it dies on its own (see ../session.ts). */
  supervise?: SessionSupervision;
}

/** One map/set element. `value` is a verdict for maps, undefined for sets. */
interface Element { map: string; key: string; value?: string; comment?: string }

/** What one Service contributes to the table. */
export interface NftFragment {
  chains: Map<string, string[]>;
  elements: Element[];
  /** affinity set name → timeout seconds */
  sets: Map<string, number>;
  /** Endpoint IPs in use (for the shared hairpin set, reference-counted across Services). */
  hairpin: Set<string>;
  /** `proto/N` in use (for the shared `<proto>-endpoints-mod-N` chains, reference-counted). */
  mods: Set<string>;
}

/**
 * The shared chain that picks one of `n` endpoints of a `proto` Service port through the
 * `service-endpoints-<proto>` map (`<proto>-endpoints-mod-<n>`, e.g. `tcp-endpoints-mod-3`). Per protocol
 * because port translation needs a transport-protocol match before it.
 */
export function modChain(mod: string): string {
  return `${mod.split('/')[0]}-endpoints-mod-${mod.split('/')[1]}`;
}

function modRule(mod: string): string {
  const [proto, n] = mod.split('/');
  return `meta l4proto ${proto} dnat ip to ip daddr . meta l4proto . th dport . numgen random mod ${n} map @${endpointsMap(proto!)}`;
}

/** The protocols a Service port may have (Kubernetes: TCP, UDP, SCTP). */
const PROTOCOLS = ['tcp', 'udp', 'sctp'] as const;

/**
 * The map holding the endpoints of every `proto` Service port (`service-endpoints-tcp`, ...). One
 * per protocol because a map's data is typed `ip daddr . <proto> dport`: nft refuses a rule that
 * DNATs UDP through a map whose data says TCP ("conflicting protocols"), and nft 1.0.6 cannot read
 * an untyped `th dport` back from the kernel.
 */
export function endpointsMap(proto: string): string {
  return `service-endpoints-${proto}`;
}

function modOrder(a: string, b: string): number {
  const [pa, na] = a.split('/');
  const [pb, nb] = b.split('/');
  return pa! < pb! ? -1 : pa! > pb! ? 1 : Number(na) - Number(nb);
}

const BASE_CHAINS: [string, string | undefined][] = [
  ['nat-prerouting', 'type nat hook prerouting priority -100 ;'],
  ['nat-output', 'type nat hook output priority -100 ;'],
  ['nat-postrouting', 'type nat hook postrouting priority 100 ;'],
  ['filter-prerouting-post-dnat', 'type filter hook prerouting priority -90 ;'],
  ['filter-output', 'type filter hook output priority -110 ;'],
  ['filter-output-post-dnat', 'type filter hook output priority -90 ;'],
  ['services', undefined],
  ['service-endpoints-check', undefined],
  ['cluster-ips-check', undefined],
  ['mark-for-masquerade', undefined],
  ['masquerading', undefined],
  ['reject-chain', undefined],
];
const BASE_CHAIN_NAMES = new Set(BASE_CHAINS.map(([n]) => n));
const BASE_SETS = new Set(['service-ips', ...PROTOCOLS.map(endpointsMap), 'no-endpoint-services', 'cluster-ips', 'hairpin-endpoints']);

/** The base maps and sets whose elements carry counters (declared with `counter`). */
const COUNTED_SETS = new Set(['service-ips', 'no-endpoint-services', ...PROTOCOLS.map(endpointsMap), 'hairpin-endpoints']);

/**
 * Reads `nft -t list table` text: the chains and sets that exist, and whether a base map lacks the
 * `counter` its declaration now has (a table written by an older proxy: it must be recreated).
 */
export function parseInventory(text: string): KernelInventory {
  const inv: KernelInventory = { chains: new Set(), sets: new Set() };
  let open: { name: string; counted: boolean } | undefined;
  for (const line of text.split('\n')) {
    const m = /^\s*(chain|set|map) (\S+) \{/.exec(line);
    if (m) {
      (m[1] === 'chain' ? inv.chains : inv.sets).add(m[2]!);
      open = m[1] === 'chain' ? undefined : { name: m[2]!, counted: false };
      continue;
    }
    if (!open) continue;
    if (/^\s*counter\s*$/.test(line)) open.counted = true;
    else if (/^\s*\}\s*$/.test(line)) {
      if (COUNTED_SETS.has(open.name) && !open.counted) inv.recreate = true;
      open = undefined;
    }
  }
  return inv;
}

function elementText(e: Element): string {
  const comment = e.comment !== undefined ? ` comment "${e.comment}"` : '';
  return e.value !== undefined ? `${e.key}${comment} : ${e.value}` : `${e.key}${comment}`;
}

function elementId(e: Element): string {
  return `${e.map}|${e.key}|${e.value ?? ''}`;
}

export class NftablesProxier implements ProxyBackend {
  readonly mode = 'nftables' as const;
  private written = new Map<string, NftFragment>();
  private session?: NftSession;
  /** Endpoint IP → number of written Services using it (the hairpin set holds those > 0). */
  private hairpinRefs = new Map<string, number>();
  /** `proto/N` → number of written Service ports using `<proto>-endpoints-mod-N`. */
  private modRefs = new Map<string, number>();
  private readonly t = `ip ${NFT_TABLE}`;

  constructor(private readonly opts: NftablesOptions) {
    if (opts.spawn) this.session = new NftSession(opts.spawn, { supervise: opts.supervise });
  }

  /** The base chains' rules (fixed for the proxier's CIDRs). */
  baseRules(): Map<string, string[]> {
    // Every ClusterIP lies in the Service CIDR (the API allocates and validates them there), so
    // traffic to any other address — Pod to Pod, replies, the bulk of what crosses the node —
    // leaves each hook after one prefix compare, without set or map lookups; in prerouting, where
    // every packet passes, it is one rule instead of two `ct state` checks.
    const cidr = this.opts.serviceCIDR;
    return new Map<string, string[]>([
      ['nat-prerouting', [`ip daddr ${cidr} jump services`]],
      ['nat-output', [`ip daddr ${cidr} jump services`]],
      ['nat-postrouting', ['jump masquerading']],
      // kube-proxy checks in input/forward; rejecting right after DNAT in prerouting works
      // whatever routes the node namespace has (a node without a default route would otherwise
      // answer "network unreachable" before the forward hook ever saw the packet).
      ['filter-prerouting-post-dnat', [`ip daddr != ${cidr} return`, 'ct state new jump service-endpoints-check', 'ct state new jump cluster-ips-check']],
      ['filter-output', [`ip daddr ${cidr} ct state new jump service-endpoints-check`]],
      ['filter-output-post-dnat', [`ip daddr ${cidr} ct state new jump cluster-ips-check`]],
      ['services', [
        `ip daddr @cluster-ips ip saddr != ${this.opts.podCIDR} jump mark-for-masquerade`,
        'ip daddr . meta l4proto . th dport vmap @service-ips',
      ]],
      ['service-endpoints-check', ['ip daddr . meta l4proto . th dport vmap @no-endpoint-services']],
      ['cluster-ips-check', [
        // TCP gets a reset, not an ICMP error: on a veth path the ICMP arrives while connect() still
        // holds the socket lock, and Linux then keeps it only as a soft error (TcpExtLockDroppedIcmps):
        // the client retries its SYN instead of seeing "connection refused". A RST is queued and seen.
        'ip daddr @cluster-ips meta l4proto tcp reject with tcp reset comment "Reject traffic to invalid ports of ClusterIPs"',
        'ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"',
        `ip daddr ${this.opts.serviceCIDR} drop comment "Drop traffic to unallocated ClusterIPs"`,
      ]],
      ['mark-for-masquerade', [`meta mark set meta mark | ${MASQ_MARK}`]],
      ['masquerading', [
        'ct status dnat ip saddr . ip daddr @hairpin-endpoints masquerade fully-random',
        `meta mark & ${MASQ_MARK} == 0 return`,
        `meta mark set meta mark ^ ${MASQ_MARK}`,
        'masquerade fully-random',
      ]],
      ['reject-chain', ['meta l4proto tcp reject with tcp reset', 'reject']],
    ]);
  }

  /** Renders the chains, map elements and sets of one Service (pure). */
  renderService(state: ServiceState): NftFragment {
    const f: NftFragment = { chains: new Map(), elements: [], sets: new Map(), hairpin: new Set(), mods: new Set() };
    const ips = new Set<string>();
    for (const sp of state.ports) {
      if (!ips.has(sp.clusterIP)) {
        ips.add(sp.clusterIP);
        f.elements.push({ map: 'cluster-ips', key: sp.clusterIP });
      }
      const proto = sp.protocol.toLowerCase();
      const key = `${sp.clusterIP} . ${proto} . ${sp.port}`;
      const eps = usableEndpoints(state.endpoints.get(portKey(sp.portName, sp.protocol)) ?? []);
      if (eps.length === 0) {
        f.elements.push({ map: 'no-endpoint-services', key, value: 'goto reject-chain', comment: servicePortName(sp) });
        continue;
      }
      for (const ep of eps) f.hairpin.add(ep.ip);
      if (sp.affinityTimeoutSeconds === undefined) {
        const mod = `${proto}/${eps.length}`;
        f.mods.add(mod);
        f.elements.push({ map: 'service-ips', key, value: `goto ${modChain(mod)}`, comment: servicePortName(sp) });
        eps.forEach((ep, i) => f.elements.push({ map: endpointsMap(proto), key: `${key} . ${i}`, value: `${ep.ip} . ${ep.port}` }));
        continue;
      }
      const svcChain = nftServiceChain(sp);
      f.elements.push({ map: 'service-ips', key, value: `goto ${svcChain}`, comment: servicePortName(sp) });
      // ClientIP affinity, as kube-proxy: one chain and one dynamic timeout set per endpoint; a
      // source seen recently goes straight to its endpoint, a new one is spread at random.
      const epChains = eps.map((ep) => nftEndpointChain(sp, ep));
      const rules = eps.map((ep, i) => `ip saddr @${nftAffinitySet(sp, ep)} goto ${epChains[i]}`);
      rules.push(`numgen random mod ${eps.length} vmap { ${epChains.map((c, i) => `${i} : goto ${c}`).join(' , ')} }`);
      eps.forEach((ep, i) => f.chains.set(epChains[i]!, this.endpointRules(sp, ep, f)));
      f.chains.set(svcChain, rules);
    }
    return f;
  }

  private endpointRules(sp: ServicePort, ep: Endpoint, f: NftFragment): string[] {
    const set = nftAffinitySet(sp, ep);
    f.sets.set(set, sp.affinityTimeoutSeconds!);
    // The counter counts this endpoint's connections (a nat chain sees a connection's first packet only).
    return [`update @${set} { ip saddr }`, `meta l4proto ${sp.protocol.toLowerCase()} counter dnat to ${ep.ip}:${ep.port}`];
  }

  plan(desired: ReadonlyMap<string, ServiceState>, changed: ReadonlySet<string>, full: boolean, existing?: KernelInventory): SyncPlan {
    const t = this.t;
    // A table to recreate is deleted first: nothing of it exists any more for this transaction.
    if (existing?.recreate) existing = { chains: new Set(), sets: new Set(), recreate: true };
    const out: string[] = [];
    // What this plan changes is kept aside and folded in by commit(): an incremental sync then
    // costs what it touches, not a copy of every Service's fragment and every reference count.
    const next = new PendingMap(full ? new Map<string, NftFragment>() : this.written);
    const keys = full ? [...desired.keys()] : [...changed];
    keys.sort();

    const addSets: string[] = [];
    const epChains: string[] = [];
    const svcChains: string[] = [];
    // map name → element texts; emitted grouped, many elements per command (one netlink message
    // per command, so 100k single-element commands would cost seconds).
    const delElements = new Map<string, string[]>();
    const addElements = new Map<string, string[]>();
    const note = (m: Map<string, string[]>, map: string, text: string): void => {
      let l = m.get(map);
      if (!l) m.set(map, l = []);
      l.push(text);
    };
    const goneChains = new Set<string>();
    const goneSets = new Set<string>();
    const wantChains = new Set<string>();
    const wantSets = new Set<string>();
    const refs = new PendingCounts(full ? new Map<string, number>() : this.hairpinRefs);
    const mods = new PendingCounts(full ? new Map<string, number>() : this.modRefs);
    const touchedIps = new Set<string>();
    const touchedMods = new Set<string>();
    const bump = <K>(m: PendingCounts<K>, touched: Set<K>, k: K, d: number): void => {
      touched.add(k);
      m.add(k, d);
    };

    const emitChain = (name: string, rules: string[], isNew: boolean): void => {
      const lines = name.startsWith('endpoint-') ? epChains : svcChains;
      lines.push(`add chain ${t} ${name}`);
      if (!isNew) lines.push(`flush chain ${t} ${name}`);
      for (const r of rules) lines.push(`add rule ${t} ${name} ${r}`);
    };

    for (const key of keys) {
      const old = full ? undefined : this.written.get(key);
      const state = desired.get(key);
      const frag = state ? this.renderService(state) : undefined;
      if (frag && (frag.chains.size > 0 || frag.elements.length > 0)) next.set(key, frag);
      else next.delete(key);
      for (const ip of old?.hairpin ?? []) bump(refs, touchedIps, ip, -1);
      for (const ip of frag?.hairpin ?? []) bump(refs, touchedIps, ip, +1);
      for (const n of old?.mods ?? []) bump(mods, touchedMods, n, -1);
      for (const n of frag?.mods ?? []) bump(mods, touchedMods, n, +1);

      for (const [name, timeout] of frag?.sets ?? []) {
        wantSets.add(name);
        if (!old?.sets.has(name)) addSets.push(`add set ${t} ${name} { type ipv4_addr ; flags dynamic,timeout ; timeout ${timeout}s ; }`);
      }
      for (const name of old?.sets.keys() ?? []) if (!frag?.sets.has(name)) goneSets.add(name);

      for (const [name, rules] of frag?.chains ?? []) {
        wantChains.add(name);
        const prev = old?.chains.get(name);
        if (prev && prev.join('\n') === rules.join('\n')) continue;
        // On a full sync a chain may exist in the kernel already: flush it before refilling.
        emitChain(name, rules, full ? !existing?.chains.has(name) : !prev);
      }
      for (const name of old?.chains.keys() ?? []) if (!frag?.chains.has(name)) goneChains.add(name);

      const oldEls = new Map((old?.elements ?? []).map((e) => [elementId(e), e]));
      const newEls = new Map((frag?.elements ?? []).map((e) => [elementId(e), e]));
      for (const [id, e] of oldEls) if (!newEls.has(id)) note(delElements, e.map, e.key);
      for (const [id, e] of newEls) if (!oldEls.has(id)) note(addElements, e.map, elementText(e));
    }

    if (full) {
      // A table written before its maps had counters cannot be re-declared ("File exists"): replace
      // it whole, in this same transaction, so the kernel never holds no rules.
      if (existing?.recreate) out.push(`delete table ${t}`);
      out.push(`add table ${t}`);
      // `counter` gives every element its own packet/byte counter. The maps are looked up in nat
      // hooks, which see only the first packet of a connection, so an element's packets are the
      // connections sent that way since the element was written (clusterip explain shows them).
      out.push(`add map ${t} service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; counter ; comment "ClusterIP:port/protocol to Service port chain" ; }`);
      out.push(`add map ${t} no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict ; counter ; comment "vmap to reject packets to services with no endpoints" ; }`);
      out.push(`add set ${t} cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }`);
      for (const proto of PROTOCOLS) {
        out.push(`add map ${t} ${endpointsMap(proto)} { typeof ip daddr . meta l4proto . th dport . numgen random mod 1 : ip daddr . ${proto} dport ; counter ; comment "ClusterIP . proto . port . slot : endpoint" ; }`);
      }
      out.push(`add set ${t} hairpin-endpoints { type ipv4_addr . ipv4_addr ; counter ; comment "endpoint . endpoint: a Pod sent to itself is masqueraded" ; }`);
      // Maps first emptied, then refilled below: one transaction, so the kernel never sees them empty.
      out.push(`flush map ${t} service-ips`, `flush map ${t} no-endpoint-services`, ...PROTOCOLS.map((proto) => `flush map ${t} ${endpointsMap(proto)}`), `flush set ${t} cluster-ips`, `flush set ${t} hairpin-endpoints`);
      const base = this.baseRules();
      // Base chains that other chains jump to must exist before the hooks that use them.
      for (const [name, hook] of [...BASE_CHAINS].reverse()) {
        out.push(hook ? `add chain ${t} ${name} { ${hook} }` : `add chain ${t} ${name}`);
        out.push(`flush chain ${t} ${name}`);
        for (const r of base.get(name)!) out.push(`add rule ${t} ${name} ${r}`);
      }
      for (const name of existing?.chains ?? []) if (!BASE_CHAIN_NAMES.has(name) && !wantChains.has(name)) goneChains.add(name);
      for (const name of existing?.sets ?? []) if (!BASE_SETS.has(name) && !wantSets.has(name)) goneSets.add(name);
    }

    for (const ip of [...touchedIps].sort()) {
      const before = full ? false : this.hairpinRefs.has(ip);
      const after = refs.has(ip);
      if (!before && after) note(addElements, 'hairpin-endpoints', `${ip} . ${ip}`);
      if (before && !after) note(delElements, 'hairpin-endpoints', `${ip} . ${ip}`);
    }
    // Shared endpoints-mod-N chains: created when the first Service needs N, removed with the last.
    const modLines: string[] = [];
    for (const n of [...touchedMods].sort(modOrder)) {
      const before = full ? existing?.chains.has(modChain(n)) ?? false : this.modRefs.has(n);
      const after = mods.has(n);
      if (after && (full || !before)) {
        modLines.push(`add chain ${t} ${modChain(n)}`);
        if (before) modLines.push(`flush chain ${t} ${modChain(n)}`);
        modLines.push(`add rule ${t} ${modChain(n)} ${modRule(n)}`);
      }
      if (!after && before && !full) goneChains.add(modChain(n));
      if (after) wantChains.add(modChain(n));
    }
    // (loops, not spread: a full sync has far more lines than a call's argument limit)
    const grouped = (verb: string, m: Map<string, string[]>): string[] => {
      const lines: string[] = [];
      for (const [map, els] of m) {
        for (let i = 0; i < els.length; i += ELEMENTS_PER_COMMAND) {
          lines.push(`${verb} element ${t} ${map} { ${els.slice(i, i + ELEMENTS_PER_COMMAND).join(' , ')} }`);
        }
      }
      return lines;
    };
    for (const part of [addSets, modLines, epChains, svcChains, grouped('delete', delElements), grouped('add', addElements)]) for (const l of part) out.push(l);
    const gone = [...goneChains].filter((c) => !wantChains.has(c)).sort();
    // Service chains jump to endpoint chains: flush every stale chain before deleting any.
    for (const c of gone) out.push(`flush chain ${t} ${c}`);
    for (const c of gone) out.push(`delete chain ${t} ${c}`);
    for (const s of [...goneSets].filter((x) => !wantSets.has(x)).sort()) out.push(`delete set ${t} ${s}`);

    const text = out.length ? out.join('\n') + '\n' : '';
    return { text, commit: () => { this.written = next.commit(); this.hairpinRefs = refs.commit(); this.modRefs = mods.commit(); } };
  }

  rulesFor(key: string): string {
    const f = this.written.get(key);
    if (!f) return '';
    const t = this.t;
    const lines: string[] = [];
    for (const e of f.elements) lines.push(`add element ${t} ${e.map} { ${elementText(e)} }`);
    for (const ip of f.hairpin) lines.push(`add element ${t} hairpin-endpoints { ${ip} . ${ip} }`);
    for (const n of f.mods) lines.push(`chain ${modChain(n)} {`, `\t${modRule(n)}`, '}');
    for (const [name, timeout] of f.sets) lines.push(`add set ${t} ${name} { type ipv4_addr ; flags dynamic,timeout ; timeout ${timeout}s ; }`);
    for (const [name, rules] of [...f.chains].sort(([a], [b]) => (a.startsWith('service-') ? -1 : 0) - (b.startsWith('service-') ? -1 : 0))) {
      lines.push(`chain ${name} {`, ...rules.map((r) => `\t${r}`), '}');
    }
    return lines.join('\n') + '\n';
  }

  async inventory(): Promise<KernelInventory> {
    const r = await this.exec()(['nft', '-t', 'list', 'table', 'ip', NFT_TABLE]);
    if (r.code !== 0) return { chains: new Set(), sets: new Set() }; // no table yet
    return parseInventory(r.stdout);
  }

  async apply(text: string): Promise<void> {
    if (!text) return;
    if (this.session && text.length <= SESSION_MAX_BYTES) return this.session.run(text);
    const r = await this.exec()(['nft', '-f', '-'], text);
    if (r.code !== 0) throw new ProxyError('KERNEL_COMMAND_FAILED', `nft -f - exited ${r.code}: ${r.stderr.trim().slice(0, 2000)}`);
    // Incremental syncs follow a full one: have the session ready for them.
    this.session?.warm();
  }

  async flushAll(): Promise<void> {
    const r = await this.exec()(['nft', 'delete', 'table', 'ip', NFT_TABLE]);
    if (r.code !== 0 && !/No such file or directory/.test(r.stderr)) {
      throw new ProxyError('KERNEL_COMMAND_FAILED', `nft delete table exited ${r.code}: ${r.stderr.trim()}`);
    }
    this.reset();
  }

  async close(): Promise<void> {
    await this.session?.close();
  }

  reset(): void {
    this.written = new Map();
    this.hairpinRefs = new Map();
    this.modRefs = new Map();
  }

  private exec(): NetnsExec {
    if (!this.opts.exec) throw new ProxyError('INVALID_PROXY_OPTIONS', 'nftables proxier has no executor');
    return this.opts.exec;
  }
}

/**
 * The iptables backend: kube-proxy-compatible chains for users who need iptables and for
 * comparison. Inside the node namespace (Debian's iptables is iptables-nft):
 *
 * - nat `KUBE-SERVICES` (jumped from PREROUTING and OUTPUT for the Service CIDR) has one rule per
 *   Service port matching ClusterIP/protocol/port → `KUBE-SVC-<hash>`; the Service chain marks
 *   non-Pod-CIDR sources for masquerade, checks `recent` lists for ClientIP affinity, then spreads with
 *   `statistic --mode random` over `KUBE-SEP-<hash>` chains, which masquerade hairpin traffic,
 *   record affinity and DNAT;
 * - filter `KUBE-SERVICES` (jumped from INPUT, FORWARD, OUTPUT for new connections to the Service
 *   CIDR) rejects Service ports without endpoints and then the rest of the Service CIDR
 *   (kube-proxy's iptables mode leaves the latter unrouted; rejecting keeps both backends'
 *   behaviour the same);
 * - nat `KUBE-POSTROUTING` masquerades marked packets.
 *
 * A sync is one `iptables-restore --noflush` transaction: incremental ones through a long-lived
 * `iptables-restore` in the node namespace (`session.ts`), big ones (full syncs) through a process
 * of their own. A full sync (the first, and after a failure)
 * rewrites every chain; an incremental one names only the per-Service `KUBE-SVC`/`KUBE-SEP` chains
 * that changed and adds or deletes single `KUBE-SERVICES` rules — chains it does not name stay as
 * they are. (kube-proxy also skips unchanged per-Service chains but rewrites `KUBE-SERVICES` whole;
 * with iptables-nft that alone costs 0.75 s per sync at 10k Services, see `plan`.)
 */
import type { Endpoint, KernelInventory, NodeContext, ProxyBackend, ServicePort, ServiceState, SyncPlan } from '../types.js';
import { categorizeEndpoints, externallyAccessible, portKey, servicePortName } from '../types.js';
import { iptEndpointChain, iptExternalChain, iptFirewallChain, iptLocalChain, iptServiceChain } from '../chainnames.js';
import type { NetnsExec, NetnsSpawn } from '../exec.js';
import { ProxyError } from '../errors.js';
import { PendingMap } from '../pending.js';
import { IptablesRestoreSession } from './session.js';
import type { SessionSupervision } from '../session.js';

/**
 * Transactions up to this size go through the long-lived session; larger ones (full syncs, big
 * bursts) through an `iptables-restore` of their own, whose memory (~700 MB at 10k Services) goes
 * when it exits.
 */
const SESSION_MAX_BYTES = 256 * 1024;

export interface IptablesOptions {
  serviceCIDR: string;
  podCIDR: string;
  /** Runs iptables commands in the node namespace. Not needed for rendering only. */
  exec?: NetnsExec;
  /**
   * Starts the long-lived `iptables-restore` session in the node namespace. Without it every
   * transaction is a separate `iptables-restore` through `exec` (unit tests record those).
   */
  spawn?: NetnsSpawn;
  /** The node's addresses that accept NodePorts (also settable later with setNode). */
  nodeIPs?: string[];
  /** Restart the session when it dies on its own (see ../session.ts). */
  supervise?: SessionSupervision;
}

/** What one Service contributes. */
export interface IptFragment {
  /**
   * nat chain name → its rules ("-A CHAIN ..." lines) joined by newlines. One flat string per
   * chain, not an array of template-built (rope) strings: at 10k Services / 110k chains that is
   * the difference between ~60 MB and well over 100 MB of retained heap.
   */
  chains: Map<string, string>;
  /** Lines of nat KUBE-SERVICES. */
  natServices: string[];
  /** Lines of filter KUBE-SERVICES. */
  filterServices: string[];
  /** Lines of nat KUBE-NODEPORTS. */
  natNodePorts: string[];
  /** Lines of nat KUBE-EXTERNAL-IPS (external and LoadBalancer IPs). */
  natExternal: string[];
  /** Lines of filter KUBE-EXTERNAL-SERVICES (NodePorts and external IPs that must be refused or dropped). */
  filterExternal: string[];
}

/** The rule lists of a fragment that are single lines in shared chains, and where each lives. */
const SHARED_LISTS = [
  ['natServices', 'nat', 'KUBE-SERVICES'],
  ['natNodePorts', 'nat', 'KUBE-NODEPORTS'],
  ['natExternal', 'nat', 'KUBE-EXTERNAL-IPS'],
  ['filterServices', 'filter', 'KUBE-SERVICES'],
  ['filterExternal', 'filter', 'KUBE-EXTERNAL-SERVICES'],
] as const;

/**
 * Jump rules from the built-in chains into ours: [table, chain, rule spec]. The KUBE-SERVICES jumps
 * match only the Service CIDR (every ClusterIP lies in it: the API allocates and validates them
 * there). Unconditional jumps, as kube-proxy's, make every new connection in the node — Pod to
 * Pod too — walk the linear nat KUBE-SERVICES chain: +170 µs per connection at 10k Services
 * (bench/proxy/README.md). Postrouting must see every packet marked for masquerade.
 */
function jumpRules(serviceCIDR: string, nodeIPs: readonly string[]): [string, string, string[]][] {
  const portals = ['-d', serviceCIDR, '-m', 'comment', '--comment', 'clusterip service portals', '-j', 'KUBE-SERVICES'];
  const newPortals = ['-d', serviceCIDR, '-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'clusterip service portals', '-j', 'KUBE-SERVICES'];
  // NodePorts only on the node's own (primary) addresses, as kube-proxy's --nodeport-addresses primary.
  const nodePorts = nodeIPs.map((ip) => ['-d', `${ip}/32`, '-m', 'comment', '--comment', 'clusterip nodeports', '-j', 'KUBE-NODEPORTS']);
  // External and LoadBalancer IPs lie anywhere: one jump for all (the chain is empty without them).
  const external = ['-m', 'comment', '--comment', 'clusterip external IPs', '-j', 'KUBE-EXTERNAL-IPS'];
  // Refusals of NodePorts and LoadBalancer IPs: such traffic is addressed to the node itself.
  const refusals = ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'clusterip external services', '-j', 'KUBE-EXTERNAL-SERVICES'];
  return [
    ['nat', 'PREROUTING', portals],
    ['nat', 'OUTPUT', portals],
    ...nodePorts.flatMap((spec): [string, string, string[]][] => [['nat', 'PREROUTING', spec], ['nat', 'OUTPUT', spec]]),
    ['nat', 'PREROUTING', external],
    ['nat', 'OUTPUT', external],
    ['nat', 'POSTROUTING', ['-m', 'comment', '--comment', 'clusterip postrouting rules', '-j', 'KUBE-POSTROUTING']],
    ['filter', 'INPUT', newPortals],
    ['filter', 'FORWARD', newPortals],
    ['filter', 'OUTPUT', newPortals],
    ['filter', 'INPUT', refusals],
  ];
}

/** Per-Service chains a full sync removes when no Service uses them any more. */
const PER_SERVICE_CHAIN = /^KUBE-(SVC|SVL|SEP|EXT|FW)-/;

/** Lines of `before` missing from `after` go to `gone`, lines of `after` missing from `before` to `added`. */
function difference(before: readonly string[], after: readonly string[], gone: string[], added: string[]): void {
  if (before.length === after.length && before.every((l, i) => l === after[i])) return;
  const a = new Set(after);
  const b = new Set(before);
  for (const l of before) if (!a.has(l)) gone.push(l);
  for (const l of after) if (!b.has(l)) added.push(l);
}

/** kube-proxy's probability formatting: 1/n with 10 decimals. */
function probability(n: number): string {
  return (1 / n).toFixed(10);
}

export class IptablesProxier implements ProxyBackend {
  readonly mode = 'iptables' as const;
  private written = new Map<string, IptFragment>();
  private session?: IptablesRestoreSession;

  private nodeIPs: string[];

  constructor(private readonly opts: IptablesOptions) {
    if (opts.spawn) this.session = new IptablesRestoreSession(opts.spawn, { supervise: opts.supervise });
    this.nodeIPs = [...(opts.nodeIPs ?? [])];
  }

  /**
   * The node's NodePort addresses changed: the caller follows with a full sync. The jumps into
   * KUBE-NODEPORTS are per address, so the old ones are removed and the new ones ensured then.
   */
  setNode(ctx: NodeContext): void {
    if (ctx.nodeIPs.join(',') === this.nodeIPs.join(',')) return;
    this.staleNodeIPs.push(...this.nodeIPs);
    this.nodeIPs = [...ctx.nodeIPs];
    this.jumpsEnsured = false;
  }

  private readonly staleNodeIPs: string[] = [];

  /** Renders one Service's chains and its lines in the shared chains (pure). */
  renderService(state: ServiceState): IptFragment {
    const f: IptFragment = { chains: new Map(), natServices: [], filterServices: [], natNodePorts: [], natExternal: [], filterExternal: [] };
    for (const sp of state.ports) {
      const proto = sp.protocol.toLowerCase();
      const spn = servicePortName(sp);
      const match = `-d ${sp.clusterIP}/32 -p ${proto} -m ${proto} --dport ${sp.port}`;
      const cat = categorizeEndpoints(state.endpoints.get(portKey(sp.portName, sp.protocol)) ?? [], sp, state.zone);
      const external = externallyAccessible(sp);
      const vipMatch = (ip: string): string => `-d ${ip}/32 -p ${proto} -m ${proto} --dport ${sp.port}`;
      const npMatch = `-p ${proto} -m ${proto} --dport ${sp.nodePort}`;
      const refuse = (why: string, target: string): void => {
        for (const ip of sp.externalIPs ?? []) f.filterExternal.push(`-A KUBE-EXTERNAL-SERVICES ${vipMatch(ip)} -m comment --comment "${spn} ${why}" -j ${target}`);
        if (sp.nodePort !== undefined) f.filterExternal.push(`-A KUBE-EXTERNAL-SERVICES -m addrtype --dst-type LOCAL ${npMatch} -m comment --comment "${spn} ${why}" -j ${target}`);
      };
      // TCP: a reset, not ICMP (see the nftables backend: an ICMP error that arrives while
      // connect() holds the socket lock is only a soft error, and the client hangs).
      const reject = `REJECT --reject-with ${proto === 'tcp' ? 'tcp-reset' : 'icmp-port-unreachable'}`;
      if (!cat.hasAny) {
        f.filterServices.push(`-A KUBE-SERVICES ${match} -m comment --comment "${spn} has no endpoints" -j ${reject}`);
        if (external) refuse('has no endpoints', reject);
        continue;
      }
      const svcChain = iptServiceChain(sp);
      const localChain = iptLocalChain(sp);
      const usesCluster = !sp.internalPolicyLocal || external;
      const usesLocal = !!sp.internalPolicyLocal || (external && !!sp.externalPolicyLocal);
      const internalChain = sp.internalPolicyLocal ? localChain : svcChain;
      const internal = sp.internalPolicyLocal ? cat.local : cat.cluster;
      const masq = `-A ${internalChain} ${match} ! -s ${this.opts.podCIDR} -m comment --comment "${spn} cluster IP" -j KUBE-MARK-MASQ`;
      if (usesCluster && cat.cluster.length) this.pick(f, sp, svcChain, cat.cluster, internalChain === svcChain ? masq : undefined);
      if (usesLocal && cat.local.length) this.pick(f, sp, localChain, cat.local, internalChain === localChain ? masq : undefined);
      if (internal.length) f.natServices.push(`-A KUBE-SERVICES ${match} -m comment --comment "${spn} cluster IP" -j ${internalChain}`);
      else f.filterServices.push(`-A KUBE-SERVICES ${match} -m comment --comment "${spn} has no local endpoints" -j DROP`);
      if (!external) continue;

      // External traffic: KUBE-EXT masquerades (Cluster policy) or keeps the source and picks this
      // node's endpoints, while Pods and the node itself still reach all of them (Local policy).
      const ext = iptExternalChain(sp);
      f.chains.set(ext, (sp.externalPolicyLocal
        ? [`-A ${ext} -s ${this.opts.podCIDR} -m comment --comment "pod traffic for ${spn} external destinations" -j ${svcChain}`,
          `-A ${ext} -m comment --comment "masquerade LOCAL traffic for ${spn} external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`,
          `-A ${ext} -m comment --comment "route LOCAL traffic for ${spn} external destinations" -m addrtype --src-type LOCAL -j ${svcChain}`,
          ...(cat.local.length ? [`-A ${ext} -j ${localChain}`] : [])]
        : [`-A ${ext} -m comment --comment "masquerade traffic for ${spn} external destinations" -j KUBE-MARK-MASQ`, `-A ${ext} -j ${svcChain}`]).join('\n'));
      if (sp.externalPolicyLocal && cat.local.length === 0) refuse('has no local endpoints', 'DROP');
      const lbIPs = new Set(sp.sourceRanges?.length ? sp.loadBalancerIPs ?? [] : []);
      for (const ip of sp.externalIPs ?? []) {
        if (!lbIPs.has(ip)) { f.natExternal.push(`-A KUBE-EXTERNAL-IPS ${vipMatch(ip)} -m comment --comment "${spn} external IP" -j ${ext}`); continue; }
        // loadBalancerSourceRanges: only the listed sources go on to KUBE-EXT; the rest is not
        // DNATed and reaches the node itself, where KUBE-EXTERNAL-SERVICES drops it.
        const fw = iptFirewallChain(sp);
        f.chains.set(fw, sp.sourceRanges!.map((r) => `-A ${fw} -s ${r} -m comment --comment "${spn} loadbalancer IP" -j ${ext}`).join('\n'));
        f.natExternal.push(`-A KUBE-EXTERNAL-IPS ${vipMatch(ip)} -m comment --comment "${spn} loadbalancer IP" -j ${fw}`);
        f.filterExternal.push(`-A KUBE-EXTERNAL-SERVICES ${vipMatch(ip)} -m comment --comment "${spn} not allowed by loadBalancerSourceRanges" -j DROP`);
      }
      if (sp.nodePort !== undefined) f.natNodePorts.push(`-A KUBE-NODEPORTS ${npMatch} -m comment --comment "${spn}" -j ${ext}`);
    }
    return f;
  }

  /** A Service (or local) chain spreading over `eps` (statistic, ClientIP `recent` lists), and the endpoints' chains. */
  private pick(f: IptFragment, sp: ServicePort, chain: string, eps: Endpoint[], masq: string | undefined): void {
    const spn = servicePortName(sp);
    const rules = masq ? [masq] : [];
    const seps = eps.map((ep) => iptEndpointChain(sp, ep));
    if (sp.affinityTimeoutSeconds !== undefined) {
      eps.forEach((ep, i) => rules.push(`-A ${chain} -m comment --comment "${spn} -> ${ep.ip}:${ep.port}" -m recent --name ${seps[i]} --rcheck --seconds ${sp.affinityTimeoutSeconds} --reap -j ${seps[i]}`));
    }
    eps.forEach((ep, i) => {
      const stat = i < eps.length - 1 ? ` -m statistic --mode random --probability ${probability(eps.length - i)}` : '';
      rules.push(`-A ${chain} -m comment --comment "${spn} -> ${ep.ip}:${ep.port}"${stat} -j ${seps[i]}`);
      f.chains.set(seps[i]!, this.endpointRules(sp, ep, seps[i]!, spn).join('\n'));
    });
    f.chains.set(chain, rules.join('\n'));
  }

  private endpointRules(sp: ServicePort, ep: Endpoint, sep: string, spn: string): string[] {
    const proto = sp.protocol.toLowerCase();
    const recent = sp.affinityTimeoutSeconds !== undefined ? ` -m recent --name ${sep} --set` : '';
    return [
      `-A ${sep} -s ${ep.ip}/32 -m comment --comment "${spn}" -j KUBE-MARK-MASQ`,
      `-A ${sep} -p ${proto} -m comment --comment "${spn}"${recent} -m ${proto} -j DNAT --to-destination ${ep.ip}:${ep.port}`,
    ];
  }

  plan(desired: ReadonlyMap<string, ServiceState>, changed: ReadonlySet<string>, full: boolean, existing?: KernelInventory): SyncPlan {
    // Pending changes beside the written model (commit folds them in): no copy of 10k fragments.
    const next = new PendingMap(full ? new Map<string, IptFragment>() : this.written);
    const keys = full ? [...desired.keys()] : [...changed];
    /** Chains (re)written by this transaction → their rules (newline-joined). */
    const write = new Map<string, string>();
    const gone = new Set<string>();
    const want = new Set<string>();
    // Incremental only: lines of the shared chains (KUBE-SERVICES, ...) that appear or disappear.
    const lineGone = new Map<string, string[]>(SHARED_LISTS.map(([k]) => [k, []]));
    const lineNew = new Map<string, string[]>(SHARED_LISTS.map(([k]) => [k, []]));
    for (const key of keys.sort()) {
      const old = full ? undefined : this.written.get(key);
      const state = desired.get(key);
      const frag = state ? this.renderService(state) : undefined;
      if (frag && (frag.chains.size > 0 || SHARED_LISTS.some(([k]) => frag[k].length > 0))) next.set(key, frag);
      else next.delete(key);
      for (const [name, rules] of frag?.chains ?? []) {
        want.add(name);
        if (old?.chains.get(name) === rules) continue;
        write.set(name, rules);
      }
      for (const name of old?.chains.keys() ?? []) if (!frag?.chains.has(name)) gone.add(name);
      if (!full) for (const [k] of SHARED_LISTS) difference(old?.[k] ?? [], frag?.[k] ?? [], lineGone.get(k)!, lineNew.get(k)!);
    }
    if (full) for (const c of existing?.chains ?? []) if (PER_SERVICE_CHAIN.test(c) && !want.has(c)) gone.add(c);
    const stale = [...gone].filter((c) => !want.has(c)).sort();
    const commit = (): void => { this.written = next.commit(); };
    if (full) return { text: this.fullText(next, write, stale), commit };
    const lineChanges = SHARED_LISTS.reduce((n, [k]) => n + lineGone.get(k)!.length + lineNew.get(k)!.length, 0);
    if (write.size + stale.length + lineChanges === 0) return { text: '', commit };

    // An incremental sync names only what changed: with --noflush, chains not named stay as they
    // are. KUBE-SERVICES is edited rule by rule (its nat rules match distinct ClusterIP:port pairs,
    // so their order does not matter; no-endpoint rejects go first in filter, before the catch-all
    // rejects of the Service CIDR). Rewriting it whole, as kube-proxy does, names every Service's
    // chain, and iptables-nft's per-chain cache request list grows quadratically with that (0.75 s
    // per sync at 10k Services, against ~40 ms for this). KUBE-NODEPORTS, KUBE-EXTERNAL-IPS and
    // KUBE-EXTERNAL-SERVICES hold one line per port too and are edited the same way.
    const out: string[] = [];
    const edits = (table: 'nat' | 'filter'): string[] => {
      const lines: string[] = [];
      for (const [k, tbl] of SHARED_LISTS) {
        if (tbl !== table) continue;
        for (const l of lineGone.get(k)!) lines.push(l.replace(/^-A /, '-D '));
        // filter KUBE-SERVICES ends with the catch-all rejects of the Service CIDR: insert before them.
        for (const l of lineNew.get(k)!) lines.push(k === 'filterServices' ? l.replace(/^-A KUBE-SERVICES /, '-I KUBE-SERVICES 1 ') : l);
      }
      return lines;
    };
    const filterEdits = edits('filter');
    if (filterEdits.length > 0) out.push('*filter', ...filterEdits, 'COMMIT');
    const natEdits = edits('nat');
    if (write.size + stale.length + natEdits.length > 0) {
      out.push('*nat');
      // New chains in an order where a chain is declared before a rule jumps to it (one transaction: declaration order is enough).
      for (const name of write.keys()) out.push(`:${name} - [0:0]`);
      for (const c of stale) out.push(`:${c} - [0:0]`);
      // Deleted lines first (they may jump to chains deleted below), then chains, then new lines.
      for (const l of natEdits.filter((x) => x.startsWith('-D '))) out.push(l);
      for (const rules of write.values()) out.push(rules);
      for (const l of natEdits.filter((x) => !x.startsWith('-D '))) out.push(l);
      for (const c of stale) out.push(`-X ${c}`);
      out.push('COMMIT');
    }
    return { text: out.join('\n') + '\n', commit };
  }

  /**
   * A full sync: KUBE-SERVICES (both tables) and every per-Service chain rewritten, leftovers
   * deleted. Two things keep iptables-nft (1.8.7+) from going quadratic at 10k Services:
   * - `-Z` (zero counters) first: a command that names no chain makes iptables-nft fetch all chains
   *   once instead of adding each named chain to a sorted request list, one list walk per command
   *   (330k commands × 110k names at 10k Services: hours). Counters of nat/filter chains restart
   *   from zero on a full sync — they carry no meaning for the proxy;
   * - chains declared in descending name order: iptables-nft keeps user chains in a sorted list and
   *   walks it from the head to insert each new one, so descending names insert at the head.
   */
  private fullText(next: PendingMap<string, IptFragment>, write: Map<string, string>, stale: string[]): string {
    const ordered = [...next.keys()].sort();
    const lines = new Map<string, string[]>(SHARED_LISTS.map(([k]) => [k, []]));
    for (const k of ordered) {
      const f = next.get(k)!;
      for (const [list] of SHARED_LISTS) for (const l of f[list]) lines.get(list)!.push(l);
    }
    const declared = [...write.keys(), ...stale].sort().reverse();
    const out = [
      '*filter',
      '-Z',
      ':KUBE-SERVICES - [0:0]',
      ':KUBE-EXTERNAL-SERVICES - [0:0]',
      ...lines.get('filterServices')!,
      `-A KUBE-SERVICES -d ${this.opts.serviceCIDR} -p tcp -m comment --comment "reject traffic to ClusterIP ports without a Service" -j REJECT --reject-with tcp-reset`,
      `-A KUBE-SERVICES -d ${this.opts.serviceCIDR} -m comment --comment "reject traffic to ClusterIP ports without a Service" -j REJECT --reject-with icmp-port-unreachable`,
      ...lines.get('filterExternal')!,
      'COMMIT',
      '*nat',
      '-Z',
      ':KUBE-SERVICES - [0:0]',
      ':KUBE-NODEPORTS - [0:0]',
      ':KUBE-EXTERNAL-IPS - [0:0]',
      ':KUBE-MARK-MASQ - [0:0]',
      ':KUBE-POSTROUTING - [0:0]',
      ...declared.map((c) => `:${c} - [0:0]`),
      '-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000',
      '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
      '-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000',
      '-A KUBE-POSTROUTING -m comment --comment "clusterip service traffic requiring SNAT" -j MASQUERADE --random-fully',
    ];
    for (const rules of write.values()) out.push(rules);
    for (const l of lines.get('natServices')!) out.push(l);
    for (const l of lines.get('natNodePorts')!) out.push(l);
    for (const l of lines.get('natExternal')!) out.push(l);
    for (const c of stale) out.push(`-X ${c}`);
    out.push('COMMIT');
    return out.join('\n') + '\n';
  }

  rulesFor(key: string): string {
    const f = this.written.get(key);
    if (!f) return '';
    const lines: string[] = [];
    if (f.filterServices.length + f.filterExternal.length) lines.push('*filter', ...f.filterServices, ...f.filterExternal);
    lines.push('*nat', ...f.natServices, ...f.natNodePorts, ...f.natExternal);
    const rank = (c: string): number => ['KUBE-FW-', 'KUBE-EXT-', 'KUBE-SVC-', 'KUBE-SVL-'].findIndex((p) => c.startsWith(p)) + 1 || 9;
    const chains = [...f.chains].sort(([a], [b]) => rank(a) - rank(b));
    for (const [, rules] of chains) lines.push(rules);
    return lines.join('\n') + '\n';
  }

  async inventory(): Promise<KernelInventory> {
    return { chains: await this.kubeChains('nat'), sets: new Set() };
  }

  /**
   * Names of the KUBE-* chains in `table`. From `nft list chains ip` when iptables is iptables-nft
   * (names only: 1.5 s at 110k chains), else from iptables-save. iptables-save (1.8.9, nft) needs
   * ~3 min at 10k Services and overflows the default 8 MB stack there (SIGSEGV), hence the
   * unlimited stack. A failure throws: a full sync that cannot see leftovers must not pretend.
   */
  private async kubeChains(table: 'nat' | 'filter'): Promise<Set<string>> {
    const exec = this.exec();
    const names = new Set<string>();
    // Only iptables-nft keeps its chains in nf_tables; with iptables-legacy `nft` lists none of them.
    const nft = await this.isNft() ? await exec(['nft', 'list', 'chains', 'ip']) : undefined;
    if (nft?.code === 0) {
      let inTable = false;
      for (const line of nft.stdout.split('\n')) {
        if (line.startsWith('table ')) inTable = line === `table ip ${table} {`;
        const m = inTable ? /^\tchain (KUBE-\S+) \{/.exec(line) : null;
        if (m) names.add(m[1]!);
      }
      return names;
    }
    const saved = await exec(['sh', '-c', `ulimit -s unlimited 2>/dev/null; exec iptables-save -t ${table}`]);
    if (saved.code !== 0) throw new ProxyError('KERNEL_COMMAND_FAILED', `iptables-save -t ${table} exited ${saved.code}: ${saved.stderr.trim().slice(0, 500)}`);
    for (const m of saved.stdout.matchAll(/^:(KUBE-\S+) /gm)) names.add(m[1]!);
    return names;
  }

  /** Makes sure the built-in chains jump into ours (once each; iptables -C before -I). */
  private async ensureJumps(): Promise<void> {
    const exec = this.exec();
    // The target chains must exist before a rule can jump to them.
    const r0 = await exec(['iptables-restore', '--noflush'], '*filter\n:KUBE-SERVICES - [0:0]\n:KUBE-EXTERNAL-SERVICES - [0:0]\nCOMMIT\n' +
      '*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-NODEPORTS - [0:0]\n:KUBE-EXTERNAL-IPS - [0:0]\n:KUBE-POSTROUTING - [0:0]\n:KUBE-MARK-MASQ - [0:0]\nCOMMIT\n');
    if (r0.code !== 0) throw new ProxyError('KERNEL_COMMAND_FAILED', `iptables-restore exited ${r0.code}: ${r0.stderr.trim()}`);
    // Jumps to the NodePorts of addresses the node no longer has.
    for (const ip of this.staleNodeIPs.splice(0)) {
      for (const chain of ['PREROUTING', 'OUTPUT']) {
        while ((await exec(['iptables', '-w', '-t', 'nat', '-D', chain, '-d', `${ip}/32`, '-m', 'comment', '--comment', 'clusterip nodeports', '-j', 'KUBE-NODEPORTS'])).code === 0) { /* duplicates too */ }
      }
    }
    for (const [table, chain, spec] of jumpRules(this.opts.serviceCIDR, this.nodeIPs)) {
      const c = await exec(['iptables', '-w', '-t', table, '-C', chain, ...spec]);
      if (c.code === 0) continue;
      const i = await exec(['iptables', '-w', '-t', table, '-I', chain, ...spec]);
      if (i.code !== 0) throw new ProxyError('KERNEL_COMMAND_FAILED', `iptables -I ${chain} exited ${i.code}: ${i.stderr.trim()}`);
    }
  }

  private jumpsEnsured = false;
  private nftVariant?: Promise<boolean>;

  /** Whether `iptables` is iptables-nft (`iptables -V` says "nf_tables"); asked once. */
  private isNft(): Promise<boolean> {
    this.nftVariant ??= this.exec()(['iptables', '-V']).then((r) => /nf_tables/.test(r.stdout), () => false);
    return this.nftVariant;
  }

  async apply(text: string): Promise<void> {
    if (!this.jumpsEnsured) {
      await this.ensureJumps();
      this.jumpsEnsured = true;
    }
    // iptables-nft only: a legacy iptables-restore holds the machine-wide xtables lock
    // (/run/xtables.lock) for as long as it runs, so a long-lived one would block every other
    // iptables command, the host's too.
    if (this.session?.usable && text.length <= SESSION_MAX_BYTES && await this.isNft()) {
      try {
        return await this.session.run(text);
      } catch (e) {
        // A session that could not start (no stdbuf…) is given up for good and the transaction
        // runs on its own; any other failure is the transaction's.
        if (this.session.usable) throw e;
      }
    }
    const r = await this.exec()(['iptables-restore', '--noflush', '-w'], text);
    if (r.code !== 0) throw new ProxyError('KERNEL_COMMAND_FAILED', `iptables-restore exited ${r.code}: ${r.stderr.trim().slice(0, 2000)}`);
    this.renewSession();
  }

  /**
   * After a change made by another process, the session starts afresh (iptables-nft caches the
   * chains it has read), ready before the next incremental sync.
   */
  private renewSession(): void {
    const session = this.session;
    if (!session?.usable) return;
    void this.isNft().then((nft) => {
      if (!nft || !session.usable) return; // never a long-lived legacy iptables-restore (see apply)
      session.recycle();
      session.warm();
    });
  }

  async flushAll(): Promise<void> {
    const exec = this.exec();
    for (const [table, chain, spec] of jumpRules(this.opts.serviceCIDR, this.nodeIPs)) {
      while ((await exec(['iptables', '-w', '-t', table, '-D', chain, ...spec])).code === 0) { /* remove duplicates too */ }
    }
    const lines: string[] = [];
    for (const table of ['filter', 'nat'] as const) {
      const chains = [...await this.kubeChains(table)];
      if (chains.length === 0) continue;
      lines.push(`*${table}`, ...chains.map((c) => `:${c} - [0:0]`), ...chains.map((c) => `-X ${c}`), 'COMMIT');
    }
    if (lines.length) {
      const r = await exec(['iptables-restore', '--noflush', '-w'], lines.join('\n') + '\n');
      if (r.code !== 0) throw new ProxyError('KERNEL_COMMAND_FAILED', `iptables-restore (flush) exited ${r.code}: ${r.stderr.trim()}`);
    }
    this.written = new Map();
    this.jumpsEnsured = false;
    this.renewSession();
  }

  reset(): void {
    this.written = new Map();
    this.jumpsEnsured = false;
  }

  async close(): Promise<void> {
    await this.session?.close();
  }

  private exec(): NetnsExec {
    if (!this.opts.exec) throw new ProxyError('INVALID_PROXY_OPTIONS', 'iptables proxier has no executor');
    return this.opts.exec;
  }
}

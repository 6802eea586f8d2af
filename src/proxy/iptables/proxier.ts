/**
 * The iptables backend: kube-proxy-compatible chains for users who need iptables and for
 * comparison. Inside the node namespace (Debian's iptables is iptables-nft):
 *
 * - nat `KUBE-SERVICES` (jumped from PREROUTING and OUTPUT) has one rule per Service port matching
 *   ClusterIP/protocol/port → `KUBE-SVC-<hash>`; the Service chain marks non-Pod-CIDR sources for
 *   masquerade, checks `recent` lists for ClientIP affinity, then spreads with
 *   `statistic --mode random` over `KUBE-SEP-<hash>` chains, which masquerade hairpin traffic,
 *   record affinity and DNAT;
 * - filter `KUBE-SERVICES` (jumped from INPUT, FORWARD, OUTPUT for new connections) rejects Service
 *   ports without endpoints and then the rest of the Service CIDR (kube-proxy's iptables mode leaves
 *   the latter unrouted; rejecting keeps both backends' behaviour the same);
 * - nat `KUBE-POSTROUTING` masquerades marked packets.
 *
 * A sync is one `iptables-restore --noflush`. The `KUBE-SERVICES` chains are rewritten every sync
 * (as kube-proxy since 1.28); per-Service `KUBE-SVC`/`KUBE-SEP` chains only when they changed.
 */
import type { Endpoint, KernelInventory, ProxyBackend, ServicePort, ServiceState, SyncPlan } from '../types.js';
import { portKey, servicePortName, usableEndpoints } from '../types.js';
import { iptEndpointChain, iptServiceChain } from '../names.js';
import type { NetnsExec } from '../exec.js';
import { ProxyError } from '../errors.js';

export interface IptablesOptions {
  serviceCIDR: string;
  podCIDR: string;
  /** Runs iptables commands in the node namespace. Not needed for rendering only. */
  exec?: NetnsExec;
}

/** What one Service contributes. */
export interface IptFragment {
  /** nat chain name → rules ("-A CHAIN ..." lines). */
  chains: Map<string, string[]>;
  /** Lines of nat KUBE-SERVICES. */
  natServices: string[];
  /** Lines of filter KUBE-SERVICES. */
  filterServices: string[];
}

/** Jump rules from the built-in chains into ours: [table, chain, rule spec]. */
const JUMPS: [string, string, string[]][] = [
  ['nat', 'PREROUTING', ['-m', 'comment', '--comment', 'clusterip service portals', '-j', 'KUBE-SERVICES']],
  ['nat', 'OUTPUT', ['-m', 'comment', '--comment', 'clusterip service portals', '-j', 'KUBE-SERVICES']],
  ['nat', 'POSTROUTING', ['-m', 'comment', '--comment', 'clusterip postrouting rules', '-j', 'KUBE-POSTROUTING']],
  ['filter', 'INPUT', ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'clusterip service portals', '-j', 'KUBE-SERVICES']],
  ['filter', 'FORWARD', ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'clusterip service portals', '-j', 'KUBE-SERVICES']],
  ['filter', 'OUTPUT', ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'clusterip service portals', '-j', 'KUBE-SERVICES']],
];

/** kube-proxy's probability formatting: 1/n with 10 decimals. */
function probability(n: number): string {
  return (1 / n).toFixed(10);
}

export class IptablesProxier implements ProxyBackend {
  readonly mode = 'iptables' as const;
  private written = new Map<string, IptFragment>();

  constructor(private readonly opts: IptablesOptions) {}

  /** Renders one Service's chains and KUBE-SERVICES lines (pure). */
  renderService(state: ServiceState): IptFragment {
    const f: IptFragment = { chains: new Map(), natServices: [], filterServices: [] };
    for (const sp of state.ports) {
      const proto = sp.protocol.toLowerCase();
      const spn = servicePortName(sp);
      const match = `-d ${sp.clusterIP}/32 -p ${proto} -m ${proto} --dport ${sp.port}`;
      const eps = usableEndpoints(state.endpoints.get(portKey(sp.portName, sp.protocol)) ?? []);
      if (eps.length === 0) {
        // TCP: a reset, not ICMP (see the nftables backend: an ICMP error that arrives while
        // connect() holds the socket lock is only a soft error, and the client hangs).
        f.filterServices.push(`-A KUBE-SERVICES ${match} -m comment --comment "${spn} has no endpoints" -j REJECT --reject-with ${proto === 'tcp' ? 'tcp-reset' : 'icmp-port-unreachable'}`);
        continue;
      }
      const svc = iptServiceChain(sp);
      f.natServices.push(`-A KUBE-SERVICES ${match} -m comment --comment "${spn} cluster IP" -j ${svc}`);
      const rules = [`-A ${svc} ${match} ! -s ${this.opts.podCIDR} -m comment --comment "${spn} cluster IP" -j KUBE-MARK-MASQ`];
      const seps = eps.map((ep) => iptEndpointChain(sp, ep));
      if (sp.affinityTimeoutSeconds !== undefined) {
        eps.forEach((ep, i) => rules.push(`-A ${svc} -m comment --comment "${spn} -> ${ep.ip}:${ep.port}" -m recent --name ${seps[i]} --rcheck --seconds ${sp.affinityTimeoutSeconds} --reap -j ${seps[i]}`));
      }
      eps.forEach((ep, i) => {
        const stat = i < eps.length - 1 ? ` -m statistic --mode random --probability ${probability(eps.length - i)}` : '';
        rules.push(`-A ${svc} -m comment --comment "${spn} -> ${ep.ip}:${ep.port}"${stat} -j ${seps[i]}`);
        f.chains.set(seps[i]!, this.endpointRules(sp, ep, seps[i]!, spn));
      });
      f.chains.set(svc, rules);
    }
    return f;
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
    const next = full ? new Map<string, IptFragment>() : new Map(this.written);
    const keys = full ? [...desired.keys()] : [...changed];
    const declare: string[] = [];
    const rules: string[] = [];
    const gone = new Set<string>();
    const want = new Set<string>();
    for (const key of keys.sort()) {
      const old = full ? undefined : this.written.get(key);
      const state = desired.get(key);
      const frag = state ? this.renderService(state) : undefined;
      if (frag && (frag.chains.size > 0 || frag.natServices.length + frag.filterServices.length > 0)) next.set(key, frag);
      else next.delete(key);
      for (const [name, lines] of frag?.chains ?? []) {
        want.add(name);
        const prev = old?.chains.get(name);
        if (prev && prev.join('\n') === lines.join('\n')) continue;
        declare.push(`:${name} - [0:0]`);
        for (const l of lines) rules.push(l);
      }
      for (const name of old?.chains.keys() ?? []) if (!frag?.chains.has(name)) gone.add(name);
    }
    if (full) for (const c of existing?.chains ?? []) if (/^KUBE-(SVC|SEP)-/.test(c) && !want.has(c)) gone.add(c);
    const stale = [...gone].filter((c) => !want.has(c)).sort();

    // KUBE-SERVICES is rewritten whole each sync, from every Service's fragment in key order.
    const ordered = [...next.keys()].sort();
    const filterLines: string[] = [];
    const natLines: string[] = [];
    for (const k of ordered) {
      const f = next.get(k)!;
      for (const l of f.filterServices) filterLines.push(l);
      for (const l of f.natServices) natLines.push(l);
    }
    const out = [
      '*filter',
      ':KUBE-SERVICES - [0:0]',
      ...filterLines,
      `-A KUBE-SERVICES -d ${this.opts.serviceCIDR} -p tcp -m comment --comment "reject traffic to ClusterIP ports without a Service" -j REJECT --reject-with tcp-reset`,
      `-A KUBE-SERVICES -d ${this.opts.serviceCIDR} -m comment --comment "reject traffic to ClusterIP ports without a Service" -j REJECT --reject-with icmp-port-unreachable`,
      'COMMIT',
      '*nat',
      ':KUBE-SERVICES - [0:0]',
      ':KUBE-MARK-MASQ - [0:0]',
      ':KUBE-POSTROUTING - [0:0]',
      ...declare,
      ...stale.map((c) => `:${c} - [0:0]`),
      ...natLines,
      '-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000',
      '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
      '-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000',
      '-A KUBE-POSTROUTING -m comment --comment "clusterip service traffic requiring SNAT" -j MASQUERADE --random-fully',
      ...rules,
      ...stale.map((c) => `-X ${c}`),
      'COMMIT',
    ];
    return { text: out.join('\n') + '\n', commit: () => { this.written = next; } };
  }

  rulesFor(key: string): string {
    const f = this.written.get(key);
    if (!f) return '';
    const lines: string[] = [];
    if (f.filterServices.length) lines.push('*filter', ...f.filterServices);
    lines.push('*nat', ...f.natServices);
    const chains = [...f.chains].sort(([a], [b]) => (a.startsWith('KUBE-SVC-') ? -1 : 0) - (b.startsWith('KUBE-SVC-') ? -1 : 0));
    for (const [, rules] of chains) lines.push(...rules);
    return lines.join('\n') + '\n';
  }

  async inventory(): Promise<KernelInventory> {
    const r = await this.exec()(['iptables-save', '-t', 'nat']);
    const inv: KernelInventory = { chains: new Set(), sets: new Set() };
    for (const m of r.stdout.matchAll(/^:(KUBE-\S+) /gm)) inv.chains.add(m[1]!);
    return inv;
  }

  /** Makes sure the built-in chains jump into ours (once each; iptables -C before -I). */
  private async ensureJumps(): Promise<void> {
    const exec = this.exec();
    // The target chains must exist before a rule can jump to them.
    const r0 = await exec(['iptables-restore', '--noflush'], '*filter\n:KUBE-SERVICES - [0:0]\nCOMMIT\n*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-POSTROUTING - [0:0]\n:KUBE-MARK-MASQ - [0:0]\nCOMMIT\n');
    if (r0.code !== 0) throw new ProxyError('KernelCommandFailed', `iptables-restore exited ${r0.code}: ${r0.stderr.trim()}`);
    for (const [table, chain, spec] of JUMPS) {
      const c = await exec(['iptables', '-w', '-t', table, '-C', chain, ...spec]);
      if (c.code === 0) continue;
      const i = await exec(['iptables', '-w', '-t', table, '-I', chain, ...spec]);
      if (i.code !== 0) throw new ProxyError('KernelCommandFailed', `iptables -I ${chain} exited ${i.code}: ${i.stderr.trim()}`);
    }
  }

  private jumpsEnsured = false;

  async apply(text: string): Promise<void> {
    if (!this.jumpsEnsured) {
      await this.ensureJumps();
      this.jumpsEnsured = true;
    }
    const r = await this.exec()(['iptables-restore', '--noflush', '-w'], text);
    if (r.code !== 0) throw new ProxyError('KernelCommandFailed', `iptables-restore exited ${r.code}: ${r.stderr.trim().slice(0, 2000)}`);
  }

  async flushAll(): Promise<void> {
    const exec = this.exec();
    for (const [table, chain, spec] of JUMPS) {
      while ((await exec(['iptables', '-w', '-t', table, '-D', chain, ...spec])).code === 0) { /* remove duplicates too */ }
    }
    const lines: string[] = [];
    for (const table of ['filter', 'nat']) {
      const saved = await exec(['iptables-save', '-t', table]);
      const chains = [...saved.stdout.matchAll(/^:(KUBE-\S+) /gm)].map((m) => m[1]!);
      if (chains.length === 0) continue;
      lines.push(`*${table}`, ...chains.map((c) => `:${c} - [0:0]`), ...chains.map((c) => `-X ${c}`), 'COMMIT');
    }
    if (lines.length) {
      const r = await exec(['iptables-restore', '--noflush', '-w'], lines.join('\n') + '\n');
      if (r.code !== 0) throw new ProxyError('KernelCommandFailed', `iptables-restore (flush) exited ${r.code}: ${r.stderr.trim()}`);
    }
    this.written = new Map();
    this.jumpsEnsured = false;
  }

  reset(): void {
    this.written = new Map();
    this.jumpsEnsured = false;
  }

  private exec(): NetnsExec {
    if (!this.opts.exec) throw new ProxyError('InvalidProxyOptions', 'iptables proxier has no executor');
    return this.opts.exec;
  }
}

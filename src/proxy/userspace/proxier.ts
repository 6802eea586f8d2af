/**
 * The userspace backend (`--proxy-mode userspace`), as kube-proxy's historical userspace mode: the
 * proxy itself carries every connection. Per Service port, a listener in the proxy's process inside
 * the node namespace (../nodeside/helper.mjs) accepts connections and opens one to an endpoint,
 * round-robin, or the client's last endpoint with ClientIP affinity; UDP is relayed per client
 * address. The kernel's part is one redirect: `table ip clusterip-userspace` sends new connections
 * for `VIP:port` (ClusterIP, external and LoadBalancer IPs) and for `nodeIP:nodePort` to the
 * listener's port (`redirect`: to the receiving interface's address, 127.0.0.1 for the node's own
 * traffic).
 *
 * What differs from the kernel modes, as it did in kube-proxy: endpoints see the connection come
 * from the node, never from the client (externalTrafficPolicy Local cannot keep the source address,
 * so external traffic uses the Cluster policy's endpoints); each byte crosses the proxy process
 * twice. A Service port without usable endpoints gets no redirect, so connections are refused by
 * the node (nothing listens at the Service address there). SCTP is not proxied (Node.js has no SCTP
 * sockets). Listener ports come from `portRange` (default 20000-29999, below the NodePort range and
 * the kernel's ephemeral ports) and stay with their Service port for the proxy's lifetime.
 *
 * plan() renders the redirect elements (a difference, as the nftables backend) and the full
 * listener table; apply() opens the listeners first, then writes the redirects, so the kernel never
 * points at a port nobody listens on.
 */
import type { KernelInventory, NodeContext, ProxyBackend, ServicePort, ServiceState, SyncPlan } from '../types.js';
import { categorizeEndpoints, portKey, servicePortName } from '../types.js';
import type { NetnsExec } from '../exec.js';
import { ProxyError } from '../errors.js';
import type { ListenerSpec, NodeHelper } from '../nodeside/helper.js';
import { PendingMap } from '../pending.js';

/** The table the userspace mode owns in the node namespace. */
export const USERSPACE_TABLE = 'clusterip-userspace';

export interface UserspaceOptions {
  /** Runs nft in the node namespace. Not needed for rendering only. */
  exec?: NetnsExec;
  /** The proxy's process in the node namespace. Not needed for rendering only. */
  helper?: NodeHelper;
  /** The node's addresses that accept NodePorts. */
  nodeIPs?: string[];
  /** Ports the listeners take, `low-high`. Default 20000-29999. */
  portRange?: string;
}

interface Element { map: string; key: string; value?: string; comment?: string }

/** What one Service contributes: redirect elements and listeners. */
export interface UserspaceFragment {
  elements: Element[];
  listeners: ListenerSpec[];
}

function listenerKey(sp: ServicePort): string {
  return `${servicePortName(sp)}/${sp.protocol}`;
}

export class UserspaceProxier implements ProxyBackend {
  readonly mode = 'userspace' as const;
  private written = new Map<string, UserspaceFragment>();
  /** Listener key → its port, kept for the proxy's lifetime so a listener does not move. */
  private readonly ports = new Map<string, number>();
  private readonly used = new Set<number>();
  private readonly lo: number;
  private readonly hi: number;
  private nodeIPs: string[];
  /** The listener table of the last plan: apply() opens these before writing the redirects. */
  private pendingListeners?: ListenerSpec[];
  private readonly t = `ip ${USERSPACE_TABLE}`;

  constructor(private readonly opts: UserspaceOptions = {}) {
    const m = /^(\d+)-(\d+)$/.exec(opts.portRange ?? '20000-29999');
    if (!m || Number(m[1]) < 1 || Number(m[2]) > 65535 || Number(m[1]) > Number(m[2])) {
      throw new ProxyError('INVALID_PROXY_OPTIONS', `userspace port range must be low-high, got "${opts.portRange}"`);
    }
    this.lo = Number(m[1]);
    this.hi = Number(m[2]);
    this.nodeIPs = [...(opts.nodeIPs ?? [])];
  }

  setNode(ctx: NodeContext): void {
    this.nodeIPs = [...ctx.nodeIPs];
  }

  /** The listener port of `key`, allocated on first use (the lowest free one). */
  private portFor(key: string): number {
    let p = this.ports.get(key);
    if (p !== undefined) return p;
    for (p = this.lo; p <= this.hi && this.used.has(p); p++) { /* next */ }
    if (p > this.hi) throw new ProxyError('KERNEL_COMMAND_FAILED', `userspace proxy: no free listener port in ${this.lo}-${this.hi}`);
    this.used.add(p);
    this.ports.set(key, p);
    return p;
  }

  /** Renders the redirects and listeners of one Service (allocates listener ports on first use). */
  renderService(state: ServiceState): UserspaceFragment {
    const f: UserspaceFragment = { elements: [], listeners: [] };
    for (const sp of state.ports) {
      if (sp.protocol === 'SCTP') continue;
      const cat = categorizeEndpoints(state.endpoints.get(portKey(sp.portName, sp.protocol)) ?? [], sp, state.zone);
      const eps = sp.internalPolicyLocal ? cat.local : cat.cluster;
      if (eps.length === 0) continue;
      const key = listenerKey(sp);
      const port = this.portFor(key);
      const proto = sp.protocol.toLowerCase();
      f.listeners.push({
        key, protocol: sp.protocol as 'TCP' | 'UDP', port, endpoints: eps.map((e) => [e.ip, e.port]),
        ...(sp.affinityTimeoutSeconds !== undefined ? { affinitySeconds: sp.affinityTimeoutSeconds } : {}),
      });
      const comment = servicePortName(sp);
      for (const ip of [sp.clusterIP, ...(sp.externalIPs ?? [])]) f.elements.push({ map: 'portals', key: `${ip} . ${proto} . ${sp.port}`, value: String(port), comment });
      if (sp.nodePort !== undefined) f.elements.push({ map: 'nodeport-portals', key: `${proto} . ${sp.nodePort}`, value: String(port), comment });
    }
    return f;
  }

  plan(desired: ReadonlyMap<string, ServiceState>, changed: ReadonlySet<string>, full: boolean, existing?: KernelInventory): SyncPlan {
    const t = this.t;
    const next = new PendingMap(full ? new Map<string, UserspaceFragment>() : this.written);
    const keys = full ? [...desired.keys()] : [...changed];
    const del = new Map<string, string[]>();
    const add = new Map<string, string[]>();
    const note = (m: Map<string, string[]>, map: string, text: string): void => { let l = m.get(map); if (!l) m.set(map, l = []); l.push(text); };
    const id = (e: Element): string => `${e.map}|${e.key}|${e.value}|${e.comment ?? ''}`;
    for (const key of keys.sort()) {
      const old = full ? undefined : this.written.get(key);
      const state = desired.get(key);
      const frag = state ? this.renderService(state) : undefined;
      if (frag && (frag.elements.length || frag.listeners.length)) next.set(key, frag);
      else next.delete(key);
      const before = new Map((old?.elements ?? []).map((e) => [id(e), e]));
      const after = new Map((frag?.elements ?? []).map((e) => [id(e), e]));
      for (const [k, e] of before) if (!after.has(k)) note(del, e.map, e.key);
      for (const [k, e] of after) if (!before.has(k)) note(add, e.map, `${e.key}${e.comment ? ` comment "${e.comment}"` : ''} : ${e.value}`);
    }
    const out: string[] = [];
    if (full) {
      void existing;
      out.push(`add table ${t}`);
      out.push(`add map ${t} portals { type ipv4_addr . inet_proto . inet_service : inet_service ; comment "Service VIP . proto . port : userspace listener port" ; }`);
      out.push(`add map ${t} nodeport-portals { type inet_proto . inet_service : inet_service ; comment "NodePort : userspace listener port" ; }`);
      out.push(`add set ${t} nodeport-ips { type ipv4_addr ; comment "This node's addresses that accept NodePorts" ; }`);
      out.push(`flush map ${t} portals`, `flush map ${t} nodeport-portals`, `flush set ${t} nodeport-ips`);
      if (this.nodeIPs.length) out.push(`add element ${t} nodeport-ips { ${this.nodeIPs.join(' , ')} }`);
      const rules = [
        'meta l4proto { tcp, udp } redirect to : ip daddr . meta l4proto . th dport map @portals',
        'ip daddr @nodeport-ips meta l4proto { tcp, udp } redirect to : meta l4proto . th dport map @nodeport-portals',
      ];
      for (const [chain, hook] of [['prerouting', 'prerouting'], ['output', 'output']] as const) {
        out.push(`add chain ${t} ${chain} { type nat hook ${hook} priority -100 ; }`, `flush chain ${t} ${chain}`);
        for (const r of rules) out.push(`add rule ${t} ${chain} ${r}`);
      }
    }
    for (const [map, els] of del) out.push(`delete element ${t} ${map} { ${els.join(' , ')} }`);
    for (const [map, els] of add) out.push(`add element ${t} ${map} { ${els.join(' , ')} }`);
    // The helper is given the whole listener table each time (it keeps open connections of ports that stay).
    const listeners: ListenerSpec[] = [];
    for (const k of next.keys()) for (const l of next.get(k)!.listeners) listeners.push(l);
    const changedListeners = full || keys.some((k) => JSON.stringify(this.written.get(k)?.listeners ?? []) !== JSON.stringify(next.get(k)?.listeners ?? []));
    this.pendingListeners = changedListeners ? listeners : undefined;
    const text = out.length ? out.join('\n') + '\n' : '';
    return {
      // A listener change with no redirect change is still a transaction (of listeners).
      text: text || (changedListeners ? '# listeners\n' : ''),
      commit: () => {
        this.written = next.commit();
        // Ports of Service ports that are gone return to the pool.
        const live = new Set<string>();
        for (const frag of this.written.values()) for (const l of frag.listeners) live.add(l.key);
        for (const [k, p] of this.ports) if (!live.has(k)) { this.ports.delete(k); this.used.delete(p); }
      },
    };
  }

  rulesFor(key: string): string {
    const f = this.written.get(key);
    if (!f) return '';
    const lines = f.elements.map((e) => `add element ${this.t} ${e.map} { ${e.key} : ${e.value} }`);
    for (const l of f.listeners) lines.push(`# listener ${l.key} on 0.0.0.0:${l.port}/${l.protocol} → ${l.endpoints.map(([ip, p]) => `${ip}:${p}`).join(', ')}${l.affinitySeconds ? ` (ClientIP affinity ${l.affinitySeconds}s)` : ''}`);
    return lines.join('\n') + '\n';
  }

  async inventory(): Promise<KernelInventory> {
    return { chains: new Set(), sets: new Set() };
  }

  async apply(text: string): Promise<void> {
    const listeners = this.pendingListeners;
    this.pendingListeners = undefined;
    if (listeners) {
      if (!this.opts.helper) throw new ProxyError('INVALID_PROXY_OPTIONS', 'userspace proxier has no node helper');
      const errors = await this.opts.helper.setListeners(listeners);
      if (errors.length) throw new ProxyError('KERNEL_COMMAND_FAILED', `userspace listeners: ${errors.join('; ')}`);
    }
    const nft = text.split('\n').filter((l) => l && !l.startsWith('#')).join('\n');
    if (!nft) return;
    const r = await this.exec()(['nft', '-f', '-'], `${nft}\n`);
    if (r.code !== 0) throw new ProxyError('KERNEL_COMMAND_FAILED', `nft -f - exited ${r.code}: ${r.stderr.trim().slice(0, 2000)}`);
  }

  async flushAll(): Promise<void> {
    const r = await this.exec()(['nft', 'delete', 'table', 'ip', USERSPACE_TABLE]);
    if (r.code !== 0 && !/No such file or directory/.test(r.stderr)) {
      throw new ProxyError('KERNEL_COMMAND_FAILED', `nft delete table exited ${r.code}: ${r.stderr.trim()}`);
    }
    await this.opts.helper?.setListeners([]);
    this.reset();
  }

  reset(): void {
    this.written = new Map();
  }

  async close(): Promise<void> {
    // The helper (and with it the listeners) belongs to the proxy, which closes it.
  }

  private exec(): NetnsExec {
    if (!this.opts.exec) throw new ProxyError('INVALID_PROXY_OPTIONS', 'userspace proxier has no executor');
    return this.opts.exec;
  }
}

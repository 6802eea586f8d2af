/**
 * The service proxy: watches Services and EndpointSlices and keeps the node namespace's kernel
 * rules equal to them, as kube-proxy does. Informer handlers only record changes in the trackers
 * and poke a bounded-frequency runner; the one sync function folds the changes in, asks the backend
 * for one transaction (a difference against what it wrote, or everything after an error), applies
 * it atomically inside the node namespace, then cleans stale UDP conntrack entries and records
 * metrics. Nothing is programmed until both informers have synced, so partial data never reaches
 * the kernel.
 */
import type { Node, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Client } from '../client/client.js';
import { Informer } from '../client/informer.js';
import { R } from '../api/resources.js';
import { ServiceChangeTracker } from './servicechange.js';
import { EndpointsChangeTracker, type ServiceEndpoints } from './endpointschange.js';
import { BoundedFrequencyRunner, realClock, type Clock } from './runner.js';
import type { NodeContext, ProxyBackend, ServicePort, ServiceState } from './types.js';
import { categorizeEndpoints, portKey } from './types.js';
import { NftablesProxier } from './nftables/proxier.js';
import { IptablesProxier } from './iptables/proxier.js';
import { UserspaceProxier } from './userspace/proxier.js';
import { NodeHelper, type HealthEntry } from './nodeside/helper.js';
import { netnsExec, netnsSpawn, type NetnsExec, type NetnsSpawn } from './exec.js';
import { trimEndpointSlice, trimService } from './trim.js';
import { ProxyMetrics } from './metrics.js';
import { clearStaleFlows, staleUdpFlows } from './conntrack.js';
import { ProxyError } from './errors.js';
import { recordEvent, sessionRestartEvent } from './events.js';
import type { SessionRestart } from './session.js';

export type ProxyMode = 'nftables' | 'iptables' | 'userspace';

/** The proxy modes, for flag validation and help. */
export const PROXY_MODES: readonly ProxyMode[] = ['nftables', 'iptables', 'userspace'];

/** The Node label that names the node's zone (topology hints, trafficDistribution). */
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

export interface ProxyOptions {
  client: Client;
  /** This node's name (for logs; ClusterIP rules do not depend on it). */
  nodeName: string;
  /** The node's network namespace; it must exist. Every rule goes there and nowhere else. */
  netns: string;
  /** Backend. */
  mode: ProxyMode;
  /** Service CIDR, e.g. 10.96.0.0/12: traffic to it that matches no Service port is rejected or dropped. */
  serviceCIDR: string;
  /** Cluster-wide Pod CIDR, e.g. 10.244.0.0/16: traffic to a ClusterIP from elsewhere is masqueraded. */
  podCIDR: string;
  /**
   * The node's addresses that accept NodePorts (kube-proxy's `--nodeport-addresses primary`).
   * Default: the InternalIP addresses of this proxy's Node object, followed as they change.
   */
  nodeIPs?: string[];
  /** userspace mode: ports its listeners take, `low-high` (default 20000-29999). */
  userspacePortRange?: string;
  /** Minimum time between syncs (ms). Default 0: a sync starts as soon as the previous one ends,
   *  bursts arriving meanwhile coalesce into the next one (kube-proxy: 1 s, for far costlier syncs). */
  minSyncPeriodMs?: number;
  /** Delay before retrying a failed sync (ms). Default 1000. */
  retrySyncPeriodMs?: number;
  /** Periodic resync even without changes (ms). Default 30 000 (kube-proxy's syncPeriod). */
  syncPeriodMs?: number;
  clock?: Clock;
  /** Command runner inside `netns` (tests only). Default: `ip netns exec <netns> ...`. */
  exec?: NetnsExec;
  /**
   * Starter of long-lived processes inside `netns` (the `nft -i` / `iptables-restore` session). Default:
   * `ip netns exec <netns> ...` — unless `exec` is given, in which case every transaction goes
   * through `exec`.
   */
  spawn?: NetnsSpawn;
  /** Called after each sync whose transaction the kernel accepted (observability, benchmarks). */
  onSync?(report: SyncReport): void;
  /** Called with each sync failure (the proxy retries on its own). Default: console.error. */
  onError?(err: unknown): void;
  /** Called with the new status after every sync the kernel accepted and every failed one. */
  onStatus?(status: ProxyStatus): void;
}

/**
 * What the proxy's syncs did, for `clusterip explain` / `diagnose` (kube-proxy shows the like on
 * its /healthz: lastUpdated, currentTime). Times are wall-clock ISO strings.
 */
export interface ProxyStatus {
  node: string;
  mode: ProxyMode;
  /** Successful syncs so far. */
  syncs: number;
  /** End of the last sync the kernel accepted. */
  lastSyncAt?: string;
  /** End of the last full sync the kernel accepted. */
  lastFullSyncAt?: string;
  /** Duration of the last accepted sync, ms. */
  lastSyncMs?: number;
  /** The last failed sync (kept after later successes; compare its time with lastSyncAt). */
  lastError?: { at: string; message: string };
  /** Failed syncs since the last accepted one (0 when the kernel holds every change seen so far, or one is on its way). */
  failuresSinceSync: number;
}

/** One successful sync, as reported to `onSync`. */
export interface SyncReport {
  /** Everything was rewritten (the first sync, and the one after a failure). */
  full: boolean;
  /** Keys (`namespace/name`) of the Services whose rules this sync changed (empty for a full one). */
  services: ReadonlySet<string>;
  /** The transaction text sent to the kernel ('' when nothing needed changing). */
  transaction: string;
  /** From the start of the sync to the kernel's acceptance of the transaction. */
  durationMs: number;
}

export interface Proxy {
  readonly mode: ProxyMode;
  /** Stops watching. `flush: true` removes every rule the proxy made; otherwise the rules stay so a
   *  restarted proxy takes over without dropping a flow. */
  stop(opts?: { flush?: boolean }): Promise<void>;
  /** The rules of one Service as last written (nft / iptables-save text); '' when it has none. */
  rulesFor(namespace: string, name: string): Promise<string>;
  /** Prometheus text exposition of the kubeproxy_* metrics (metrics.ts). */
  metricsText(): Promise<string>;
  /** Resolves when every change seen so far is in the kernel (waits through retries after failures; resolves at once after stop). */
  whenIdle(): Promise<void>;
  /** Number of successful syncs so far. */
  readonly syncCount: number;
  /** The last syncs' times and errors. */
  status(): ProxyStatus;
}

const CIDR_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

function validate(opts: ProxyOptions): void {
  const bad = (m: string): never => { throw new ProxyError('INVALID_PROXY_OPTIONS', m); };
  if (!opts.netns || !/^[A-Za-z0-9_.-]+$/.test(opts.netns)) bad(`netns must be a namespace name, got "${opts.netns}"`);
  if (!PROXY_MODES.includes(opts.mode)) bad(`mode must be one of ${PROXY_MODES.join(', ')}, got "${String(opts.mode)}"`);
  for (const ip of opts.nodeIPs ?? []) if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip)) bad(`nodeIPs must be IPv4 addresses, got "${ip}"`);
  for (const [k, v] of [['serviceCIDR', opts.serviceCIDR], ['podCIDR', opts.podCIDR]] as const) {
    const m = CIDR_RE.exec(v ?? '');
    if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32) bad(`${k} must be an IPv4 CIDR, got "${v}"`);
  }
  if (opts.minSyncPeriodMs !== undefined && !(opts.minSyncPeriodMs >= 0)) bad('minSyncPeriodMs must be >= 0');
}

/** Starts the proxy; resolves once informers started (rules follow once both have synced). */
export async function startProxy(opts: ProxyOptions): Promise<Proxy> {
  validate(opts);
  const p = new ServiceProxy(opts);
  await p.start();
  return p;
}

class ServiceProxy implements Proxy {
  readonly mode: ProxyMode;
  private readonly backend: ProxyBackend;
  private readonly exec: NetnsExec;
  private readonly clock: Clock;
  private readonly services: Informer<Service>;
  private readonly slices: Informer<EndpointSlice>;
  /** This proxy's own Node: its zone label and (without `nodeIPs`) its addresses. */
  private readonly nodes: Informer<Node>;
  private readonly svcTracker = new ServiceChangeTracker();
  private readonly epTracker: EndpointsChangeTracker;
  /** The proxy's process in the node namespace (health checks; userspace listeners), when it can start one. */
  private readonly helper?: NodeHelper;
  private node: NodeContext & { zone?: string };
  /** healthCheckNodePorts as last given to the helper (JSON), to skip unchanged updates. */
  private lastHealth = '[]';
  private readonly runner: BoundedFrequencyRunner;
  private readonly metrics: ProxyMetrics;
  private readonly svcPorts = new Map<string, ServicePort[]>();
  private readonly svcEndpoints = new Map<string, ServiceEndpoints>();
  /** Desired state per Service key (only Services with ports). */
  private readonly desired = new Map<string, ServiceState>();
  /**
   * Keys of desired Services with a healthCheckNodePort: each sync builds the health-check table
   * from these alone, so a sync's cost does not grow with the Services that have none.
   */
  private readonly healthKeys = new Set<string>();
  /** State last written to the kernel per Service key (for conntrack cleanup). */
  private readonly programmed = new Map<string, ServiceState>();
  /** Keys changed since the last successful sync (kept across failures). */
  private readonly pendingChanged = new Set<string>();
  private readonly pendingTriggers = new Map<string, number>();
  private needFull = true;
  private stopped = false;
  private syncs = 0;
  private readonly st: ProxyStatus;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(private readonly opts: ProxyOptions) {
    this.mode = opts.mode;
    this.st = { node: opts.nodeName, mode: opts.mode, syncs: 0, failuresSinceSync: 0 };
    this.exec = opts.exec ?? netnsExec(opts.netns);
    this.clock = opts.clock ?? realClock;
    this.metrics = new ProxyMetrics(opts.mode);
    const spawn = opts.spawn ?? (opts.exec ? undefined : netnsSpawn(opts.netns));
    if (spawn) this.helper = new NodeHelper(spawn);
    this.node = { nodeIPs: [...(opts.nodeIPs ?? [])] };
    this.epTracker = new EndpointsChangeTracker(opts.nodeName);
    // The session is supervised: restarted with backoff when it dies on its own, with an Event.
    const supervise = {
      onRestart: (r: SessionRestart) => {
        console.error(`proxy ${opts.nodeName}: ${r.tool} ${r.why}; restart ${r.restarts} in ${r.delayMs} ms`);
        void recordEvent(opts.client, sessionRestartEvent(opts.nodeName, opts.netns, r, new Date(this.clock.now()).toISOString()));
      },
    };
    const common = { serviceCIDR: opts.serviceCIDR, podCIDR: opts.podCIDR, exec: this.exec, nodeIPs: this.node.nodeIPs, supervise };
    this.backend = opts.mode === 'nftables' ? new NftablesProxier({ ...common, spawn })
      : opts.mode === 'iptables' ? new IptablesProxier({ ...common, spawn })
        : new UserspaceProxier({ exec: this.exec, helper: this.helper, nodeIPs: this.node.nodeIPs, portRange: opts.userspacePortRange });
    this.services = new Informer<Service>(opts.client, R.services, { transform: trimService });
    this.slices = new Informer<EndpointSlice>(opts.client, R.endpointslices, { transform: trimEndpointSlice });
    this.nodes = new Informer<Node>(opts.client, R.nodes, { fieldSelector: `metadata.name=${opts.nodeName}` });
    this.nodes.addHandlers({
      onAdd: (n) => this.nodeEvent(n),
      onUpdate: (_o, n) => this.nodeEvent(n),
      onDelete: () => undefined,
    });
    this.services.addHandlers({
      onAdd: (s) => this.serviceEvent(undefined, s),
      onUpdate: (o, s) => this.serviceEvent(o, s),
      onDelete: (s) => this.serviceEvent(s, undefined),
    });
    this.slices.addHandlers({
      onAdd: (s) => this.sliceEvent(undefined, s),
      onUpdate: (o, s) => this.sliceEvent(o, s),
      onDelete: (s) => this.sliceEvent(s, undefined),
    });
    this.runner = new BoundedFrequencyRunner(() => this.track(this.sync()), {
      minIntervalMs: opts.minSyncPeriodMs ?? 0,
      retryIntervalMs: opts.retrySyncPeriodMs ?? 1000,
      maxIntervalMs: opts.syncPeriodMs ?? 30_000,
      clock: this.clock,
      onError: (e) => {
        this.metrics.syncFailed();
        this.st.lastError = { at: new Date().toISOString(), message: e instanceof Error ? e.message : String(e) };
        this.st.failuresSinceSync++;
        this.notifyStatus();
        (opts.onError ?? ((err) => console.error(`proxy ${opts.nodeName}: sync failed:`, err)))(e);
      },
    });
  }

  private serviceEvent(previous: Service | undefined, current: Service | undefined): void {
    this.svcTracker.update(previous, current);
    this.metrics.servicesChanged(this.svcTracker.pendingCount);
    this.kick();
  }

  /**
   * This node's zone (topology hints) and addresses (NodePorts, unless given as `nodeIPs`) come
   * from its Node object, as kube-proxy's; a change rewrites every Service's rules (a full sync).
   */
  private nodeEvent(n: Node): void {
    if (n.metadata?.name !== this.opts.nodeName) return;
    const zone = n.metadata?.labels?.[ZONE_LABEL] || undefined;
    const ips = this.opts.nodeIPs ?? (n.status?.addresses ?? []).filter((a) => a.type === 'InternalIP' && /^\d+\.\d+\.\d+\.\d+$/.test(a.address)).map((a) => a.address);
    if (zone === this.node.zone && ips.join(',') === this.node.nodeIPs.join(',')) return;
    this.node = { nodeIPs: ips, ...(zone ? { zone } : {}) };
    this.backend.setNode?.(this.node);
    this.needFull = true;
    // Zone changes reach every Service's endpoint choice: re-derive all states.
    for (const k of this.svcPorts.keys()) this.pendingChanged.add(k);
    this.kick();
  }

  private sliceEvent(previous: EndpointSlice | undefined, current: EndpointSlice | undefined): void {
    this.epTracker.update(previous, current);
    this.metrics.endpointsChanged(this.epTracker.pendingCount);
    this.kick();
  }

  async start(): Promise<void> {
    await Promise.all([this.services.start(), this.slices.start(), this.nodes.start()]);
    this.kick();
  }

  private kick(): void {
    // Never act on partial state: until both informers have listed, changes just accumulate.
    if (this.services.hasSynced() && this.slices.hasSynced()) {
      this.metrics.queued(this.clock.now() / 1000);
      this.runner.run();
    }
  }

  private track(p: Promise<void>): Promise<void> {
    this.inFlight = p.catch(() => undefined);
    return p;
  }

  private stateOf(key: string): ServiceState | undefined {
    const ports = this.svcPorts.get(key);
    if (!ports || ports.length === 0) return undefined;
    return { key, ports, endpoints: this.svcEndpoints.get(key) ?? new Map(), ...(this.node.zone ? { zone: this.node.zone } : {}) };
  }

  private async sync(): Promise<void> {
    if (this.stopped || !this.services.hasSynced() || !this.slices.hasSynced()) return;
    const start = this.clock.now();
    for (const k of this.svcTracker.apply(this.svcPorts)) this.pendingChanged.add(k);
    const ep = this.epTracker.apply(this.svcEndpoints);
    this.metrics.pendingFolded();
    for (const k of ep.changed) this.pendingChanged.add(k);
    for (const [k, t] of ep.triggerTimes) {
      const prev = this.pendingTriggers.get(k);
      if (prev === undefined || t < prev) this.pendingTriggers.set(k, t);
    }
    const full = this.needFull;
    if (!full && this.pendingChanged.size === 0) return;
    for (const k of this.pendingChanged) {
      const s = this.stateOf(k);
      if (s) this.desired.set(k, s);
      else this.desired.delete(k);
      if (s?.ports.some((p) => p.healthCheckNodePort !== undefined)) this.healthKeys.add(k);
      else this.healthKeys.delete(k);
    }
    const changed = new Set(this.pendingChanged);
    let plan;
    try {
      const inventory = full ? await this.backend.inventory() : undefined;
      plan = this.backend.plan(this.desired, changed, full, inventory);
      await this.backend.apply(plan.text);
    } catch (err) {
      // The kernel may hold anything now: forget the model so the next sync rewrites everything.
      this.needFull = true;
      this.backend.reset();
      throw err;
    }
    plan.commit();
    this.needFull = false;
    const end = this.clock.now();
    this.syncs++;
    const at = new Date().toISOString();
    Object.assign(this.st, { syncs: this.syncs, lastSyncAt: at, lastSyncMs: end - start, failuresSinceSync: 0 }, full ? { lastFullSyncAt: at } : {});
    this.notifyStatus();

    const flows = [];
    const touched = full ? new Set([...this.programmed.keys(), ...this.desired.keys()]) : changed;
    for (const k of touched) {
      flows.push(...staleUdpFlows(this.programmed.get(k), this.desired.get(k)));
      const s = this.desired.get(k);
      if (s) this.programmed.set(k, s);
      else this.programmed.delete(k);
    }
    for (const k of changed) this.pendingChanged.delete(k);
    try {
      this.opts.onSync?.({ full, services: full ? new Set() : changed, transaction: plan.text, durationMs: end - start });
    } catch (err) {
      // An observer's bug must not turn a sync the kernel accepted into a failure.
      console.error(`proxy ${this.opts.nodeName}: onSync failed:`, err);
    }

    this.metrics.synced(full, (end - start) / 1000, end, this.pendingTriggers.values());
    this.pendingTriggers.clear();
    if (flows.length) await clearStaleFlows(this.exec, flows);
    await this.syncHealthChecks();
  }

  /**
   * The healthCheckNodePort servers (LoadBalancer + externalTrafficPolicy Local): one per Service,
   * answering with the number of this node's endpoints, as kube-proxy's service health server.
   */
  private async syncHealthChecks(): Promise<void> {
    if (!this.helper) return;
    const entries: HealthEntry[] = [];
    for (const k of this.healthKeys) {
      const s = this.desired.get(k)!;
      const sp = s.ports.find((p) => p.healthCheckNodePort !== undefined);
      if (!sp) continue;
      const local = categorizeEndpoints(s.endpoints.get(portKey(sp.portName, sp.protocol)) ?? [], sp, s.zone).local;
      entries.push({ port: sp.healthCheckNodePort!, namespace: sp.namespace, name: sp.name, localEndpoints: local.length });
    }
    entries.sort((a, b) => a.port - b.port);
    const text = JSON.stringify(entries);
    if (text === this.lastHealth) return;
    const errors = await this.helper.setHealth(entries);
    this.lastHealth = text;
    if (errors.length) (this.opts.onError ?? ((err) => console.error(`proxy ${this.opts.nodeName}:`, err)))(new ProxyError('KERNEL_COMMAND_FAILED', `health checks: ${errors.join('; ')}`));
  }

  async stop(opts: { flush?: boolean } = {}): Promise<void> {
    this.stopped = true;
    this.runner.stop();
    this.services.stop();
    this.slices.stop();
    this.nodes.stop();
    await this.inFlight;
    try {
      if (opts.flush) await this.backend.flushAll();
    } finally {
      await this.backend.close();
      await this.helper?.close();
    }
  }

  async rulesFor(namespace: string, name: string): Promise<string> {
    return this.backend.rulesFor(`${namespace}/${name}`);
  }

  metricsText(): Promise<string> {
    return this.metrics.text();
  }

  status(): ProxyStatus {
    return { ...this.st, ...(this.st.lastError ? { lastError: { ...this.st.lastError } } : {}) };
  }

  private notifyStatus(): void {
    try {
      this.opts.onStatus?.(this.status());
    } catch (err) {
      console.error(`proxy ${this.opts.nodeName}: onStatus failed:`, err);
    }
  }

  async whenIdle(): Promise<void> {
    await this.runner.whenIdle();
    await this.inFlight;
  }

  get syncCount(): number {
    return this.syncs;
  }
}

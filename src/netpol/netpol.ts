/**
 * `startNetworkPolicy`: NetworkPolicy enforcement on one node, started by the cluster beside the
 * proxy. Informers (NetworkPolicies, Pods, Namespaces) feed a `PolicySyncer`; a bounded-frequency
 * runner (the proxy's) coalesces bursts into one sync = one nft transaction; nothing is written
 * before all three informers have listed, so a partial view (every Pod isolated, no allow rule
 * known yet) never reaches the kernel. On a joined node the agent reads with the node's
 * credentials: the bootstrap RBAC policy grants system:nodes list/watch of networkpolicies, pods
 * and namespaces (system:clusterip-network-policy).
 */
import type { Namespace, Pod } from 'kubernetes-types/core/v1.js';
import type { NetworkPolicy } from 'kubernetes-types/networking/v1.js';
import { R } from '../api/resources.js';
import type { Client } from '../client/client.js';
import { Informer } from '../client/informer.js';
import { netnsExec, netnsSpawn, type NetnsExec, type NetnsSpawn } from '../proxy/exec.js';
import { NftSession } from '../proxy/nftables/session.js';
import { BoundedFrequencyRunner, realClock, type Clock } from '../proxy/runner.js';
import { namespaceInfo, podInfo, policyInfo } from './model.js';
import { NetworkPolicyError, PolicySyncer, type SyncResult } from './syncer.js';

export interface NetworkPolicyOptions {
  client: Client;
  nodeName: string;
  /** The node's network namespace (it must exist); the table goes there and nowhere else. */
  netns: string;
  /** Periodic full resync (ms). Default 60 000. */
  syncPeriodMs?: number;
  /** Delay before retrying a failed sync (ms). Default 1000. */
  retrySyncPeriodMs?: number;
  clock?: Clock;
  /** Command runner in `netns` (tests). */
  exec?: NetnsExec;
  spawn?: NetnsSpawn;
  onSync?(r: SyncResult): void;
  onError?(err: unknown): void;
}

export interface NetworkPolicyStatus {
  node: string;
  syncs: number;
  lastSyncAt?: string;
  lastSyncMs?: number;
  lastError?: { at: string; message: string };
}

export interface NetworkPolicyEnforcer {
  /** Stops watching; `flush: true` removes the table (otherwise it stays, as the proxy's rules do). */
  stop(opts?: { flush?: boolean }): Promise<void>;
  /** Resolves when every change seen so far is in the kernel. */
  whenIdle(): Promise<void>;
  status(): NetworkPolicyStatus;
}

/** A Pod reduced to what enforcement reads. */
function trimPod(p: Pod): Pod {
  return {
    metadata: { name: p.metadata?.name, namespace: p.metadata?.namespace, labels: p.metadata?.labels, resourceVersion: p.metadata?.resourceVersion },
    spec: { nodeName: p.spec?.nodeName, hostNetwork: p.spec?.hostNetwork, containers: (p.spec?.containers ?? []).map((c) => ({ name: c.name, ports: c.ports?.filter((x) => x.name) })) },
    status: { podIP: p.status?.podIP, phase: p.status?.phase },
  };
}

export async function startNetworkPolicy(opts: NetworkPolicyOptions): Promise<NetworkPolicyEnforcer> {
  if (!opts.netns || !/^[A-Za-z0-9_.-]+$/.test(opts.netns)) throw new NetworkPolicyError('INVALID_OPTIONS', `netns must be a namespace name, got "${opts.netns}"`);
  const e = new Enforcer(opts);
  await e.start();
  return e;
}

class Enforcer implements NetworkPolicyEnforcer {
  private readonly syncer: PolicySyncer;
  private readonly session?: NftSession;
  private readonly policies: Informer<NetworkPolicy>;
  private readonly pods: Informer<Pod>;
  private readonly namespaces: Informer<Namespace>;
  private readonly runner: BoundedFrequencyRunner;
  private readonly st: NetworkPolicyStatus;
  private inFlight: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private lastFull = 0;

  constructor(private readonly opts: NetworkPolicyOptions) {
    const exec = opts.exec ?? netnsExec(opts.netns);
    const spawn = opts.spawn ?? (opts.exec ? undefined : netnsSpawn(opts.netns));
    if (spawn) {
      this.session = new NftSession(spawn, {
        supervise: { onRestart: (r) => console.error(`networkpolicy ${opts.nodeName}: ${r.tool} ${r.why}; restart ${r.restarts} in ${r.delayMs} ms`) },
      });
    }
    this.syncer = new PolicySyncer(opts.nodeName, exec, this.session);
    this.st = { node: opts.nodeName, syncs: 0 };
    const clock = opts.clock ?? realClock;
    const period = opts.syncPeriodMs ?? 60_000;
    this.runner = new BoundedFrequencyRunner(() => this.sync(clock, period), {
      retryIntervalMs: opts.retrySyncPeriodMs ?? 1000, maxIntervalMs: period, clock,
      onError: (err) => {
        this.st.lastError = { at: new Date().toISOString(), message: err instanceof Error ? err.message : String(err) };
        (opts.onError ?? ((x) => console.error(`networkpolicy ${opts.nodeName}: sync failed:`, x)))(err);
      },
    });
    this.policies = new Informer<NetworkPolicy>(opts.client, R.networkpolicies);
    this.pods = new Informer<Pod>(opts.client, R.pods, { transform: trimPod });
    this.namespaces = new Informer<Namespace>(opts.client, R.namespaces);
    const key = (o: { metadata?: { namespace?: string; name?: string } }): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
    this.policies.addHandlers({
      onAdd: (p) => { this.syncer.policyChanged(key(p), policyInfo(p)); this.kick(); },
      onUpdate: (_o, p) => { this.syncer.policyChanged(key(p), policyInfo(p)); this.kick(); },
      onDelete: (p) => { this.syncer.policyChanged(key(p), undefined); this.kick(); },
    });
    this.pods.addHandlers({
      onAdd: (p) => { if (this.syncer.podChanged(undefined, podInfo(p))) this.kick(); },
      onUpdate: (o, p) => { if (this.syncer.podChanged(podInfo(o), podInfo(p))) this.kick(); },
      onDelete: (p) => { if (this.syncer.podChanged(podInfo(p), undefined)) this.kick(); },
    });
    this.namespaces.addHandlers({
      onAdd: (n) => { if (this.syncer.namespaceChanged(undefined, namespaceInfo(n))) this.kick(); },
      onUpdate: (o, n) => { if (this.syncer.namespaceChanged(namespaceInfo(o), namespaceInfo(n))) this.kick(); },
      onDelete: (n) => { if (this.syncer.namespaceChanged(namespaceInfo(n), undefined)) this.kick(); },
    });
  }

  /**
   * Starts the informers without waiting for their first lists: a node whose credentials may not
   * list what it enforces (RBAC) must still start; it programs nothing until all three have listed.
   */
  async start(): Promise<void> {
    void Promise.all([this.policies.start(), this.pods.start(), this.namespaces.start()]).then(() => this.kick());
  }

  private synced(): boolean {
    return this.policies.hasSynced() && this.pods.hasSynced() && this.namespaces.hasSynced();
  }

  private kick(): void {
    if (!this.stopped && this.synced()) this.runner.run();
  }

  private async sync(clock: Clock, period: number): Promise<void> {
    if (this.stopped || !this.synced()) return;
    // The runner also calls at least once a period: that call is a full resync, as the proxy's.
    if (clock.now() - this.lastFull >= period) this.syncer.forceFull();
    if (!this.syncer.pending) return;
    const p = this.syncer.sync();
    this.inFlight = p.catch(() => undefined);
    const r = await p;
    if (r.full) this.lastFull = clock.now();
    this.st.syncs++;
    this.st.lastSyncAt = new Date().toISOString();
    this.st.lastSyncMs = r.durationMs;
    try { this.opts.onSync?.(r); } catch (err) { console.error(`networkpolicy ${this.opts.nodeName}: onSync failed:`, err); }
  }

  async stop(o: { flush?: boolean } = {}): Promise<void> {
    this.stopped = true;
    this.runner.stop();
    this.policies.stop();
    this.pods.stop();
    this.namespaces.stop();
    await this.inFlight;
    try {
      if (o.flush) await this.syncer.flush();
    } finally {
      await this.session?.close();
    }
  }

  async whenIdle(): Promise<void> {
    await this.runner.whenIdle();
    await this.inFlight;
  }

  status(): NetworkPolicyStatus {
    return { ...this.st, ...(this.st.lastError ? { lastError: { ...this.st.lastError } } : {}) };
  }
}

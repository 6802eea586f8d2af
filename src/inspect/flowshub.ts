/**
 * The daemon's flow source: one NodeFlowCollector per node namespace, the name tables, a bounded
 * ring of recent flows, live subscribers (the `/debug/clusterip/flows?follow=1` streams), and the
 * accounting that turns every connection the kernel counted into a shown flow or a counted loss.
 *
 * Bounds: the ring keeps the last `ringSize` connections (new and refused; a destroy event updates
 * its connection in place). A subscriber gets every event matching its filter; what it cannot take
 * (its `deliver` returns false) is counted for it, never silently skipped.
 */
import type { Client } from '../client/client.js';
import { AffinityMemory, flowFromConntrack, flowFromRefusal } from './flowsclassify.js';
import { NodeFlowCollector } from './flowscollector.js';
import { matchesFlow } from './flowsfilter.js';
import type { FlowFilter, FlowList, FlowRecord, FlowStats, NodeFlowStats } from './flowsmodel.js';
import { NameIndex, type NameTables } from './flowsnames.js';

export interface FlowHubOptions {
  client: Client;
  nodes: readonly { name: string; netns: string }[];
  serviceCIDR: string;
  /** Addresses of nodes and the outside host → their names (`node NAME`, `outside`). */
  hosts?: ReadonlyMap<string, string>;
  /** Recent connections kept for listings. Default 5000. */
  ringSize?: number;
  /** Called with every new flow (the trace recorder's first-connection feed). Must not throw. */
  onFlow?: (f: FlowRecord) => void;
  /** Tests: name tables instead of informers (no API). */
  names?: NameTables;
  /** Per-node new connections a second above which events are shed (NodeFlowCollector). */
  maxRate?: number;
}

/** How long a node's events must have been quiet before its losses are counted (see reconcile). */
const QUIET_MS = 500;

export interface FlowSubscriber {
  filter: FlowFilter;
  /** Takes one flow; returns false when it could not (its reader is too slow) — then it is counted. */
  deliver(f: FlowRecord): boolean;
  dropped: number;
}

interface NodeCounters {
  seenNew: number; destroyed: number; refused: number; overruns: number; lost: number;
  /** Times events were shed (rate limit). */
  sheds: number;
  base?: { kernel: number; seen: number }; lastKernel?: number; lastEventAt: number;
}

export class FlowHub {
  private readonly collectors: NodeFlowCollector[] = [];
  private readonly names: NameTables & { start?: () => Promise<void>; stop?: () => void };
  private readonly ring: (FlowRecord | undefined)[];
  private next = 0;
  private readonly byId = new Map<string, FlowRecord>();
  private readonly subscribers = new Set<FlowSubscriber>();
  private readonly counters = new Map<string, NodeCounters>();
  private readonly affinity = new AffinityMemory();
  private refusedSeq = 0;
  private reconcileTimer?: NodeJS.Timeout;

  constructor(private readonly opts: FlowHubOptions) {
    this.names = opts.names ?? new NameIndex(opts.client);
    for (const [ip, name] of opts.hosts ?? []) this.names.hosts.set(ip, name);
    this.ring = new Array<FlowRecord | undefined>(opts.ringSize ?? 5000).fill(undefined);
    for (const n of opts.nodes) {
      const c: NodeCounters = { seenNew: 0, destroyed: 0, refused: 0, overruns: 0, lost: 0, sheds: 0, lastEventAt: 0 };
      let collector: NodeFlowCollector;
      this.counters.set(n.name, c);
      collector = new NodeFlowCollector({
        node: n.name, netns: n.netns, serviceCIDR: opts.serviceCIDR, ...(opts.maxRate ? { maxRate: opts.maxRate } : {}),
        events: {
          onConntrack: (ev, at) => this.add(flowFromConntrack(n.name, ev, at, this.names, this.affinity)),
          onRefused: (r, at) => this.add(flowFromRefusal(n.name, r, at, ++this.refusedSeq, this.names)),
          onOverrun: () => { c.overruns++; },
          onShed: (on) => { if (on) c.sheds++; },
        },
      });
      this.collectors.push(collector);
    }
  }

  /** Starts the name tables and every node's collector (a collector that cannot start reports what is missing). */
  async start(): Promise<void> {
    // The name informers and the event tools start side by side (both are on `up`'s path).
    await Promise.all([this.names.start?.(), ...this.collectors.map((c) => c.start())]);
    // Baselines for the loss accounting, taken once the event tools run.
    await this.reconcile(true);
  }

  async stop(): Promise<void> {
    if (this.reconcileTimer) clearInterval(this.reconcileTimer);
    this.names.stop?.();
    await Promise.all(this.collectors.map((c) => c.stop()));
  }

  /** The ClusterIP of Service `key` (`ns/name`) as the name index knows it. */
  serviceIP(key: string): string | undefined {
    return this.names.services.get(key)?.ips[0];
  }

  /** Adds one event: ring, subscribers, trace. Exposed for tests (records from fixtures). */
  add(f: FlowRecord): void {
    const c = this.counters.get(f.node);
    if (c) c.lastEventAt = performance.now();
    if (f.event === 'destroy') {
      if (c) c.destroyed++;
      const open = this.byId.get(f.id);
      if (open) {
        f.durationMs = Math.max(0, f.at - open.at);
        if (!f.client.name && open.client.name) f.client.name = open.client.name;
        if (f.backend && !f.backend.pod && open.backend?.pod) f.backend.pod = open.backend.pod;
        if (f.service && !f.service.name && open.service?.name) f.service.name = open.service.name;
        Object.assign(open, { state: 'CLOSED', sent: f.sent, received: f.received, durationMs: f.durationMs });
      }
    } else {
      if (c) { if (f.event === 'new') c.seenNew++; else c.refused++; }
      const old = this.ring[this.next];
      if (old && this.byId.get(old.id) === old) this.byId.delete(old.id);
      const kept = { ...f };
      this.ring[this.next] = kept;
      this.byId.set(kept.id, kept);
      this.next = (this.next + 1) % this.ring.length;
      if (f.event === 'new') this.opts.onFlow?.(f);
    }
    for (const s of this.subscribers) {
      if (!matchesFlow(f, s.filter)) continue;
      if (!s.deliver(f)) s.dropped++;
    }
  }

  /** Registers a live reader; the returned function removes it. Reconciles losses every 2 s while any reader is live. */
  subscribe(s: FlowSubscriber): () => void {
    this.subscribers.add(s);
    this.reconcileTimer ??= setInterval(() => { void this.reconcile(); }, 2000);
    this.reconcileTimer.unref();
    return () => {
      this.subscribers.delete(s);
      if (this.subscribers.size === 0 && this.reconcileTimer) { clearInterval(this.reconcileTimer); this.reconcileTimer = undefined; }
    };
  }

  /**
   * Loss accounting: the kernel's count of new Service connections against the NEW events seen.
   * Counted only once the node's events have been quiet for QUIET_MS and nothing is being shed
   * (under load the events still in the socket and the pipe would look lost): then every connection
   * counted before the read must have been seen, and any shortfall was not shown — shed above the
   * rate limit, or lost in an event socket overrun (ENOBUFS). During a burst the stats say that
   * events are being shed or were lost, and the count follows when it calms.
   */
  async reconcile(baseline = false): Promise<void> {
    await Promise.all(this.collectors.map(async (col) => {
      const c = this.counters.get(col.node)!;
      if (!col.ok) return;
      const quietBefore = performance.now() - c.lastEventAt >= QUIET_MS && !col.isShedding;
      const seen = c.seenNew;
      const k = await col.kernelNew();
      if (k === undefined) return;
      if (baseline || !c.base) { c.base = { kernel: k, seen }; c.lastKernel = k; return; }
      c.lastKernel = k;
      if (quietBefore && performance.now() - c.lastEventAt >= QUIET_MS && !col.isShedding) {
        const shortfall = (k - c.base.kernel) - (seen - c.base.seen);
        if (shortfall > c.lost) c.lost = shortfall;
      }
    }));
  }

  stats(): FlowStats {
    return {
      nodes: this.collectors.map((col): NodeFlowStats => {
        const c = this.counters.get(col.node)!;
        return {
          node: col.node, ok: col.ok, ...(col.missing ? { missing: col.missing } : {}),
          kernelNew: c.lastKernel !== undefined && c.base ? c.lastKernel - c.base.kernel : 0,
          seenNew: c.seenNew, lost: c.lost, ...(c.overruns ? { overruns: c.overruns } : {}), sheds: c.sheds, ...(col.isShedding ? { shedding: true } : {}),
          destroyed: c.destroyed, refused: c.refused,
        };
      }),
    };
  }

  /**
   * Recent connections matching `filter` (oldest first, at most `limit`), with the state, bytes and
   * packets conntrack tracks for those still open (listed from the kernel now).
   */
  async list(filter: FlowFilter, limit = 500): Promise<FlowList> {
    await this.reconcile();
    const live = new Map<string, { state?: string; sent?: FlowRecord['sent']; received?: FlowRecord['received'] }>();
    await Promise.all(this.collectors.map(async (col) => {
      for (const ev of await col.list()) {
        const f = flowFromConntrack(col.node, ev, 0, this.names);
        live.set(f.id, { state: f.state, sent: f.sent, received: f.received });
      }
    }));
    const out: FlowRecord[] = [];
    for (let i = 0; i < this.ring.length; i++) {
      const f = this.ring[(this.next + i) % this.ring.length];
      if (!f || !matchesFlow(f, filter)) continue;
      const now = live.get(f.id);
      out.push(now ? { ...f, ...(now.state ? { state: now.state } : {}), ...(now.sent ? { sent: now.sent } : {}), ...(now.received ? { received: now.received } : {}) } : { ...f });
    }
    return { kind: 'FlowList', flows: out.slice(Math.max(0, out.length - limit)), stats: this.stats() };
  }

  /** Whether any node collector runs (for the endpoint's error when none can). */
  get anyOk(): boolean {
    return this.collectors.some((c) => c.ok);
  }
}

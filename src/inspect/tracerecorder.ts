/**
 * The trace recorder: collects the causally linked steps of each Service change from the places
 * that make them happen, in the daemon —
 *
 *   API write (HTTP layer) → ClusterIP allocation (in that write) → EndpointSlice writes (the
 *   controller) → each node's proxy sync (the proxy) → DNS record live (the DNS Pod, over the API)
 *   → first connection through the virtual IP (the flow collector)
 *
 * — and groups them into changes (tracemodel.ts) that `clusterip trace` and the web view read.
 *
 * Recording is cheap and never throws into its callers: every feed only appends to a queue; the
 * grouping (and, for proxy syncs, finding this Service's lines in the transaction text) runs later,
 * off the proxy's and the API server's paths ("record first, render later"). Queued steps wait
 * `settleMs` (100 ms) and are then grouped in the order they happened, not the order they were
 * reported: an API write is reported when its reply is sent, after the controller already wrote the
 * slice it caused.
 *
 * How steps find their change (per Service `namespace/name`):
 * - a write to the Service over HTTP starts a new change;
 * - a slice write starts a new change when a user's write to a workload in the namespace (a Pod,
 *   Deployment, ReplicaSet or StatefulSet, or its scale) came after the Service's latest change and
 *   explains the endpoints that changed (`kubectl scale deployment/web`); else it joins the latest
 *   change if that one had a step within `attachWindowMs`; else it starts a change of its own,
 *   caused by the endpoint changes themselves ("Pod web-1 became unready");
 * - proxy syncs and DNS steps join the latest change if it had a step within `attachWindowMs`;
 * - the first connection joins the latest change that has none yet, after its rules went live.
 *
 * Bounded (TraceLimits, documented in README.md): the oldest changes are dropped first.
 */
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { KubeObject } from '../api/object.js';
import type { WriteRecord } from '../apiserver/http/server.js';
import type { SyncReport } from '../proxy/proxy.js';
import type { DnsLiveReport } from '../dns/livereport.js';
import type { FlowRecord } from './flowsmodel.js';
import {
  DEFAULT_TRACE_LIMITS, type ApiWriteStep, type TraceChange, type TraceLimits, type TraceState, type TraceStep, type TraceUpdate,
} from './tracemodel.js';
import { describeDelta, sliceDelta } from './traceslices.js';
import { serviceRuleChanges } from './tracerules.js';

/** One EndpointSlice write as the EndpointSlice controller reports it. */
export interface SliceWriteInput {
  /** `namespace/name` of the Service. */
  service: string;
  op: 'create' | 'update' | 'delete';
  before?: EndpointSlice;
  after?: EndpointSlice;
  /** The Pods the write was computed from (the Service's selector matches them). */
  pods: readonly Pod[];
  /** Who wrote it (default endpointslice-controller). */
  by?: string;
  at: number;
}

export interface TraceRecorderOptions {
  limits?: Partial<TraceLimits>;
  /** Epoch ms with sub-ms precision. */
  now?: () => number;
  /** How long reported steps wait before grouping, so late reports of earlier steps sort first. Default 100 ms. */
  settleMs?: number;
}

const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
const TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';
const WORKLOADS = new Set(['pods', 'deployments', 'replicasets', 'statefulsets']);

type Pending =
  | { t: 'api'; w: WriteRecord }
  | { t: 'slice'; s: SliceWriteInput }
  | { t: 'sync'; node: string; mode: 'nftables' | 'iptables' | 'userspace'; report: SyncReport; at: number }
  | { t: 'dns'; r: DnsLiveReport }
  | { t: 'flow'; f: FlowRecord };

interface WorkloadWrite { step: ApiWriteStep; namespace: string; kind: string; name: string; at: number }

/** "kubectl apply", "kubectl scale", "kubectl delete", or the client's product name and the verb. */
export function clientLabel(userAgent: string | undefined, fieldManager: string | undefined, verb: string): string {
  if (fieldManager?.startsWith('kubectl-')) {
    const cmd = fieldManager.slice('kubectl-'.length).replace(/^client-side-apply$/, 'apply');
    return `kubectl ${cmd}`;
  }
  const product = userAgent?.split(/[/ ]/)[0] || 'client';
  if (fieldManager === 'kubectl') return `kubectl ${verb === 'patch' && userAgent?.includes('kubectl') ? 'apply --server-side' : verb}`;
  return `${product} ${verb}`;
}

function emptyState(): TraceState {
  return { service: 'none', rules: {}, dns: [], readyEndpoints: 0 };
}

function cloneState(s: TraceState): TraceState {
  return { ...s, rules: { ...s.rules }, ...(s.dns ? { dns: [...s.dns] } : {}) };
}

/** The state after `step`, from the state before it (what the status tracker prints). */
export function applyStep(state: TraceState, step: TraceStep): TraceState {
  const s = cloneState(state);
  switch (step.kind) {
    case 'api-write':
      if (step.resource === 'services') {
        s.service = step.verb === 'delete' ? 'deleted' : step.verb === 'create' ? 'created' : 'updated';
        if (step.verb === 'delete') { delete s.clusterIP; } else if (step.clusterIP) s.clusterIP = step.clusterIP;
      }
      break;
    case 'slice-write':
      s.readyEndpoints = step.op === 'delete' ? 0 : step.ready;
      break;
    case 'proxy-sync':
      if (step.endpoints !== undefined) s.rules[step.node] = step.endpoints;
      break;
    case 'dns-live':
      s.dns = step.addresses;
      break;
    case 'first-connection':
      s.servedBy = step.backend.pod ?? `${step.backend.ip}:${step.backend.port}`;
      break;
  }
  return s;
}

export class TraceRecorder {
  readonly limits: TraceLimits;
  private readonly now: () => number;
  private readonly settleMs: number;
  private readonly queue: { p: Pending; at: number; arrived: number }[] = [];
  private timer?: NodeJS.Timeout;
  /** Every kept change, oldest first (Map insertion order). */
  private readonly changes = new Map<number, TraceChange & { bytes: number; lastAt: number }>();
  /** Service key → its kept change ids, oldest first. */
  private readonly byService = new Map<string, number[]>();
  /** Service key → the state after its latest step (survives dropped changes). */
  private readonly state = new Map<string, TraceState>();
  /** Service key → ClusterIP, from writes and DNS reports (to find its rules in transactions). */
  private readonly clusterIPs = new Map<string, string>();
  /** Where the ClusterIP of a Service this recorder did not see written comes from (the flows' name index). */
  private clusterIPSource?: (key: string) => string | undefined;
  private readonly workloadWrites: WorkloadWrite[] = [];
  private readonly subscribers = new Set<{ service?: string; fn: (u: TraceUpdate) => void }>();
  /** Services whose latest change has no first connection yet (the flow feed's cheap filter). */
  private readonly awaitingConnection = new Set<string>();
  /** Services with a write queued but not grouped yet (a connection may belong to that change). */
  private readonly queuedKeys = new Set<string>();
  /** Services with a connection queued (one is enough: only the first counts). */
  private readonly queuedFlows = new Set<string>();
  private nextId = 1;
  private bytes = 0;
  private dropped = 0;

  constructor(opts: TraceRecorderOptions = {}) {
    this.limits = { ...DEFAULT_TRACE_LIMITS, ...opts.limits };
    this.now = opts.now ?? (() => performance.timeOrigin + performance.now());
    this.settleMs = opts.settleMs ?? 100;
  }

  /**
   * A lookup of a Service's ClusterIP by `ns/name`, for Services created before the recorder ran
   * (a restarted daemon, a trace started later): in nftables mode a sync's endpoint elements name
   * the Service only by its ClusterIP, so without it an endpoint change would not be attributed.
   */
  setClusterIPSource(source: (key: string) => string | undefined): void {
    this.clusterIPSource = source;
  }

  // ---- feeds (cheap: queue and return) ----

  /** A successful write over HTTP (the API server's `onWrite`). */
  apiWrite(w: WriteRecord): void {
    const plural = w.route.res.plural;
    if (plural !== 'services' && plural !== 'endpointslices' && !WORKLOADS.has(plural)) return;
    this.push({ t: 'api', w });
  }

  /** An EndpointSlice write by the EndpointSlice controller. */
  sliceWrite(s: SliceWriteInput): void {
    this.push({ t: 'slice', s });
  }

  /** A sync of node `node`'s proxy that the kernel accepted (the proxy's `onSync`). */
  proxySync(node: string, mode: 'nftables' | 'iptables' | 'userspace', report: SyncReport): void {
    this.push({ t: 'sync', node, mode, report, at: this.now() });
  }

  /** The cluster DNS server serves new records for a Service. */
  dnsLive(r: DnsLiveReport): void {
    this.push({ t: 'dns', r });
  }

  /** A new connection through a Service's virtual IP (the flow collector). */
  connection(f: FlowRecord): void {
    // Called for every new connection (thousands a second under load): a Set lookup for the rest.
    const key = f.service?.name;
    if (f.event !== 'new' || !key || !f.backend || this.queuedFlows.has(key)) return;
    if (!this.awaitingConnection.has(key) && !this.queuedKeys.has(key)) return;
    this.queuedFlows.add(key);
    this.push({ t: 'flow', f });
  }

  private push(p: Pending): void {
    if (p.t === 'api' && p.w.route.res.plural === 'services') this.queuedKeys.add(`${p.w.route.namespace ?? ''}/${p.w.object.metadata?.name ?? p.w.route.name}`);
    if (p.t === 'slice') this.queuedKeys.add(p.s.service);
    const at = p.t === 'api' ? p.w.receivedAt : p.t === 'slice' ? p.s.at : p.t === 'sync' ? p.at : p.t === 'dns' ? p.r.at : p.f.at;
    this.queue.push({ p, at, arrived: this.now() });
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.queue.length === 0) return;
    this.timer = setTimeout(() => { this.timer = undefined; this.drain(false); }, this.settleMs);
    this.timer.unref();
  }

  /**
   * Groups queued steps in the order they happened: those that waited `settleMs`, or all of them
   * (`all`, before a read, so a read sees every recorded step).
   */
  drain(all = true): void {
    const cutoff = this.now() - this.settleMs;
    const ready: typeof this.queue = [];
    const wait: typeof this.queue = [];
    for (const q of this.queue) (all || q.arrived <= cutoff ? ready : wait).push(q);
    this.queue.length = 0;
    this.queue.push(...wait);
    ready.sort((a, b) => a.at - b.at);
    if (wait.length === 0) this.queuedKeys.clear();
    for (const q of ready) {
      if (q.p.t === 'flow') this.queuedFlows.delete(q.p.f.service!.name!);
      try {
        this.process(q.p);
      } catch (e) {
        console.error('trace recorder:', e);
      }
    }
    this.schedule();
  }

  // ---- reads ----

  /** The last `last` changes of Service `key`, oldest first (copies). */
  list(key: string, last = Infinity): TraceChange[] {
    this.drain();
    const ids = this.byService.get(key) ?? [];
    return ids.slice(Math.max(0, ids.length - last)).map((id) => this.export(this.changes.get(id)!));
  }

  /** Changes dropped so far to stay within the limits. */
  get droppedChanges(): number {
    return this.dropped;
  }

  /** Sizes (for tests and the README's bound). */
  stats(): { changes: number; bytes: number; services: number; dropped: number } {
    this.drain();
    return { changes: this.changes.size, bytes: this.bytes, services: this.byService.size, dropped: this.dropped };
  }

  /** The state the status tracker shows after the latest step of `key`. */
  currentState(key: string): TraceState {
    return cloneState(this.state.get(key) ?? emptyState());
  }

  /** The Service's ClusterIP as last seen (writes, DNS). */
  clusterIPOf(key: string): string | undefined {
    return this.clusterIPs.get(key);
  }

  /** Calls `fn` with every new change and step (of Service `service`, or all). Returns the unsubscribe function. */
  subscribe(service: string | undefined, fn: (u: TraceUpdate) => void): () => void {
    const sub = { service, fn };
    this.subscribers.add(sub);
    return () => { this.subscribers.delete(sub); };
  }

  // ---- grouping ----

  private export(c: TraceChange & { bytes: number; lastAt: number }): TraceChange {
    const { bytes: _b, lastAt: _l, ...rest } = c;
    return { ...rest, before: cloneState(rest.before), steps: [...rest.steps] };
  }

  private latestId(key: string): number | undefined {
    const ids = this.byService.get(key);
    return ids?.[ids.length - 1];
  }

  /** The latest change of `key` if it had a step within the attach window before `at`. */
  private attachable(key: string, at: number): (TraceChange & { bytes: number; lastAt: number }) | undefined {
    const id = this.latestId(key);
    const c = id === undefined ? undefined : this.changes.get(id);
    return c && at - c.lastAt <= this.limits.attachWindowMs ? c : undefined;
  }

  private process(p: Pending): void {
    switch (p.t) {
      case 'api': return this.onApiWrite(p.w);
      case 'slice': return this.onSlice(p.s);
      case 'sync': return this.onSync(p.node, p.mode, p.report, p.at);
      case 'dns': return this.onDns(p.r);
      case 'flow': return this.onFlow(p.f);
    }
  }

  private apiStep(w: WriteRecord): ApiWriteStep {
    const obj = w.object as KubeObject & { spec?: Record<string, unknown> };
    const r = w.route;
    const step: ApiWriteStep = {
      kind: 'api-write', at: w.receivedAt, durationMs: Math.max(0, w.finishedAt - w.receivedAt), verb: w.verb,
      resource: r.subresource ? `${r.res.plural}/${r.subresource}` : r.res.plural,
      ...(r.namespace ? { namespace: r.namespace } : {}),
      name: obj.metadata?.name ?? r.name ?? '', user: w.user, client: clientLabel(w.userAgent, w.fieldManager, w.verb), code: w.code,
      ...(obj.metadata?.resourceVersion ? { resourceVersion: obj.metadata.resourceVersion } : {}),
    };
    if (r.res.plural === 'services' && !r.subresource) {
      const spec = (obj as Service).spec;
      if (spec?.clusterIP) step.clusterIP = spec.clusterIP;
      step.allocated = w.verb === 'create' && !!spec?.clusterIP && spec.clusterIP !== 'None';
      step.ports = (spec?.ports ?? []).map((pt) => `${pt.port}/${pt.protocol ?? 'TCP'}${pt.targetPort !== undefined && String(pt.targetPort) !== String(pt.port) ? `→${pt.targetPort}` : ''}`).join(',');
      if (spec?.selector) step.selector = Object.entries(spec.selector).map(([k, v]) => `${k}=${v}`).join(',');
    }
    return step;
  }

  private onApiWrite(w: WriteRecord): void {
    const plural = w.route.res.plural;
    const step = this.apiStep(w);
    const ns = w.route.namespace ?? w.object.metadata?.namespace ?? '';
    if (plural === 'services' && !w.route.subresource) {
      const key = `${ns}/${step.name}`;
      if (step.clusterIP && step.clusterIP !== 'None') this.clusterIPs.set(key, step.clusterIP);
      this.newChange(key, `${step.client} (${step.verb} by ${step.user})`, step);
      return;
    }
    if (plural === 'endpointslices') {
      // A slice written by a user (not the controller): the same as a controller write, by someone else.
      const slice = w.object as EndpointSlice;
      const svc = slice.metadata?.labels?.[LABEL_SERVICE_NAME];
      if (!svc) return;
      this.onSlice({
        service: `${ns}/${svc}`, op: w.verb === 'delete' ? 'delete' : w.verb === 'create' ? 'create' : 'update',
        ...(w.verb === 'delete' ? { before: slice } : { after: slice }), pods: [], by: `${w.user} (${step.client})`, at: w.finishedAt,
      });
      return;
    }
    const kind = w.route.res.plural;
    this.workloadWrites.push({ step, namespace: ns, kind, name: step.name, at: w.receivedAt });
    if (this.workloadWrites.length > 200) this.workloadWrites.splice(0, this.workloadWrites.length - 200);
  }

  /** The user's workload write that explains endpoint changes of Pods `pods` after `since`, if any. */
  private originOf(namespace: string, pods: readonly (Pod | undefined)[], since: number, at: number): WorkloadWrite | undefined {
    for (let i = this.workloadWrites.length - 1; i >= 0; i--) {
      const w = this.workloadWrites[i]!;
      if (w.at <= since || at - w.at > 120_000) continue;
      if (w.namespace !== namespace) continue;
      const explains = pods.some((p) => {
        if (!p) return false;
        if (w.kind === 'pods') return p.metadata?.name === w.name;
        const owner = p.metadata?.ownerReferences?.find((o) => o.controller)?.name ?? '';
        return owner === w.name || owner.startsWith(`${w.name}-`);
      });
      if (explains) return w;
    }
    return undefined;
  }

  private onSlice(s: SliceWriteInput): void {
    const podMap = new Map(s.pods.map((p) => [`${p.metadata?.namespace}/${p.metadata?.name}`, p]));
    const d = sliceDelta(s.before, s.after, podMap);
    const slice = s.after ?? s.before;
    const trig = slice?.metadata?.annotations?.[TRIGGER_TIME];
    const step: TraceStep = {
      kind: 'slice-write', at: s.at, slice: slice?.metadata?.name ?? '', op: s.op, by: s.by ?? 'endpointslice-controller',
      ready: d.ready, notReady: d.notReady, added: d.added, removed: d.removed, changed: d.changed,
      ...(trig && !Number.isNaN(Date.parse(trig)) ? { triggerTime: Date.parse(trig) } : {}),
    };
    const [ns] = s.service.split('/');
    const latest = this.latestId(s.service);
    const since = latest === undefined ? 0 : this.changes.get(latest)!.startedAt;
    const touched = [...d.added, ...d.changed, ...d.removed].map((n) => (n.pod ? podMap.get(n.pod) : undefined));
    const origin = this.originOf(ns!, touched, since, s.at);
    if (origin) {
      const c = this.newChange(s.service, `${origin.step.client} ${origin.kind === 'pods' ? 'pod' : origin.kind.replace(/s$/, '')}/${origin.name} (${origin.step.verb} by ${origin.step.user})`, origin.step);
      this.addStep(c, step);
      return;
    }
    const c = this.attachable(s.service, s.at);
    if (c) { this.addStep(c, step); return; }
    this.addStep(this.newChange(s.service, `endpoints changed: ${describeDelta(d)}`), step);
  }

  private onSync(node: string, mode: 'nftables' | 'iptables' | 'userspace', report: SyncReport, at: number): void {
    const keys = report.full ? [...this.byService.keys()] : [...report.services];
    for (const key of keys) {
      const c = this.attachable(key, at);
      if (!c) continue;
      const changes = serviceRuleChanges(mode, report.transaction, key, this.clusterIPs.get(key) ?? this.clusterIPSource?.(key), this.limits.evidenceLines);
      // A sync that carried the Service but changed none of its lines (e.g. a not-ready endpoint
      // appeared) explains nothing: not a step.
      if (changes.added === 0 && changes.removed === 0) continue;
      const state = this.state.get(key) ?? c.before;
      const endpoints = changes.rejects ? -1 : changes.programsEndpoints ? state.readyEndpoints ?? 0 : state.rules[node];
      this.addStep(c, {
        kind: 'proxy-sync', at, node, mode, full: report.full, durationMs: report.durationMs,
        added: changes.added, removed: changes.removed, evidence: changes.lines, ...(endpoints !== undefined ? { endpoints } : {}),
      });
    }
  }

  private onDns(r: DnsLiveReport): void {
    if (r.addresses.length === 1 && r.resourceVersion) this.clusterIPs.set(r.service, r.addresses[0]!);
    const c = this.attachable(r.service, r.at);
    if (!c) return;
    const last = [...c.steps].reverse().find((s) => s.kind === 'dns-live');
    if (last && last.kind === 'dns-live' && last.addresses.join() === r.addresses.join()) return;
    this.addStep(c, { kind: 'dns-live', at: r.at, name: r.name, addresses: r.addresses });
  }

  private onFlow(f: FlowRecord): void {
    const id = this.latestId(f.service!.name!);
    const c = id === undefined ? undefined : this.changes.get(id);
    if (!c || c.steps.some((s) => s.kind === 'first-connection')) return;
    const live = c.steps.find((s) => s.kind === 'proxy-sync' && s.node === f.node);
    if (!live || f.at < live.at) return;
    this.awaitingConnection.delete(c.service);
    this.addStep(c, {
      kind: 'first-connection', at: f.at, node: f.node, proto: f.proto,
      client: { ip: f.client.ip, port: f.client.port, ...(f.client.name ? { name: f.client.name } : {}) },
      vip: f.service!.ip, port: f.service!.port,
      backend: { ip: f.backend!.ip, port: f.backend!.port, ...(f.backend!.pod ? { pod: f.backend!.pod } : {}) },
    });
  }

  private newChange(key: string, cause: string, first?: TraceStep): TraceChange & { bytes: number; lastAt: number } {
    const at = first?.at ?? this.now();
    const c = { id: this.nextId++, service: key, cause, startedAt: at, before: cloneState(this.state.get(key) ?? emptyState()), steps: [], droppedSteps: 0, bytes: 200 + key.length + cause.length, lastAt: at };
    this.changes.set(c.id, c);
    let ids = this.byService.get(key);
    if (!ids) this.byService.set(key, ids = []);
    ids.push(c.id);
    this.bytes += c.bytes;
    if (ids.length > this.limits.changesPerService) this.drop(ids[0]!);
    this.enforce();
    this.awaitingConnection.add(key);
    if (this.awaitingConnection.size > this.limits.changes) this.awaitingConnection.delete(this.awaitingConnection.values().next().value!);
    this.notify(key, { type: 'change', change: this.export(c) });
    if (first) this.addStep(c, first);
    return c;
  }

  private addStep(c: TraceChange & { bytes: number; lastAt: number }, step: TraceStep): void {
    if (!this.changes.has(c.id)) return;
    if (c.steps.length >= this.limits.stepsPerChange) { c.droppedSteps++; return; }
    // Keep time order (the DNS Pod's report can arrive after a later proxy step was recorded).
    let i = c.steps.length;
    while (i > 0 && c.steps[i - 1]!.at > step.at) i--;
    c.steps.splice(i, 0, step);
    c.lastAt = Math.max(c.lastAt, step.at);
    const size = JSON.stringify(step).length;
    c.bytes += size;
    this.bytes += size;
    this.state.set(c.service, applyStep(this.state.get(c.service) ?? c.before, step));
    if (this.state.size > this.limits.changes * 4) this.state.delete(this.state.keys().next().value!);
    this.enforce();
    this.notify(c.service, { type: 'step', changeId: c.id, service: c.service, step });
  }

  private drop(id: number): void {
    const c = this.changes.get(id);
    if (!c) return;
    this.changes.delete(id);
    this.bytes -= c.bytes;
    this.dropped++;
    const ids = this.byService.get(c.service);
    if (ids) {
      const i = ids.indexOf(id);
      if (i >= 0) ids.splice(i, 1);
      if (ids.length === 0) this.byService.delete(c.service);
    }
  }

  private enforce(): void {
    while (this.changes.size > this.limits.changes || (this.bytes > this.limits.bytes && this.changes.size > 1)) {
      this.drop(this.changes.keys().next().value!);
    }
    if (this.clusterIPs.size > this.limits.changes * 4) this.clusterIPs.delete(this.clusterIPs.keys().next().value!);
  }

  private notify(service: string, u: TraceUpdate): void {
    for (const s of this.subscribers) {
      if (s.service && s.service !== service) continue;
      try { s.fn(u); } catch { /* a subscriber's failure is its own */ }
    }
  }
}

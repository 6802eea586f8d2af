/**
 * The trace's data: what the recorder keeps per Service change and what the API serves at
 * `/debug/clusterip/trace` (JSON, and NDJSON when following). The CLI (`clusterip trace`) and the
 * web view read exactly these shapes; fields are only ever added.
 *
 * Times are epoch milliseconds with sub-millisecond precision (`performance.timeOrigin +
 * performance.now()` in each process), so steps recorded by the daemon and by the DNS Pod compare.
 */

/** One endpoint that a slice write added, removed or changed, and why. */
export interface EndpointNote {
  ip: string;
  /** `namespace/name` of the Pod behind it, when the slice names one. */
  pod?: string;
  /** Ready / serving / terminating after the write (absent for a removed endpoint). */
  ready?: boolean;
  /** Why, in words: "Pod web-1 became ready", "Pod web-2 deleted", "readiness probe failed: ...". */
  reason: string;
}

/** An API write made over HTTP (kubectl, a client library). */
export interface ApiWriteStep {
  kind: 'api-write';
  at: number;
  durationMs: number;
  /** create | update | patch | delete (the REST verb). */
  verb: string;
  /** e.g. services, deployments, endpointslices; with `/scale` etc. for subresources. */
  resource: string;
  namespace?: string;
  name: string;
  /** Who: the authenticated user and the client ("kubectl apply", "kubectl scale", "node-fetch ..."). */
  user: string;
  client: string;
  code: number;
  resourceVersion?: string;
  /** Services: the ClusterIP after the write, whether this write allocated it, and its ports. */
  clusterIP?: string;
  allocated?: boolean;
  ports?: string;
  selector?: string;
}

/** An EndpointSlice write (the EndpointSlice controller's, or a user's). */
export interface SliceWriteStep {
  kind: 'slice-write';
  at: number;
  slice: string;
  op: 'create' | 'update' | 'delete';
  /** endpointslice-controller, or the user who wrote it. */
  by: string;
  /** Endpoints in this slice after the write. */
  ready: number;
  notReady: number;
  added: EndpointNote[];
  removed: EndpointNote[];
  changed: EndpointNote[];
  /** The slice's endpoints.kubernetes.io/last-change-trigger-time (epoch ms), when set. */
  triggerTime?: number;
}

/** One node's proxy sync that carried the change into the kernel. */
export interface ProxySyncStep {
  kind: 'proxy-sync';
  /** When the kernel accepted the transaction. */
  at: number;
  node: string;
  mode: 'nftables' | 'iptables' | 'userspace';
  full: boolean;
  durationMs: number;
  /** Rule, chain and map-element lines of this Service the transaction added / removed. */
  added: number;
  removed: number;
  /** A few of those lines, as sent to the kernel (at most `TraceLimits.evidenceLines`). */
  evidence: string[];
  /** Usable endpoints the rules now send new connections to (0: rejected, no endpoints). */
  endpoints?: number;
}

/** The cluster DNS server answering the Service's name with new records. */
export interface DnsLiveStep {
  kind: 'dns-live';
  at: number;
  name: string;
  /** A records now answered ([] = the name no longer exists). */
  addresses: string[];
}

/** The first connection through the virtual IP after the change, and the Pod it reached. */
export interface FirstConnectionStep {
  kind: 'first-connection';
  at: number;
  node: string;
  proto: string;
  client: { ip: string; port: number; name?: string };
  vip: string;
  port: number;
  backend: { ip: string; port: number; pod?: string };
}

export type TraceStep = ApiWriteStep | SliceWriteStep | ProxySyncStep | DnsLiveStep | FirstConnectionStep;

/** The state the status tracker follows (seed 000's variables), before a change or after a step. */
export interface TraceState {
  /** none | created | updated | deleted */
  service: string;
  clusterIP?: string;
  /** Ready endpoints in the Service's slices (summed over the slices written so far). */
  readyEndpoints?: number;
  /** Per node: usable endpoints in its rules, or -1 when the rules reject (no endpoints); absent: no rules. */
  rules: Record<string, number>;
  /** DNS A answers ([] = NXDOMAIN); absent: unknown. */
  dns?: string[];
  /** The first connection's backend Pod (name or ip:port). */
  servedBy?: string;
}

/** A causally linked chain of steps that started with one write (or one endpoint change). */
export interface TraceChange {
  id: number;
  /** `namespace/name` of the Service. */
  service: string;
  /** What started it, in words ("kubectl apply", "kubectl scale deployment/web", "Pod web-1 became ready"). */
  cause: string;
  startedAt: number;
  /** The tracked state just before the change (from earlier changes), for the status tracker. */
  before: TraceState;
  /** In time order. */
  steps: TraceStep[];
  /** Steps not kept because the change reached `TraceLimits.stepsPerChange`. */
  droppedSteps: number;
}

/** Whether the ClusterIP is reachable from the outside host, with the kernel's own answer. */
export interface OutsideReachability {
  reachable: boolean;
  /** e.g. "ip route get 10.96.0.12 (on cip-1a2b3c4d-out): RTNETLINK answers: Network is unreachable". */
  evidence: string;
}

/** `GET /debug/clusterip/trace?service=ns/name[&last=N]`. */
export interface TraceList {
  kind: 'TraceList';
  service: string;
  changes: TraceChange[];
  outside?: OutsideReachability;
  limits: TraceLimits;
  /** Changes dropped so far (whole history, all Services) to stay within the limits. */
  dropped: number;
}

/** One line of `GET /debug/clusterip/trace?service=...&follow=1` (NDJSON). */
export type TraceUpdate =
  | { type: 'snapshot'; list: TraceList }
  | { type: 'change'; change: TraceChange }
  | { type: 'step'; changeId: number; service: string; step: TraceStep }
  | { type: 'outside'; service: string; outside: OutsideReachability };

/** The recorder's bounds (documented in src/inspect/README.md). */
export interface TraceLimits {
  /** Changes kept over all Services; the oldest goes first. */
  changes: number;
  /** Approximate bytes (JSON) kept over all changes; the oldest changes go first. */
  bytes: number;
  /** Changes kept per Service. */
  changesPerService: number;
  /** Steps kept per change (later ones are counted in `droppedSteps`). */
  stepsPerChange: number;
  /** Rule lines kept as evidence per proxy-sync step. */
  evidenceLines: number;
  /** How long after its last step a change still collects slice writes, syncs and DNS steps. */
  attachWindowMs: number;
}

export const DEFAULT_TRACE_LIMITS: TraceLimits = {
  changes: 2000, bytes: 8 << 20, changesPerService: 50, stepsPerChange: 64, evidenceLines: 8, attachWindowMs: 30_000,
};

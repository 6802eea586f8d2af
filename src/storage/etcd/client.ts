/**
 * A small etcd v3 client over @grpc/grpc-js: one gRPC channel per endpoint, TLS with client
 * certificates, unary KV/Maintenance/Cluster calls with deadlines, and watch streams.
 *
 * Why not the `etcd3` npm package: see src/storage/README.md ("Choosing the etcd client"). In
 * short, its watcher hides `compact_revision` (a compacted watch surfaces as a bare "Watcher
 * canceled: " error) and resumes after a reconnect from the response header's revision instead of
 * the last delivered event, which skips events after a partial catch-up batch. This backend needs
 * both right, and needs little else, so it talks to etcd's own protocol directly.
 *
 * Failover: calls go to the current endpoint; a transport failure (UNAVAILABLE, DEADLINE_EXCEEDED)
 * moves the client to the next endpoint. Reads are retried there once per endpoint; writes are not
 * retried (an etcd "request timed out" write may still commit — a blind retry could apply it twice
 * or report a committed create as "exists"), so a failed write surfaces as `EtcdUnavailableError`.
 */
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import {
  etcdServices, type ClusterClient, type KVClient, type MaintenanceClient, type WatchClient,
  type DeleteRangeRequest, type DeleteRangeResponse, type MemberListResponse, type PutRequest, type PutResponse,
  type RangeRequest, type RangeResponse, type StatusResponse, type TxnRequest, type TxnResponse,
  type WatchRequest, type WatchResponse,
} from './proto.js';

export interface EtcdTlsFiles {
  /** CA bundle that signed the etcd servers' certificates (PEM file path). */
  caFile?: string;
  /** Client certificate and key presented to etcd (PEM file paths). */
  certFile?: string;
  keyFile?: string;
}

export interface EtcdClientOptions extends EtcdTlsFiles {
  /** `https://host:port` or `http://host:port` URLs (a bare `host:port` means http). */
  endpoints: string[];
  /** Deadline of reads and writes (ms). Default 10000 (etcd's own request timeout is 7 s). */
  requestTimeoutMs?: number;
}

/** etcd could not be reached, or could not commit (no leader, timeout). The write may or may not have applied. */
export class EtcdUnavailableError extends Error {
  constructor(readonly endpoint: string, readonly grpcCode: number, detail: string) {
    super(`etcd ${endpoint}: ${detail}`);
    this.name = 'EtcdUnavailableError';
  }
}

interface Endpoint {
  url: string;
  target: string;
  channel: grpc.Channel;
  kv: KVClient;
  watch: WatchClient;
  maintenance: MaintenanceClient;
  cluster: ClusterClient;
}

const TRANSPORT_CODES = new Set([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED, grpc.status.CANCELLED]);

/**
 * etcd's own transient failures (raft could not take the request now). Most arrive as UNAVAILABLE;
 * etcd 3.4 sends "raft proposal dropped" (a leader change while proposing) as UNKNOWN.
 */
const TRANSIENT_ETCD = /etcdserver: (leader changed|no leader|request timed out|raft proposal dropped|too many requests|server stopped)/;

/** True when `err` is a transport or transient etcd failure (move to the next endpoint, report Unavailable). */
export function isTransportError(err: unknown): err is grpc.ServiceError {
  if (typeof err !== 'object' || err === null || !('code' in err)) return false;
  const se = err as grpc.ServiceError;
  return TRANSPORT_CODES.has(se.code) || TRANSIENT_ETCD.test(se.details ?? '') || TRANSIENT_ETCD.test(`etcdserver: ${se.details ?? ''}`);
}

/** Parses an endpoint URL into its gRPC target and whether it uses TLS. */
export function parseEndpoint(url: string): { target: string; secure: boolean } {
  const m = /^(?:(https?|unix):\/\/)?([^/]+)\/?$/.exec(url.trim());
  if (!m) throw new Error(`bad etcd endpoint ${JSON.stringify(url)}: expected https://host:port`);
  const scheme = m[1] ?? 'http';
  if (scheme === 'unix') throw new Error(`bad etcd endpoint ${JSON.stringify(url)}: unix sockets are not supported`);
  if (!/:\d+$/.test(m[2])) throw new Error(`bad etcd endpoint ${JSON.stringify(url)}: a port is required`);
  return { target: m[2], secure: scheme === 'https' };
}

export class EtcdClient {
  private readonly eps: Endpoint[];
  private current = 0;
  private readonly timeoutMs: number;
  private closed = false;

  constructor(opts: EtcdClientOptions) {
    if (opts.endpoints.length === 0) throw new Error('etcd: at least one endpoint is required');
    this.timeoutMs = opts.requestTimeoutMs ?? 10_000;
    const read = (f?: string): Buffer | null => (f ? readFileSync(f) : null);
    const ca = read(opts.caFile);
    const cert = read(opts.certFile);
    const key = read(opts.keyFile);
    if ((cert === null) !== (key === null)) throw new Error('etcd: --etcd-certfile and --etcd-keyfile go together');
    this.eps = opts.endpoints.map((url) => {
      const { target, secure } = parseEndpoint(url);
      const creds = secure ? grpc.credentials.createSsl(ca, key, cert) : grpc.credentials.createInsecure();
      const channelOpts: grpc.ChannelOptions = {
        // Objects up to etcd's own request limit, and whole-prefix list pages, arrive in one message.
        'grpc.max_receive_message_length': -1,
        'grpc.max_send_message_length': -1,
        // Detect a silent peer (a frozen or partitioned member) within ~15 s, as etcd's Go client does.
        'grpc.keepalive_time_ms': 10_000,
        'grpc.keepalive_timeout_ms': 5_000,
        'grpc.keepalive_permit_without_calls': 1,
        // Reconnect quickly when a member comes back (grpc's default backoff grows to 120 s).
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 2_000,
      };
      const channel = new grpc.Channel(target, creds, channelOpts);
      const shared = { ...channelOpts, channelOverride: channel };
      return {
        url, target, channel,
        kv: new etcdServices.KV(target, creds, shared),
        watch: new etcdServices.Watch(target, creds, shared),
        maintenance: new etcdServices.Maintenance(target, creds, shared),
        cluster: new etcdServices.Cluster(target, creds, shared),
      };
    });
  }

  /** The endpoint calls currently go to. */
  get endpoint(): string {
    return this.eps[this.current].url;
  }

  get endpoints(): string[] {
    return this.eps.map((e) => e.url);
  }

  /** Moves to the next endpoint (after a transport failure on `failed`). */
  rotate(failed: number = this.current): void {
    if (failed === this.current) this.current = (this.current + 1) % this.eps.length;
  }

  private deadline(): Date {
    return new Date(Date.now() + this.timeoutMs);
  }

  /** A read: retried once on each other endpoint when the transport fails. */
  private async read<Req, Res>(pick: (e: Endpoint) => Method<Req, Res>, req: Req): Promise<Res> {
    let last: unknown;
    for (let i = 0; i < this.eps.length; i++) {
      const idx = this.current;
      const ep = this.eps[idx];
      try {
        return await this.invoke(ep, pick, req);
      } catch (e) {
        last = e;
        if (!isTransportError(e)) throw e;
        this.rotate(idx);
      }
    }
    throw toUnavailable(this.eps[this.current].url, last);
  }

  /** A write: sent once; a transport failure rotates the endpoint and surfaces as EtcdUnavailableError. */
  private async write<Req, Res>(pick: (e: Endpoint) => Method<Req, Res>, req: Req): Promise<Res> {
    const idx = this.current;
    const ep = this.eps[idx];
    try {
      return await this.invoke(ep, pick, req);
    } catch (e) {
      if (!isTransportError(e)) throw e;
      this.rotate(idx);
      throw toUnavailable(ep.url, e);
    }
  }

  private invoke<Req, Res>(ep: Endpoint, pick: (e: Endpoint) => Method<Req, Res>, req: Req): Promise<Res> {
    if (this.closed) return Promise.reject(new EtcdUnavailableError(ep.url, grpc.status.CANCELLED, 'client closed'));
    const { client, fn } = pick(ep);
    return new Promise((resolve, reject) => {
      fn.call(client, req, new grpc.Metadata(), { deadline: this.deadline() }, (err, res) => {
        if (err) reject(err); else resolve(res as Res);
      });
    });
  }

  range(req: RangeRequest): Promise<RangeResponse> {
    return this.read((e) => ({ client: e.kv, fn: e.kv.Range }), req);
  }

  put(req: PutRequest): Promise<PutResponse> {
    return this.write((e) => ({ client: e.kv, fn: e.kv.Put }), req);
  }

  deleteRange(req: DeleteRangeRequest): Promise<DeleteRangeResponse> {
    return this.write((e) => ({ client: e.kv, fn: e.kv.DeleteRange }), req);
  }

  txn(req: TxnRequest): Promise<TxnResponse> {
    return this.write((e) => ({ client: e.kv, fn: e.kv.Txn }), req);
  }

  compact(revision: number): Promise<unknown> {
    return this.write((e) => ({ client: e.kv, fn: e.kv.Compact }), { revision });
  }

  /** Status of one member (`endpoint` = one of `endpoints`; default the current one). */
  status(endpoint?: string): Promise<StatusResponse> {
    const ep = endpoint === undefined ? this.eps[this.current] : this.eps.find((e) => e.url === endpoint);
    if (!ep) return Promise.reject(new Error(`unknown endpoint ${endpoint}`));
    return this.invoke(ep, (e) => ({ client: e.maintenance, fn: e.maintenance.Status }), {});
  }

  /** Defragments one member's backend database (blocks that member while it runs; see README). */
  defragment(endpoint: string): Promise<unknown> {
    const ep = this.eps.find((e) => e.url === endpoint);
    if (!ep) return Promise.reject(new Error(`unknown endpoint ${endpoint}`));
    return this.invoke(ep, (e) => ({ client: e.maintenance, fn: e.maintenance.Defragment }), {});
  }

  /** Asks the leader (reached through `endpoint`) to hand leadership to member `targetId`. */
  moveLeader(endpoint: string, targetId: string): Promise<unknown> {
    const ep = this.eps.find((e) => e.url === endpoint);
    if (!ep) return Promise.reject(new Error(`unknown endpoint ${endpoint}`));
    return this.invoke(ep, (e) => ({ client: e.maintenance, fn: e.maintenance.MoveLeader }), { targetID: targetId });
  }

  memberList(): Promise<MemberListResponse> {
    return this.read((e) => ({ client: e.cluster, fn: e.cluster.MemberList }), {});
  }

  /** Opens a bidirectional watch stream on the current endpoint (the caller handles its errors). */
  openWatch(md: grpc.Metadata = new grpc.Metadata()): { stream: grpc.ClientDuplexStream<WatchRequest, WatchResponse>; endpointIndex: number; endpoint: string } {
    const idx = this.current;
    const ep = this.eps[idx];
    return { stream: ep.watch.Watch(md), endpointIndex: idx, endpoint: ep.url };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const e of this.eps) {
      e.kv.close();
      e.watch.close();
      e.maintenance.close();
      e.cluster.close();
      e.channel.close();
    }
  }
}

type Method<Req, Res> = {
  client: grpc.Client;
  fn: (req: Req, md: grpc.Metadata, o: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Res) => void) => grpc.ClientUnaryCall;
};

function toUnavailable(endpoint: string, e: unknown): EtcdUnavailableError {
  const se = e as Partial<grpc.ServiceError>;
  return new EtcdUnavailableError(endpoint, se.code ?? grpc.status.UNAVAILABLE, se.details || se.message || String(e));
}

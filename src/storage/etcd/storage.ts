/**
 * The etcd Storage backend: the same contract as memory and SQLite (src/storage/storage.ts), on a
 * real etcd v3 cluster, so several API servers can share one store.
 *
 * The mapping is kube-apiserver's (staging/src/k8s.io/apiserver/pkg/storage/etcd3):
 * - revision = etcd's store revision; an object's resourceVersion = its key's mod_revision;
 * - create = Txn(If create_revision(key) = 0 Then Put); update/delete = Txn(If mod_revision(key) =
 *   expected Then Put/Delete Else Get) — a guaranteed update is this compare-and-swap, retried by
 *   the registry with the fresh value the failure branch read;
 * - list = Range over the prefix; a list without a limit is read in pages all at the first page's
 *   revision (one consistent snapshot); `revision` in ListOptions reads an older snapshot while etcd
 *   still has it (compacted → StorageError('Compacted'), the API's "continue token too old" 410);
 * - watch = ONE etcd watch on the whole prefix from `revision + 1` with prev_kv and progress
 *   notifications (watchstream.ts), fanned out locally through the same bounded EventLog the other
 *   backends use, as kube-apiserver's watch cache fans out its one etcd watch per resource.
 *
 * The contract says a write settles only after its event was delivered to watchers: the registry's
 * watch cache relies on it (read-your-writes). Here the event comes back through the etcd watch, so
 * a write waits until the watch has delivered its revision. A failed precondition (Conflict,
 * KeyExists, KeyNotFound) likewise waits until the newer state has arrived, so that the registry's
 * retry, which reads its cache, sees it — that is what makes two API servers on one etcd converge
 * instead of exhausting their retries on a stale cache.
 *
 * If the watch cannot resume because etcd compacted past it (a long disconnect while another API
 * server compacted), the local history is reset and every storage watch ends with
 * StorageError('Compacted') through its onError: watch caches re-list, and API watchers get 410 Gone.
 * When etcd cannot be reached, operations fail with StorageError('Unavailable') (the API's 503) and
 * `unavailable()` says why; the watch reconnects by itself and resumes from its last revision.
 */
import { EventLog } from '../eventlog.js';
import {
  StorageError, type KeyValue, type ListOptions, type ListResult, type Storage, type StorageEvent, type StorageWatch,
} from '../storage.js';
import { EtcdClient, EtcdUnavailableError, isTransportError, type EtcdClientOptions } from './client.js';
import type { PbEvent, PbKeyValue, RangeResponse, TxnResponse } from './proto.js';
import { PrefixWatch } from './watchstream.js';

export interface EtcdStorageOptions extends EtcdClientOptions {
  /** Prepended to every key in etcd, so several clusters can share one etcd. Default '' (keys as the registry names them, `/registry/...`). */
  prefix?: string;
  /** Events retained locally for watches from an older revision. Default 10000. */
  historySize?: number;
  /** Longest wait for the watch to deliver a write before the write settles anyway (ms). Default 5000. */
  deliveryTimeoutMs?: number;
  /** Keys per page when a list has no limit. Default 5000. */
  listPageSize?: number;
}

interface Waiter { rev: number; useProgress: boolean; resolve: (reached: boolean) => void; timer: NodeJS.Timeout }

/** The smallest key greater than every key starting with `prefix` (etcd's prefix range end). */
export function prefixRangeEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]); // every byte 0xff (or empty prefix): the range runs to the end of the keyspace
}

/** A range's start key: etcd rejects an empty key, and "\0" is its way to say "from the first key". */
function rangeStart(key: Buffer): Buffer {
  return key.length ? key : Buffer.from([0]);
}

export class EtcdStorage implements Storage {
  private readonly log: EventLog;
  private watchHandle: PrefixWatch;
  private readonly rootKey: Buffer;
  private readonly rootEnd: Buffer;
  /** rootKey as a range start (etcd wants "\0" for "from the first key"). */
  private readonly rootStart: Buffer;
  private readonly prefix: string;
  /** Highest revision whose events have been delivered (the open revision before any event). */
  private eventRev: number;
  /** Highest revision etcd said the watch has caught up to (progress notifications). */
  private progressRev = 0;
  private waiters: Waiter[] = [];
  private closed = false;
  private disconnectedReason?: string = 'etcd watch is connecting';
  private readonly deliveryTimeoutMs: number;
  private readonly pageSize: number;
  private compactedAway = false;

  private constructor(readonly client: EtcdClient, opts: EtcdStorageOptions, startRevision: number) {
    this.prefix = opts.prefix ?? '';
    this.rootKey = Buffer.from(this.prefix);
    this.rootEnd = prefixRangeEnd(this.rootKey);
    this.rootStart = rangeStart(this.rootKey);
    this.eventRev = startRevision;
    this.deliveryTimeoutMs = opts.deliveryTimeoutMs ?? 5000;
    this.pageSize = opts.listPageSize ?? 5000;
    this.log = new EventLog(startRevision, opts.historySize);
    this.watchHandle = this.startWatch(startRevision);
  }

  /** Connects to etcd (fails with StorageError('Unavailable') when no endpoint answers) and starts the watch. */
  static async open(opts: EtcdStorageOptions): Promise<EtcdStorage> {
    const client = new EtcdClient(opts);
    try {
      const root = Buffer.from(opts.prefix ?? '');
      const head = await client.range({ key: rangeStart(root), range_end: prefixRangeEnd(root), count_only: true });
      const s = new EtcdStorage(client, opts, Number(head.header.revision));
      await s.waitConnected(opts.requestTimeoutMs ?? 10_000);
      return s;
    } catch (e) {
      client.close();
      throw mapError(e, opts.prefix ?? '');
    }
  }

  private startWatch(from: number): PrefixWatch {
    return new PrefixWatch(this.client, this.rootStart, this.rootEnd, from, {
      onEvents: (evs) => this.deliver(evs),
      onProgress: (rev) => {
        if (rev > this.progressRev) this.progressRev = rev;
        this.wake();
      },
      onCompacted: (compactRev) => { void this.recoverFromCompaction(compactRev); },
      onState: (connected, reason) => {
        this.disconnectedReason = connected ? undefined : `etcd watch disconnected: ${reason ?? 'unknown'}`;
        if (connected) this.wake();
      },
    });
  }

  private connectWaiters: (() => void)[] = [];

  private waitConnected(timeoutMs: number): Promise<void> {
    if (this.watchHandle.isConnected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.watchHandle.stop();
        reject(new StorageError('Unavailable', this.prefix, `etcd watch could not be established within ${timeoutMs} ms: ${this.disconnectedReason ?? ''}`));
      }, timeoutMs);
      this.connectWaiters.push(() => { clearTimeout(t); resolve(); });
    });
  }

  // ---------------------------------------------------------------- watch feed

  private deliver(evs: PbEvent[]): void {
    for (const pe of evs) {
      const ev = this.toEvent(pe);
      if (!ev) continue;
      if (ev.revision > this.eventRev) this.eventRev = ev.revision;
      this.log.append(ev);
    }
    this.wake();
  }

  private toEvent(pe: PbEvent): StorageEvent | undefined {
    if (!pe.kv) return undefined;
    const key = this.fromEtcdKey(pe.kv.key);
    const revision = Number(pe.kv.mod_revision);
    const prev = pe.prev_kv && pe.prev_kv.key.length ? this.toKV(pe.prev_kv) : undefined;
    if (pe.type === 'DELETE') {
      const kv: KeyValue = prev ? { ...prev, modRevision: revision } : { key, value: '', createRevision: 0, modRevision: revision };
      return { type: 'delete', kv, prev, revision };
    }
    return { type: 'put', kv: this.toKV(pe.kv), prev, revision };
  }

  private wake(): void {
    if (this.watchHandle?.isConnected) for (const w of this.connectWaiters.splice(0)) w();
    if (this.waiters.length === 0) return;
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      const reached = this.eventRev >= w.rev || (w.useProgress && this.progressRev >= w.rev);
      if (reached) { clearTimeout(w.timer); w.resolve(true); } else keep.push(w);
    }
    this.waiters = keep;
  }

  /**
   * Waits until the watch has delivered `rev`. `useProgress`: a progress notification at or past
   * `rev` counts too (for failed preconditions, whose newer state may have been written at a
   * revision whose event is outside any key we can name). Resolves false on timeout.
   */
  private caughtUp(rev: number, useProgress = false): Promise<boolean> {
    if (this.eventRev >= rev || (useProgress && this.progressRev >= rev) || this.closed) return Promise.resolve(true);
    if (useProgress) this.watchHandle.requestProgress();
    return new Promise((resolve) => {
      const w: Waiter = {
        rev, useProgress, resolve,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((x) => x !== w);
          resolve(false);
        }, this.deliveryTimeoutMs),
      };
      this.waiters.push(w);
    });
  }

  /**
   * etcd compacted past our watch (we were disconnected too long): history is lost. Re-anchor at the
   * current revision and end every storage watch with Compacted so its owner re-lists.
   */
  private async recoverFromCompaction(compactRev: number): Promise<void> {
    if (this.closed) return;
    this.compactedAway = true;
    for (;;) {
      try {
        const head = await this.client.range({ key: this.rootStart, range_end: this.rootEnd, count_only: true });
        const rev = Number(head.header.revision);
        this.eventRev = Math.max(this.eventRev, rev);
        this.watchHandle = this.startWatch(rev);
        this.compactedAway = false;
        this.log.reset(rev, new StorageError('Compacted', this.prefix,
          `the etcd watch fell behind compaction (compacted at ${compactRev}); re-list from revision ${rev}`));
        this.wake();
        for (const w of this.waiters.splice(0)) { clearTimeout(w.timer); w.resolve(true); }
        return;
      } catch {
        if (this.closed) return;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  // ---------------------------------------------------------------- Storage

  revision(): number {
    return this.eventRev;
  }

  /** Why this store cannot serve right now (undefined when it can): its etcd watch is down. */
  unavailable(): string | undefined {
    if (this.closed) return 'storage is closed';
    return this.compactedAway ? 'etcd watch is re-synchronising after a compaction' : this.disconnectedReason;
  }

  async get(key: string): Promise<KeyValue | undefined> {
    this.check(key);
    try {
      const r = await this.client.range({ key: this.etcdKey(key) });
      return r.kvs.length ? this.toKV(r.kvs[0]) : undefined;
    } catch (e) {
      throw mapError(e, key);
    }
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.check(prefix);
    const start = rangeStart(this.etcdKey(prefix));
    const end = prefixRangeEnd(this.etcdKey(prefix));
    let from = opts.continueAfter !== undefined ? Buffer.concat([this.etcdKey(opts.continueAfter), Buffer.from([0])]) : start;
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    try {
      if (limit > 0) {
        const r = await this.client.range({ key: from, range_end: end, limit, revision: opts.revision ?? 0 });
        const items = r.kvs.map((kv) => this.toKV(kv));
        const revision = opts.revision ?? Number(r.header.revision);
        const remaining = Number(r.count) - items.length;
        return r.more && remaining > 0
          ? { items, revision, continueAfter: items[items.length - 1].key, remaining }
          : { items, revision };
      }
      // Everything: pages of `pageSize`, all read at the first page's revision (one snapshot).
      const items: KeyValue[] = [];
      let revision = opts.revision ?? 0;
      for (;;) {
        const r: RangeResponse = await this.client.range({ key: from, range_end: end, limit: this.pageSize, revision });
        if (revision === 0) revision = Number(r.header.revision);
        for (const kv of r.kvs) items.push(this.toKV(kv));
        if (!r.more || r.kvs.length === 0) break;
        from = Buffer.concat([r.kvs[r.kvs.length - 1].key, Buffer.from([0])]);
      }
      return { items, revision };
    } catch (e) {
      throw mapError(e, prefix);
    }
  }

  async create(key: string, value: string): Promise<KeyValue> {
    this.check(key);
    const k = this.etcdKey(key);
    const r = await this.txn(key, {
      compare: [{ result: 'EQUAL', target: 'CREATE', key: k, create_revision: 0 }],
      success: [{ request_put: { key: k, value: Buffer.from(value) } }],
      failure: [{ request_range: { key: k } }],
    });
    if (!r.succeeded) {
      const cur = r.responses[0]?.response_range?.kvs[0];
      await this.caughtUp(cur ? Number(cur.mod_revision) : Number(r.header.revision), true);
      throw new StorageError('KeyExists', key);
    }
    const rev = Number(r.header.revision);
    await this.settled(rev);
    return { key, value, createRevision: rev, modRevision: rev };
  }

  async update(key: string, value: string, expectedModRevision?: number): Promise<KeyValue> {
    this.check(key);
    const k = this.etcdKey(key);
    const r = await this.txn(key, {
      compare: [expectedModRevision !== undefined
        ? { result: 'EQUAL', target: 'MOD', key: k, mod_revision: expectedModRevision }
        : { result: 'GREATER', target: 'CREATE', key: k, create_revision: 0 }],
      success: [{ request_put: { key: k, value: Buffer.from(value), prev_kv: true } }],
      failure: [{ request_range: { key: k } }],
    });
    if (!r.succeeded) await this.preconditionFailed(key, r, expectedModRevision);
    const rev = Number(r.header.revision);
    const prev = r.responses[0]?.response_put?.prev_kv;
    await this.settled(rev);
    return { key, value, createRevision: prev ? Number(prev.create_revision) : rev, modRevision: rev };
  }

  async delete(key: string, expectedModRevision?: number): Promise<{ prev: KeyValue; revision: number }> {
    this.check(key);
    const k = this.etcdKey(key);
    const r = await this.txn(key, {
      compare: [expectedModRevision !== undefined
        ? { result: 'EQUAL', target: 'MOD', key: k, mod_revision: expectedModRevision }
        : { result: 'GREATER', target: 'CREATE', key: k, create_revision: 0 }],
      success: [{ request_delete_range: { key: k, prev_kv: true } }],
      failure: [{ request_range: { key: k } }],
    });
    if (!r.succeeded) await this.preconditionFailed(key, r, expectedModRevision);
    const revision = Number(r.header.revision);
    const prevKv = r.responses[0]?.response_delete_range?.prev_kvs[0];
    await this.settled(revision);
    return { prev: prevKv ? this.toKV(prevKv) : { key, value: '', createRevision: 0, modRevision: 0 }, revision };
  }

  /** Throws KeyNotFound or Conflict for a failed compare, once the newer state has been delivered. */
  private async preconditionFailed(key: string, r: TxnResponse, expected?: number): Promise<never> {
    const cur = r.responses[0]?.response_range?.kvs[0];
    // A deletion has no key to name: wait for etcd's progress at the response's revision instead.
    await this.caughtUp(cur ? Number(cur.mod_revision) : Number(r.header.revision), true);
    if (!cur) throw new StorageError('KeyNotFound', key);
    throw new StorageError('Conflict', key, `${key}: expected revision ${expected}, found ${cur.mod_revision}`);
  }

  /** A successful write settles once the watch delivered it (or after deliveryTimeoutMs, with a warning). */
  private async settled(rev: number): Promise<void> {
    if (await this.caughtUp(rev)) return;
    console.error(`etcd storage: the watch has not delivered revision ${rev} within ${this.deliveryTimeoutMs} ms (${this.disconnectedReason ?? 'connected'}); returning the write anyway`);
  }

  private async txn(key: string, req: Parameters<EtcdClient['txn']>[0]): Promise<TxnResponse> {
    try {
      return await this.client.txn(req);
    } catch (e) {
      throw mapError(e, key);
    }
  }

  watch(prefix: string, fromRevision: number, onEvent: (ev: StorageEvent) => void, onError?: (err: StorageError) => void): StorageWatch {
    this.check(prefix);
    return this.log.watch(prefix, fromRevision, onEvent, onError);
  }

  /**
   * Compacts etcd's history up to `revision` and this process's local history with it. etcd's
   * "already compacted" is success (another API server got there first).
   */
  async compact(revision: number): Promise<void> {
    this.check('');
    const rev = Math.min(revision, this.eventRev);
    try {
      await this.client.compact(rev);
    } catch (e) {
      const m = mapError(e, '');
      if (!(m instanceof StorageError && m.code === 'Compacted')) throw m;
    }
    this.log.compact(rev);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watchHandle.stop();
    for (const w of this.waiters.splice(0)) { clearTimeout(w.timer); w.resolve(true); }
    this.log.close();
    this.client.close();
  }

  // ---------------------------------------------------------------- helpers

  private etcdKey(key: string): Buffer {
    return Buffer.from(this.prefix + key);
  }

  private fromEtcdKey(k: Buffer): string {
    return k.subarray(this.rootKey.length).toString('utf8');
  }

  private toKV(kv: PbKeyValue): KeyValue {
    return {
      key: this.fromEtcdKey(kv.key), value: kv.value.toString('utf8'),
      createRevision: Number(kv.create_revision), modRevision: Number(kv.mod_revision),
    };
  }

  private check(key: string): void {
    if (this.closed) throw new StorageError('Closed', key, 'storage is closed');
  }
}

/** etcd/gRPC failures → StorageError where the contract has a code; anything else passes through. */
function mapError(e: unknown, key: string): unknown {
  if (e instanceof StorageError) return e;
  if (e instanceof EtcdUnavailableError) return new StorageError('Unavailable', key, `etcd is unavailable: ${e.message}`);
  if (isTransportError(e)) return new StorageError('Unavailable', key, `etcd is unavailable: ${e.details || e.message}`);
  const details = (e as { details?: string }).details ?? '';
  if (/required revision has been compacted/.test(details)) return new StorageError('Compacted', key, details);
  if (details) return new Error(details);
  return e;
}

/**
 * Periodic compaction of etcd's history, following kube-apiserver's protocol
 * (staging/src/k8s.io/apiserver/pkg/storage/etcd3/compact.go) so that several API servers on one
 * etcd compact once per interval between them, and keep at least one interval of history:
 *
 * - the key `compact_rev_key` holds the last compacted revision; its *version* is a logical clock;
 * - each tick: Txn(If version(compact_rev_key) = the version this server last saw
 *   Then Put(compact_rev_key, revision seen at the previous tick) Else Get(compact_rev_key));
 * - the winner compacts to the revision it saw one interval ago; a loser learns the new version and
 *   tries again next interval (if the winner dies, a loser takes over one interval later).
 *
 * The key is global (not under a cluster's prefix): compaction is global to an etcd, so every API
 * server on it — also a real kube-apiserver — takes part in the same protocol.
 *
 * Compaction only marks history as gone; etcd's database file does not shrink until it is
 * defragmented (see src/storage/README.md, "Compaction and defragmentation").
 */
import type { EtcdClient } from './client.js';

export const COMPACT_REV_KEY = 'compact_rev_key';

/** kube-apiserver's default --etcd-compaction-interval. */
export const DEFAULT_COMPACTION_INTERVAL_MS = 5 * 60_000;

export class EtcdCompactor {
  private timer?: NodeJS.Timeout;
  /** The version of compact_rev_key this server last saw (0: the key does not exist yet). */
  private version = 0;
  /** The store revision seen at the previous tick: what the next successful tick compacts to. */
  private lastRev = 0;
  /** The revision this compactor (or, as last seen, another) compacted to. */
  compactedRevision = 0;

  constructor(private readonly client: EtcdClient, readonly intervalMs = DEFAULT_COMPACTION_INTERVAL_MS, private readonly log: (msg: string) => void = () => {}) {}

  /** Starts ticking every `intervalMs` (0 disables compaction). */
  start(): void {
    if (this.intervalMs <= 0 || this.timer) return;
    const loop = (): void => {
      this.timer = setTimeout(() => {
        this.tick().catch((e) => this.log(`etcd compaction failed: ${e instanceof Error ? e.message : String(e)}`)).finally(() => {
          if (this.timer) loop();
        });
      }, this.intervalMs);
      this.timer.unref();
    };
    loop();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One round of the protocol. Returns the revision compacted to, or undefined when this server did not compact. */
  async tick(): Promise<number | undefined> {
    const key = Buffer.from(COMPACT_REV_KEY);
    const r = await this.client.txn({
      compare: [{ result: 'EQUAL', target: 'VERSION', key, version: this.version }],
      success: [{ request_put: { key, value: Buffer.from(String(this.lastRev)) } }],
      failure: [{ request_range: { key } }],
    });
    const current = Number(r.header.revision);
    if (!r.succeeded) {
      const kv = r.responses[0]?.response_range?.kvs[0];
      this.version = kv ? Number(kv.version) : 0;
      if (kv) this.compactedRevision = Number(kv.value.toString()) || this.compactedRevision;
      this.lastRev = current;
      return undefined;
    }
    this.version++;
    const target = this.lastRev;
    this.lastRev = current;
    if (target === 0) return undefined; // the first round only takes the clock, as kube-apiserver does at start
    try {
      await this.client.compact(target);
    } catch (e) {
      // Someone (a manual `etcdctl compact`) already went further: nothing to do.
      if (!/required revision has been compacted/.test((e as { details?: string }).details ?? '')) throw e;
    }
    this.compactedRevision = target;
    this.log(`etcd: compacted history up to revision ${target}`);
    return target;
  }
}

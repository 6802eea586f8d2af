/**
 * One etcd watch on a key range that survives disconnects: it resumes from the revision after the
 * last event it delivered (never from a response header's revision — after a partial catch-up batch
 * the header is ahead of the events still to come), asks for progress notifications, and reports a
 * compaction it cannot resume across instead of skipping events.
 *
 * Mapping (kube-apiserver's etcd3 watcher): start at `fromRevision + 1` with prev_kv and
 * progress_notify; `compact_revision` on a canceled response means the requested revision is gone →
 * the owner must re-list (410 Gone for API watchers). The stream carries `hasleader: true` metadata,
 * as etcd's Go client does, so a member that loses its leader ends the stream and we move to another.
 */
import * as grpc from '@grpc/grpc-js';
import type { EtcdClient } from './client.js';
import type { PbEvent, WatchRequest, WatchResponse } from './proto.js';

export interface PrefixWatchHandlers {
  /** Events of one response, in revision order. */
  onEvents(events: PbEvent[]): void;
  /** etcd says every change up to `revision` has been sent (progress notification or response). */
  onProgress(revision: number): void;
  /** The next revision to deliver was compacted: events were lost; the watch has stopped. */
  onCompacted(compactRevision: number): void;
  /** Stream established (true) or lost (false, with the reason). */
  onState(connected: boolean, reason?: string): void;
}

export class PrefixWatch {
  private stream?: grpc.ClientDuplexStream<WatchRequest, WatchResponse>;
  private endpointIndex = 0;
  private stopped = false;
  private connected = false;
  private retryTimer?: NodeJS.Timeout;
  private backoffMs = 100;
  /** The next revision to ask for. */
  private next: number;

  constructor(
    private readonly client: EtcdClient,
    private readonly key: Buffer,
    private readonly rangeEnd: Buffer,
    fromRevision: number,
    private readonly h: PrefixWatchHandlers,
  ) {
    this.next = fromRevision + 1;
    this.open();
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Asks etcd for a progress notification (answered once the watch has caught up). */
  requestProgress(): void {
    if (this.connected) this.stream?.write({ progress_request: {} });
  }

  private open(): void {
    if (this.stopped) return;
    const md = new grpc.Metadata();
    md.set('hasleader', 'true');
    const { stream, endpointIndex } = this.openOn(md);
    this.stream = stream;
    this.endpointIndex = endpointIndex;
    let ended = false;
    const fail = (reason: string): void => {
      if (ended) return;
      ended = true;
      stream.removeAllListeners('data');
      stream.cancel();
      if (this.stream === stream) this.stream = undefined;
      this.lost(reason);
    };
    stream.on('data', (res: WatchResponse) => {
      try {
        this.handle(res, fail);
      } catch (e) {
        console.error('etcd watch: handling a response failed:', e);
      }
    });
    stream.on('error', (e: grpc.ServiceError) => fail(e.details || e.message));
    stream.on('end', () => fail('stream ended'));
    stream.write({
      create_request: {
        key: this.key, range_end: this.rangeEnd, start_revision: this.next, progress_notify: true, prev_kv: true,
      },
    });
  }

  private openOn(md: grpc.Metadata): { stream: grpc.ClientDuplexStream<WatchRequest, WatchResponse>; endpointIndex: number } {
    const o = this.client.openWatch(md);
    return { stream: o.stream, endpointIndex: o.endpointIndex };
  }

  private handle(res: WatchResponse, fail: (reason: string) => void): void {
    const compactRev = Number(res.compact_revision);
    if (res.canceled) {
      if (compactRev > 0) {
        // The revision we need is gone: stop for good and let the owner re-list.
        this.stopped = true;
        this.setConnected(false, `required revision ${this.next} has been compacted (compact revision ${compactRev})`);
        this.stream?.cancel();
        this.stream = undefined;
        this.h.onCompacted(compactRev);
        return;
      }
      fail(`watch canceled: ${res.cancel_reason || 'no reason given'}`);
      return;
    }
    if (res.created) {
      this.backoffMs = 100;
      this.setConnected(true);
      return;
    }
    if (res.events.length > 0) {
      const last = res.events[res.events.length - 1].kv;
      this.next = Number(last!.mod_revision) + 1;
      this.h.onEvents(res.events);
      return;
    }
    // No events: a progress notification (periodic, or answering requestProgress with watch_id -1).
    // etcd sends it only to a synced watcher: nothing at or below the header revision is still to come.
    const rev = Number(res.header.revision);
    if (rev >= this.next) this.next = rev + 1;
    this.h.onProgress(rev);
  }

  private setConnected(c: boolean, reason?: string): void {
    if (this.connected === c) return;
    this.connected = c;
    this.h.onState(c, reason);
  }

  private lost(reason: string): void {
    this.setConnected(false, reason);
    if (this.stopped) return;
    this.client.rotate(this.endpointIndex);
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, 2000);
    this.retryTimer = setTimeout(() => { this.retryTimer = undefined; this.open(); }, delay);
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const s = this.stream;
    this.stream = undefined;
    if (s) {
      s.removeAllListeners('data');
      s.on('error', () => {});
      s.cancel();
    }
    this.connected = false;
  }
}

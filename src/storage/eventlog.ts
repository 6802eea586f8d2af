/**
 * The bounded event history and watcher fan-out shared by the backends (memory, SQLite, and etcd,
 * which feeds it from its one etcd watch). Keeps the last `capacity` events; `compact(rev)` drops
 * older ones. A watch from a revision the log no longer covers fails with StorageError('Compacted').
 */
import { StorageError, type StorageEvent, type StorageWatch } from './storage.js';

interface Watcher {
  prefix: string;
  /** Only events after this revision are delivered (a live event can be older when the backend's feed lags its reads). */
  from: number;
  onEvent: (ev: StorageEvent) => void;
  onError?: (err: StorageError) => void;
}

export class EventLog {
  private events: StorageEvent[] = [];
  /** Every event with revision > `floor` is retained. */
  private floor: number;
  private readonly watchers = new Set<Watcher>();

  constructor(startRevision: number, private readonly capacity = 10_000) {
    this.floor = startRevision;
  }

  /** The oldest revision a watch may start from. */
  get oldest(): number {
    return this.floor;
  }

  /** Records a committed event and delivers it to matching watchers synchronously. */
  append(ev: StorageEvent): void {
    this.events.push(ev);
    if (this.events.length > this.capacity * 1.25) {
      const drop = this.events.length - this.capacity;
      this.floor = this.events[drop - 1].revision;
      this.events = this.events.slice(drop);
    }
    for (const w of this.watchers) {
      if (ev.revision <= w.from || !ev.kv.key.startsWith(w.prefix)) continue;
      // The write has committed: a failing watcher must not make it look failed to the writer.
      try {
        w.onEvent(ev);
      } catch (err) {
        console.error(`storage watch ${w.prefix}: handler failed:`, err);
      }
    }
  }

  watch(prefix: string, fromRevision: number, onEvent: (ev: StorageEvent) => void, onError?: (err: StorageError) => void): StorageWatch {
    if (fromRevision < this.floor) {
      throw new StorageError('Compacted', prefix, `required revision ${fromRevision} has been compacted (oldest ${this.floor})`);
    }
    // Replay retained history first; delivery is synchronous so no live event can interleave.
    for (const ev of this.events) {
      if (ev.revision > fromRevision && ev.kv.key.startsWith(prefix)) onEvent(ev);
    }
    const w: Watcher = { prefix, from: fromRevision, onEvent, onError };
    this.watchers.add(w);
    return { stop: () => { this.watchers.delete(w); } };
  }

  compact(revision: number): void {
    if (revision <= this.floor) return;
    this.events = this.events.filter((e) => e.revision > revision);
    this.floor = revision;
  }

  /**
   * The feed lost events it cannot replay: forget all history up to `revision`, and end every watch
   * with `err` (their owners re-list, as a Kubernetes watch cache does after its etcd watch failed).
   */
  reset(revision: number, err: StorageError): void {
    this.events = [];
    this.floor = Math.max(this.floor, revision);
    const ws = [...this.watchers];
    this.watchers.clear();
    for (const w of ws) {
      try {
        w.onError?.(err);
      } catch (e) {
        console.error(`storage watch ${w.prefix}: error handler failed:`, e);
      }
    }
  }

  close(): void {
    this.watchers.clear();
  }
}

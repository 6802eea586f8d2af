/**
 * The bounded event history and watcher fan-out shared by the single-process backends (memory,
 * SQLite). Keeps the last `capacity` events; `compact(rev)` drops older ones. A watch from a
 * revision the log no longer covers fails with StorageError('Compacted').
 */
import { StorageError, type StorageEvent, type StorageWatch } from './storage.js';

interface Watcher {
  prefix: string;
  onEvent: (ev: StorageEvent) => void;
}

export class EventLog {
  private events: StorageEvent[] = [];
  /** Every event with revision > `floor` is retained. */
  private floor: number;
  private readonly watchers = new Set<Watcher>();

  constructor(startRevision: number, private readonly capacity = 10_000) {
    this.floor = startRevision;
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
      if (!ev.kv.key.startsWith(w.prefix)) continue;
      // The write has committed: a failing watcher must not make it look failed to the writer.
      try {
        w.onEvent(ev);
      } catch (err) {
        console.error(`storage watch ${w.prefix}: handler failed:`, err);
      }
    }
  }

  watch(prefix: string, fromRevision: number, onEvent: (ev: StorageEvent) => void): StorageWatch {
    if (fromRevision < this.floor) {
      throw new StorageError('Compacted', prefix, `required revision ${fromRevision} has been compacted (oldest ${this.floor})`);
    }
    // Replay retained history first; delivery is synchronous so no live event can interleave.
    for (const ev of this.events) {
      if (ev.revision > fromRevision && ev.kv.key.startsWith(prefix)) onEvent(ev);
    }
    const w: Watcher = { prefix, onEvent };
    this.watchers.add(w);
    return { stop: () => { this.watchers.delete(w); } };
  }

  compact(revision: number): void {
    if (revision <= this.floor) return;
    this.events = this.events.filter((e) => e.revision > revision);
    this.floor = revision;
  }

  close(): void {
    this.watchers.clear();
  }
}

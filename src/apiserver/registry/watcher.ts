/**
 * One API watch, fed from a resource's WatchCache: filters by namespace and selectors, turns
 * "stopped matching" into DELETED and "started matching" into ADDED (as the Kubernetes watch cache
 * does), sends BOOKMARKs, ends at timeoutSeconds. Delivery is asynchronous (microtask queue) so a
 * handler that writes back to the API never re-enters the cache that is delivering to it.
 */
import { ApiError } from '../../api/errors.js';
import type { KubeObject } from '../../api/object.js';
import type { ResourceInfo } from '../../api/resources.js';
import { groupVersion } from '../../api/resources.js';
import type { WatchEvent, WatchHandle } from '../../api/requests.js';
import type { CacheEvent, CachedObject } from './watchcache.js';

export type ObjectFilter = (obj: KubeObject) => boolean;

export class ApiWatcher implements WatchHandle {
  readonly done: Promise<void>;
  private resolve!: () => void;
  private reject!: (e: unknown) => void;
  private queue: WatchEvent[] = [];
  private scheduled = false;
  private ended = false;
  private timers: NodeJS.Timeout[] = [];
  private unsubscribe?: () => void;

  constructor(
    readonly info: ResourceInfo,
    private readonly filter: ObjectFilter,
    private readonly onEvent: (ev: WatchEvent) => void,
    /** Deliver the cache's own frozen objects instead of a private copy each (in-process readers). */
    private readonly shared = false,
  ) {
    this.done = new Promise<void>((res, rej) => { this.resolve = res; this.reject = rej; });
    // A rejected `done` nobody awaits must not crash the process.
    this.done.catch(() => {});
  }

  /** Wires the watcher to its source; `unsubscribe` is called when it ends. */
  attach(unsubscribe: () => void, opts: { timeoutSeconds?: number; bookmarkMs?: number; currentRevision: () => number }): void {
    this.unsubscribe = unsubscribe;
    if (opts.timeoutSeconds && opts.timeoutSeconds > 0) {
      const t = setTimeout(() => this.end(), opts.timeoutSeconds * 1000);
      this.timers.push(t);
    }
    if (opts.bookmarkMs && opts.bookmarkMs > 0) {
      const t = setInterval(() => this.push({ type: 'BOOKMARK', object: this.bookmark(opts.currentRevision()) }), opts.bookmarkMs);
      t.unref?.();
      this.timers.push(t);
    }
  }

  private bookmark(rv: number): KubeObject {
    return { apiVersion: groupVersion(this.info), kind: this.info.kind, metadata: { resourceVersion: String(rv) } };
  }

  /** The object an event carries: shared, or the watcher's private copy. */
  private objectOf(c: CachedObject): KubeObject {
    return this.shared ? c.obj : c.copy();
  }

  /**
   * The BOOKMARK that ends the initial events of a watch-list request (sendInitialEvents=true):
   * annotated `k8s.io/initial-events-end: "true"`, at the revision the initial state was taken.
   */
  initialEventsEnd(rv: number): void {
    const b = this.bookmark(rv);
    this.push({ type: 'BOOKMARK', object: { ...b, metadata: { ...b.metadata, annotations: { 'k8s.io/initial-events-end': 'true' } } } });
  }

  /** Sends the synthetic ADDED events of an initial state. */
  initial(objs: Iterable<CachedObject>): void {
    for (const o of objs) if (this.filter(o.obj)) this.push({ type: 'ADDED', object: this.objectOf(o) });
  }

  /** Translates one cache event for this watcher. */
  handle(ev: CacheEvent): void {
    if (this.ended) return;
    const curMatch = this.filter(ev.cur.obj);
    const prevMatch = ev.prev ? this.filter(ev.prev.obj) : false;
    const obj = (): KubeObject => this.objectOf(ev.cur);
    switch (ev.type) {
      case 'ADDED':
        if (curMatch) this.push({ type: 'ADDED', object: obj() });
        break;
      case 'DELETED':
        if (curMatch || prevMatch) this.push({ type: 'DELETED', object: obj() });
        break;
      case 'MODIFIED':
        if (curMatch && prevMatch) this.push({ type: 'MODIFIED', object: obj() });
        else if (curMatch) this.push({ type: 'ADDED', object: obj() });
        else if (prevMatch) this.push({ type: 'DELETED', object: obj() });
        break;
    }
  }

  private push(ev: WatchEvent): void {
    if (this.ended) return;
    this.queue.push(ev);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    const q = this.queue;
    this.queue = [];
    for (const ev of q) {
      if (this.ended) return;
      try {
        this.onEvent(ev);
      } catch (err) {
        console.error(`watch ${this.info.plural}: handler failed:`, err);
      }
    }
  }

  /** Ends the watch with an ERROR event carrying `err`'s Status; `done` rejects with it. */
  fail(err: ApiError): void {
    if (this.ended) return;
    this.push({ type: 'ERROR', object: err.toStatus() as unknown as KubeObject });
    queueMicrotask(() => {
      queueMicrotask(() => {
        this.finish();
        this.reject(err);
      });
    });
  }

  /** Stops at once: no event is delivered after stop() returns. */
  stop(): void {
    if (this.ended) return;
    this.queue = [];
    this.finish();
    this.resolve();
  }

  /** Ends normally after delivering what is already queued (timeoutSeconds, server shutdown). */
  end(): void {
    if (this.ended) return;
    queueMicrotask(() => {
      this.finish();
      this.resolve();
    });
  }

  private finish(): void {
    if (this.ended) return;
    if (this.scheduled || this.queue.length) this.flush();
    this.ended = true;
    for (const t of this.timers) clearTimeout(t);
    this.unsubscribe?.();
  }
}

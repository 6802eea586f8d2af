/**
 * EventRecorder: writes core/v1 Events the way client-go's legacy recorder does, so `kubectl
 * describe` shows them. Repeats of the same event (same object, reason, message, type, source) bump
 * `count` and `lastTimestamp` on the existing Event instead of creating a new one.
 *
 * Recording never throws and never blocks the caller: events are best effort, as in Kubernetes.
 */
import type { Event, ObjectReference } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../api/object.js';
import { isNotFound } from '../api/errors.js';
import { R } from '../api/resources.js';
import type { Client } from '../client/client.js';

/** 'Normal' or 'Warning', as Kubernetes. */
export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  /** Clock (tests inject one). Default `() => new Date()`. */
  now?: () => Date;
  /** source.host, if any. */
  host?: string;
  /**
   * client-go's spam filter (EventSourceObjectSpamFilter): each distinct event may be recorded
   * `burst` times at once, then once per `refillMs` (a token bucket); the rest are dropped. Bounds
   * the API writes of something that repeats forever, e.g. a failing probe every second. client-go
   * defaults: 25 and 5 minutes (SPAM_FILTER_DEFAULTS). Absent: no filter.
   */
  spamFilter?: { burst: number; refillMs: number };
}

/** client-go's spam filter defaults: a burst of 25, then one event per 5 minutes. */
export const SPAM_FILTER_DEFAULTS = { burst: 25, refillMs: 300_000 };

/** The reference an Event points at. */
export function referenceTo(obj: KubeObject): ObjectReference {
  return {
    apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.metadata?.namespace,
    name: obj.metadata?.name, uid: obj.metadata?.uid, resourceVersion: obj.metadata?.resourceVersion,
  };
}

interface Seen { namespace: string; name: string; count: number; first: string }

/** Records Events for one component (source.component, e.g. "replicaset-controller"). */
export class EventRecorder {
  private readonly seen = new Map<string, Seen>();
  private readonly pending = new Set<Promise<void>>();
  /** The last write of each event key: a repeat waits for it (it needs the Event's name). */
  private readonly chains = new Map<string, Promise<void>>();
  /** Spam filter buckets: event key → tokens left and when they were counted (epoch ms). */
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly now: () => Date;

  constructor(private readonly client: Client, readonly component: string, private readonly opts: EventRecorderOptions = {}) {
    this.now = opts.now ?? (() => new Date());
  }

  /**
   * Records one event about `obj` (`fieldPath`: the part of it, e.g. `spec.containers{app}`).
   * Returns at once; `flush()` waits for the write. Repeats of one event are written one after the
   * other, so a burst still becomes one Event whose count grows.
   */
  event(obj: KubeObject, type: EventType, reason: string, message: string, fieldPath?: string): void {
    const ref: ObjectReference = { ...referenceTo(obj), ...(fieldPath ? { fieldPath } : {}) };
    const key = [this.component, ref.kind, ref.namespace || 'default', ref.name, ref.uid, ref.fieldPath ?? '', reason, message, type].join('\u0000');
    if (!this.allowed(key)) return;
    const p = (this.chains.get(key) ?? Promise.resolve()).then(() => this.write(key, ref, type, reason, message)).catch((err) => {
      console.error(`${this.component}: event ${reason} not recorded:`, err instanceof Error ? err.message : err);
    });
    this.chains.set(key, p);
    this.pending.add(p);
    void p.finally(() => {
      this.pending.delete(p);
      if (this.chains.get(key) === p) this.chains.delete(key);
    });
  }

  /** The spam filter's verdict for one more event of `key` (takes a token when there is one). */
  private allowed(key: string): boolean {
    const f = this.opts.spamFilter;
    if (!f) return true;
    const now = this.now().getTime();
    const b = this.buckets.get(key) ?? { tokens: f.burst, at: now };
    b.tokens = Math.min(f.burst, b.tokens + (now - b.at) / f.refillMs);
    b.at = now;
    this.buckets.delete(key);
    this.buckets.set(key, b);
    // Bounded as the dedupe cache (client-go's LRU of 4096); the least recently used go first.
    if (this.buckets.size > 4096) this.buckets.delete(this.buckets.keys().next().value!);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Resolves when every recorded event has been written (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private async write(key: string, ref: ObjectReference, type: EventType, reason: string, message: string): Promise<void> {
    const namespace = ref.namespace || 'default';
    const ts = this.now();
    const stamp = ts.toISOString().replace(/\.\d{3}Z$/, 'Z');
    const prev = this.seen.get(key);
    if (prev) {
      prev.count++;
      try {
        await this.client.patch(R.events, prev.namespace, prev.name, 'application/merge-patch+json',
          { count: prev.count, lastTimestamp: stamp });
        return;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        // The event expired or was deleted: create it afresh below.
      }
    }
    // client-go names events `<object>.<unix nanos in hex>`.
    const name = `${ref.name}.${(BigInt(ts.getTime()) * 1_000_000n + BigInt(Math.floor(Math.random() * 1e6))).toString(16)}`;
    const ev: Event = {
      apiVersion: 'v1', kind: 'Event',
      metadata: { name, namespace },
      involvedObject: ref, reason, message, type,
      source: { component: this.component, ...(this.opts.host ? { host: this.opts.host } : {}) },
      firstTimestamp: prev?.first ?? stamp, lastTimestamp: stamp, count: prev?.count ?? 1,
      reportingComponent: this.component, reportingInstance: this.opts.host ?? '',
    };
    await this.client.create(R.events, namespace, ev);
    this.seen.set(key, { namespace, name, count: ev.count ?? 1, first: ev.firstTimestamp! });
    // Bound the dedupe cache, as client-go's LRU does (4096 entries).
    if (this.seen.size > 4096) this.seen.delete(this.seen.keys().next().value!);
  }
}

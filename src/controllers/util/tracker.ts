/**
 * Remembers what a controller wrote per work key (object name → resourceVersion, or null for a
 * delete) so a sync can tell a stale informer cache from the truth (EndpointSliceTracker).
 * resourceVersions are compared numerically: the storage revision is one increasing counter.
 */
import type { KubeObject } from '../../api/object.js';

function newerOrEqual(cached: string | undefined, written: string): boolean {
  if (cached === undefined) return false;
  try { return BigInt(cached) >= BigInt(written); } catch { return cached === written; }
}

export class WriteTracker {
  private readonly written = new Map<string, Map<string, string | null>>();
  /** Writes in flight: key → name → resourceVersions of events seen for it meanwhile. */
  private readonly pending = new Map<string, Map<string, (string | null)[]>>();

  /** Marks a write for `key`/`name` as in flight (its watch event may arrive before it returns). */
  begin(key: string, name: string): void {
    let m = this.pending.get(key);
    if (!m) this.pending.set(key, m = new Map());
    m.set(name, []);
  }

  /**
   * Records a write made for `key`: the object's new resourceVersion, or null when deleted.
   * Returns true when an event other than this write's own was seen while it was in flight
   * (the caller must sync again).
   */
  record(key: string, name: string, resourceVersion: string | null): boolean {
    let m = this.written.get(key);
    if (!m) this.written.set(key, m = new Map());
    m.set(name, resourceVersion);
    const seen = this.pending.get(key)?.get(name) ?? [];
    this.end(key, name);
    return seen.some((rv) => rv !== resourceVersion);
  }

  /** Ends an in-flight write that failed. */
  end(key: string, name: string): void {
    const p = this.pending.get(key);
    p?.delete(name);
    if (p?.size === 0) this.pending.delete(key);
  }

  /**
   * True when a watch event (object `name` at `resourceVersion`, null for DELETED) is this
   * controller's own write, so it needs no new sync (EndpointSliceTracker.ShouldSync).
   */
  isOwnWrite(key: string, name: string, resourceVersion: string | null): boolean {
    const inflight = this.pending.get(key)?.get(name);
    if (inflight) { inflight.push(resourceVersion); return true; }
    const m = this.written.get(key);
    if (m !== undefined && m.has(name) && m.get(name) === resourceVersion) return true;
    // Someone else deleted an object we wrote: the cache will never show our version of it again,
    // so it must not count as stale (EndpointSliceTracker.HandleDeletion).
    if (resourceVersion === null) m?.delete(name);
    return false;
  }

  /** True when the cache (looked up by name) has not yet seen every write recorded for `key`. */
  isStale(key: string, lookup: (name: string) => KubeObject | undefined): boolean {
    const m = this.written.get(key);
    if (!m) return false;
    for (const [name, rv] of m) {
      const cached = lookup(name);
      const seen = rv === null ? cached === undefined : newerOrEqual(cached?.metadata?.resourceVersion, rv);
      if (seen) m.delete(name);
    }
    if (m.size === 0) { this.written.delete(key); return false; }
    return true;
  }

  /** Forgets everything recorded for `key`. */
  forget(key: string): void {
    this.written.delete(key);
  }
}

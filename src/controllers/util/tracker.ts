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

  /** Records a write made for `key`: the object's new resourceVersion, or null when deleted. */
  record(key: string, name: string, resourceVersion: string | null): void {
    let m = this.written.get(key);
    if (!m) this.written.set(key, m = new Map());
    m.set(name, resourceVersion);
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

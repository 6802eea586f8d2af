/**
 * Uncommitted changes to a backend's model of what it wrote, kept beside the model instead of in a
 * copy of it. A backend plans a sync against these and folds them in only once the kernel has
 * accepted the transaction (`commit`); a plan that is never committed leaves the model untouched.
 * Why: copying the model per sync (10k Service fragments, 65k hairpin reference counts) cost more
 * than the rest of an incremental sync at 10k Services.
 */

/** A map with pending sets and deletes over a base map. */
export class PendingMap<K, V> {
  private readonly changes = new Map<K, V | undefined>();

  constructor(private readonly base: Map<K, V>) {}

  get(k: K): V | undefined {
    return this.changes.has(k) ? this.changes.get(k) : this.base.get(k);
  }

  set(k: K, v: V): void {
    this.changes.set(k, v);
  }

  delete(k: K): void {
    this.changes.set(k, undefined);
  }

  /** Keys in the result, base first (insertion order of the base, then new keys). */
  *keys(): IterableIterator<K> {
    for (const k of this.base.keys()) if (!this.changes.has(k) || this.changes.get(k) !== undefined) yield k;
    for (const [k, v] of this.changes) if (v !== undefined && !this.base.has(k)) yield k;
  }

  /** Applies the pending changes to the base map and returns it. */
  commit(): Map<K, V> {
    for (const [k, v] of this.changes) {
      if (v === undefined) this.base.delete(k);
      else this.base.set(k, v);
    }
    this.changes.clear();
    return this.base;
  }
}

/** Reference counts with pending increments over a base map (counts ≤ 0 are absent). */
export class PendingCounts<K> {
  private readonly changes = new Map<K, number>();

  constructor(private readonly base: Map<K, number>) {}

  get(k: K): number {
    return this.changes.get(k) ?? this.base.get(k) ?? 0;
  }

  has(k: K): boolean {
    return this.get(k) > 0;
  }

  add(k: K, delta: number): void {
    this.changes.set(k, this.get(k) + delta);
  }

  /** Applies the pending counts to the base map and returns it. */
  commit(): Map<K, number> {
    for (const [k, n] of this.changes) {
      if (n > 0) this.base.set(k, n);
      else this.base.delete(k);
    }
    this.changes.clear();
    return this.base;
  }
}

/**
 * Shared informers for the controllers: one list+watch per resource however many controllers read
 * it, plus the indexes they need to stay fast with 10k Services and 100k Pods (objects by namespace,
 * by `k=v` label pair, by owner uid, by uid).
 *
 * Index handlers are registered before any controller's, so a controller reacting to an event
 * already sees the index updated.
 */
import type { KubeObject } from '../api/object.js';
import type { ResourceInfo } from '../api/resources.js';
import type { Client } from '../client/client.js';
import { Informer } from '../client/informer.js';

/**
 * Secondary indexes over one informer's cache. The indexes hold the cached objects themselves
 * (identity sets: the informer hands the same instance to `onUpdate`/`onDelete` that it gave to
 * `onAdd`), so neither adding 100k Pods nor answering a query builds or looks up key strings.
 * Labels are indexed as namespace → label key → value → objects.
 */
export class CacheIndex<T extends KubeObject> {
  private readonly byNs = new Map<string, Set<T>>();
  private readonly byLabel = new Map<string, Map<string, Map<string, Set<T>>>>();
  private readonly byOwner = new Map<string, Set<T>>();
  private readonly byUid = new Map<string, T>();

  constructor(informer: Informer<T>) {
    informer.addHandlers({
      onAdd: (o) => this.add(o),
      onUpdate: (a, b) => { this.remove(a); this.add(b); },
      onDelete: (o) => this.remove(o),
    });
  }

  private static put<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
    let s = m.get(k);
    if (!s) m.set(k, s = new Set());
    s.add(v);
  }

  private static drop<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
    const s = m.get(k);
    if (!s) return;
    s.delete(v);
    if (s.size === 0) m.delete(k);
  }

  private add(o: T): void {
    const md = o.metadata;
    const ns = md?.namespace ?? '';
    CacheIndex.put(this.byNs, ns, o);
    const labels = md?.labels;
    if (labels) {
      let byKey = this.byLabel.get(ns);
      if (!byKey) this.byLabel.set(ns, byKey = new Map());
      for (const k in labels) {
        let byValue = byKey.get(k);
        if (!byValue) byKey.set(k, byValue = new Map());
        CacheIndex.put(byValue, labels[k], o);
      }
    }
    if (md?.ownerReferences) for (const r of md.ownerReferences) CacheIndex.put(this.byOwner, r.uid, o);
    if (md?.uid) this.byUid.set(md.uid, o);
  }

  private remove(o: T): void {
    const md = o.metadata;
    const ns = md?.namespace ?? '';
    CacheIndex.drop(this.byNs, ns, o);
    const labels = md?.labels;
    const byKey = labels && this.byLabel.get(ns);
    if (byKey) {
      for (const k in labels) {
        const byValue = byKey.get(k);
        if (!byValue) continue;
        CacheIndex.drop(byValue, labels[k], o);
        if (byValue.size === 0) byKey.delete(k);
      }
      if (byKey.size === 0) this.byLabel.delete(ns);
    }
    if (md?.ownerReferences) for (const r of md.ownerReferences) CacheIndex.drop(this.byOwner, r.uid, o);
    if (md?.uid && this.byUid.get(md.uid) === o) this.byUid.delete(md.uid);
  }

  /** Objects in `namespace`. */
  inNamespace(namespace: string): T[] {
    return [...this.byNs.get(namespace) ?? []];
  }

  /**
   * Candidates for a selector: objects in `namespace` carrying every `k=v` of `pairs` (the smallest
   * posting list is scanned). With no pairs, every object of the namespace. Callers still apply the
   * full selector (matchExpressions).
   */
  candidates(namespace: string, pairs: string[]): T[] {
    if (pairs.length === 0) return this.inNamespace(namespace);
    const byKey = this.byLabel.get(namespace);
    if (!byKey) return [];
    let best: Set<T> | undefined;
    for (const p of pairs) {
      // Label keys never contain '=' (qualified names), so the first '=' ends the key.
      const eq = p.indexOf('=');
      const s = eq < 0 ? undefined : byKey.get(p.slice(0, eq))?.get(p.slice(eq + 1));
      if (!s) return [];
      if (!best || s.size < best.size) best = s;
    }
    return [...best!];
  }

  /** Objects that name `uid` in their ownerReferences. */
  ownedBy(uid: string): T[] {
    return [...this.byOwner.get(uid) ?? []];
  }

  /** The object with this uid, if cached. */
  byUID(uid: string): T | undefined {
    return this.byUid.get(uid);
  }
}

/** One informer (and its index) per resource, created on first use and started together. */
export class SharedInformers {
  private readonly informers = new Map<string, { informer: Informer<KubeObject>; index: CacheIndex<KubeObject> }>();

  constructor(private readonly client: Client) {}

  private entry(res: ResourceInfo): { informer: Informer<KubeObject>; index: CacheIndex<KubeObject> } {
    const id = `${res.group}/${res.plural}`;
    let e = this.informers.get(id);
    if (!e) {
      // Shared objects: with the in-process client the caches hold the API server's own frozen
      // objects, so syncing 100k Pods copies none of them (controllers never mutate cached objects).
      const informer = new Informer<KubeObject>(this.client, res, { retryDelayMs: 200, sharedObjects: true });
      e = { informer, index: new CacheIndex(informer) };
      this.informers.set(id, e);
    }
    return e;
  }

  /** The shared informer of `res`. */
  informer<T extends KubeObject>(res: ResourceInfo): Informer<T> {
    return this.entry(res).informer as unknown as Informer<T>;
  }

  /** The index over the shared informer of `res`. */
  index<T extends KubeObject>(res: ResourceInfo): CacheIndex<T> {
    return this.entry(res).index as unknown as CacheIndex<T>;
  }

  /** Starts every informer created so far; resolves when all have synced. */
  async start(): Promise<void> {
    await Promise.all([...this.informers.values()].map((e) => e.informer.start()));
  }

  /** Stops every informer. */
  stop(): void {
    for (const e of this.informers.values()) e.informer.stop();
  }
}

/**
 * Shared informers for the controllers: one list+watch per resource however many controllers read
 * it, plus the indexes they need to stay fast with 10k Services and 100k Pods (objects by namespace,
 * by `k=v` label pair, by owner uid, by uid).
 *
 * Index handlers are registered before any controller's, so a controller reacting to an event
 * already sees the index updated.
 */
import type { KubeObject } from '../api/object.js';
import { objectKey } from '../api/object.js';
import type { ResourceInfo } from '../api/resources.js';
import type { Client } from '../client/client.js';
import { Informer } from '../client/informer.js';

/** Secondary indexes over one informer's cache. Keys are `namespace/name`. */
export class CacheIndex<T extends KubeObject> {
  private readonly byNs = new Map<string, Set<string>>();
  private readonly byLabel = new Map<string, Set<string>>();
  private readonly byOwner = new Map<string, Set<string>>();
  private readonly byUid = new Map<string, string>();

  constructor(private readonly informer: Informer<T>) {
    informer.addHandlers({
      onAdd: (o) => this.add(o),
      onUpdate: (a, b) => { this.remove(a); this.add(b); },
      onDelete: (o) => this.remove(o),
    });
  }

  private static put(m: Map<string, Set<string>>, k: string, v: string): void {
    let s = m.get(k);
    if (!s) m.set(k, s = new Set());
    s.add(v);
  }

  private static drop(m: Map<string, Set<string>>, k: string, v: string): void {
    const s = m.get(k);
    if (!s) return;
    s.delete(v);
    if (s.size === 0) m.delete(k);
  }

  private add(o: T): void {
    const key = objectKey(o);
    const ns = o.metadata?.namespace ?? '';
    CacheIndex.put(this.byNs, ns, key);
    for (const [k, v] of Object.entries(o.metadata?.labels ?? {})) CacheIndex.put(this.byLabel, `${ns}\u0000${k}=${v}`, key);
    for (const r of o.metadata?.ownerReferences ?? []) CacheIndex.put(this.byOwner, r.uid, key);
    if (o.metadata?.uid) this.byUid.set(o.metadata.uid, key);
  }

  private remove(o: T): void {
    const key = objectKey(o);
    const ns = o.metadata?.namespace ?? '';
    CacheIndex.drop(this.byNs, ns, key);
    for (const [k, v] of Object.entries(o.metadata?.labels ?? {})) CacheIndex.drop(this.byLabel, `${ns}\u0000${k}=${v}`, key);
    for (const r of o.metadata?.ownerReferences ?? []) CacheIndex.drop(this.byOwner, r.uid, key);
    if (o.metadata?.uid && this.byUid.get(o.metadata.uid) === key) this.byUid.delete(o.metadata.uid);
  }

  private resolve(keys: Iterable<string> | undefined): T[] {
    const out: T[] = [];
    for (const k of keys ?? []) {
      const o = this.informer.get(k);
      if (o) out.push(o);
    }
    return out;
  }

  /** Objects in `namespace`. */
  inNamespace(namespace: string): T[] {
    return this.resolve(this.byNs.get(namespace));
  }

  /**
   * Candidates for a selector: objects in `namespace` carrying every `k=v` of `pairs` (the smallest
   * posting list is scanned). With no pairs, every object of the namespace. Callers still apply the
   * full selector (matchExpressions).
   */
  candidates(namespace: string, pairs: string[]): T[] {
    if (pairs.length === 0) return this.inNamespace(namespace);
    let best: Set<string> | undefined;
    for (const p of pairs) {
      const s = this.byLabel.get(`${namespace}\u0000${p}`);
      if (!s) return [];
      if (!best || s.size < best.size) best = s;
    }
    return this.resolve(best);
  }

  /** Objects that name `uid` in their ownerReferences. */
  ownedBy(uid: string): T[] {
    return this.resolve(this.byOwner.get(uid));
  }

  /** The object with this uid, if cached. */
  byUID(uid: string): T | undefined {
    const k = this.byUid.get(uid);
    return k === undefined ? undefined : this.informer.get(k);
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
      const informer = new Informer<KubeObject>(this.client, res, { retryDelayMs: 200 });
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

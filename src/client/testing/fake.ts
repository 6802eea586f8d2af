/**
 * A minimal in-memory `Client` for unit tests of one component (informers, DNS feed, proxy trackers).
 * It keeps objects per resource with a global revision and delivers watch events; it does no
 * defaulting, validation or selector filtering. Never evidence that a feature works end to end: the
 * real API core is used for that.
 */
import type { KubeList, KubeObject } from '../../api/object.js';
import { objectKey } from '../../api/object.js';
import { notFound, alreadyExists } from '../../api/errors.js';
import type { ResourceInfo } from '../../api/resources.js';
import type { Client, WatchEvent, WatchHandle } from '../client.js';

type Watcher = { res: ResourceInfo; ns?: string; fn: (ev: WatchEvent) => void; end: () => void };

export class FakeClient implements Client {
  private rev = 1;
  private readonly store = new Map<string, Map<string, KubeObject>>();
  private readonly watchers = new Set<Watcher>();

  private bucket(res: ResourceInfo): Map<string, KubeObject> {
    let b = this.store.get(res.plural);
    if (!b) this.store.set(res.plural, b = new Map());
    return b;
  }

  private emit(res: ResourceInfo, type: WatchEvent['type'], obj: KubeObject): void {
    for (const w of this.watchers) {
      if (w.res.plural !== res.plural) continue;
      if (w.ns && obj.metadata?.namespace !== w.ns) continue;
      w.fn({ type, object: structuredClone(obj) });
    }
  }

  async get<T extends KubeObject>(res: ResourceInfo, ns: string | undefined, name: string): Promise<T> {
    const o = this.bucket(res).get(ns ? `${ns}/${name}` : name);
    if (!o) throw notFound(res, name);
    return structuredClone(o) as T;
  }

  async list<T extends KubeObject>(res: ResourceInfo, ns?: string): Promise<KubeList<T>> {
    const items = [...this.bucket(res).values()].filter((o) => !ns || o.metadata?.namespace === ns);
    return { apiVersion: 'v1', kind: `${res.kind}List`, metadata: { resourceVersion: String(this.rev) }, items: structuredClone(items) as T[] };
  }

  async create<T extends KubeObject>(res: ResourceInfo, ns: string | undefined, obj: T): Promise<T> {
    const o = structuredClone(obj);
    o.metadata = { ...o.metadata, namespace: res.namespaced ? ns ?? o.metadata?.namespace : undefined, resourceVersion: String(++this.rev) };
    const key = objectKey(o);
    if (this.bucket(res).has(key)) throw alreadyExists(res, o.metadata.name ?? '');
    this.bucket(res).set(key, o);
    this.emit(res, 'ADDED', o);
    return structuredClone(o);
  }

  async update<T extends KubeObject>(res: ResourceInfo, ns: string | undefined, obj: T): Promise<T> {
    const o = structuredClone(obj);
    o.metadata = { ...o.metadata, namespace: res.namespaced ? ns ?? o.metadata?.namespace : undefined, resourceVersion: String(++this.rev) };
    const key = objectKey(o);
    if (!this.bucket(res).has(key)) throw notFound(res, o.metadata.name ?? '');
    this.bucket(res).set(key, o);
    this.emit(res, 'MODIFIED', o);
    return structuredClone(o);
  }

  async patch<T extends KubeObject>(): Promise<T> {
    throw new Error('FakeClient.patch is not implemented');
  }

  async delete<T extends KubeObject>(res: ResourceInfo, ns: string | undefined, name: string): Promise<T> {
    const key = ns ? `${ns}/${name}` : name;
    const o = this.bucket(res).get(key);
    if (!o) throw notFound(res, name);
    this.bucket(res).delete(key);
    o.metadata = { ...o.metadata, resourceVersion: String(++this.rev) };
    this.emit(res, 'DELETED', o);
    return structuredClone(o) as T;
  }

  /** Deletes every object of `res` (in `ns`); selectors are ignored, like the rest of this fake. */
  async deleteCollection<T extends KubeObject>(res: ResourceInfo, ns: string | undefined): Promise<KubeList<T>> {
    const items: T[] = [];
    for (const o of [...this.bucket(res).values()]) {
      if (ns && o.metadata?.namespace !== ns) continue;
      items.push(await this.delete<T>(res, o.metadata?.namespace, o.metadata?.name ?? ''));
    }
    return { apiVersion: 'v1', kind: `${res.kind}List`, metadata: { resourceVersion: String(this.rev) }, items };
  }

  watch<T extends KubeObject>(res: ResourceInfo, ns: string | undefined, _opts: unknown, onEvent: (ev: WatchEvent<T>) => void): WatchHandle {
    let end!: () => void;
    const done = new Promise<void>((r) => { end = r; });
    const w: Watcher = { res, ns, fn: onEvent as (ev: WatchEvent) => void, end };
    this.watchers.add(w);
    return { done, stop: () => { this.watchers.delete(w); end(); } };
  }

  /** Ends every open watch (as a server restart would); informers relist. */
  dropWatches(): void {
    for (const w of this.watchers) w.end();
    this.watchers.clear();
  }
}

/**
 * The page's live topology: list+watch informers (src/client/informer.ts) on Nodes, Namespaces,
 * Services, EndpointSlices and Pods — the same watches every controller uses — projected to records
 * (topology.ts) and handed to subscribers as one snapshot, then coalesced deltas every FLUSH_MS.
 * Started on the first subscriber (a daemon nobody looks at pays nothing), kept running after.
 * The informers cache the API server's own frozen objects (`sharedObjects`), so the feed adds one
 * small record per object, not a copy of it.
 */
import type { KubeObject } from '../api/object.js';
import { R, type ResourceInfo } from '../api/resources.js';
import type { Client } from '../client/client.js';
import { Informer } from '../client/informer.js';
import { recordKey, type TopologyKind, type TopologyRecord, type TopologySnapshot, type TopologyUpdate } from './model.js';
import { namespaceRecord, nodeRecord, podRecord, serviceRecord, sliceRecord } from './topology.js';

/** How long changes are gathered before a delta goes out: a burst (a scale to 100) is one delta. */
const FLUSH_MS = 15;

type Project = (o: never) => TopologyRecord;
const KINDS: { kind: TopologyKind; res: ResourceInfo; project: Project }[] = [
  { kind: 'nodes', res: R.nodes, project: nodeRecord as Project },
  { kind: 'namespaces', res: R.namespaces, project: namespaceRecord as Project },
  { kind: 'services', res: R.services, project: serviceRecord as Project },
  { kind: 'endpointslices', res: R.endpointslices, project: sliceRecord as Project },
  { kind: 'pods', res: R.pods, project: podRecord as Project },
];

type Delta = Extract<TopologyUpdate, { type: 'delta' }>;
export type TopologySubscriber = (d: Delta) => void;

export class TopologyFeed {
  private readonly records = new Map<TopologyKind, Map<string, TopologyRecord>>(KINDS.map((k) => [k.kind, new Map()]));
  private readonly informers: Informer[] = [];
  private readonly subscribers = new Set<TopologySubscriber>();
  private pending = new Map<string, { kind: TopologyKind; key: string; rec?: TopologyRecord }>();
  private timer?: NodeJS.Timeout;
  private starting?: Promise<void>;

  constructor(private readonly client: Client) {}

  /** Starts the informers (once); resolves when all have listed. */
  start(): Promise<void> {
    return this.starting ??= (async () => {
      for (const k of KINDS) {
        const inf = new Informer<KubeObject>(this.client, k.res, { sharedObjects: true, retryDelayMs: 200 });
        const map = this.records.get(k.kind)!;
        const put = (o: KubeObject): void => {
          const rec = k.project(o as never);
          const key = recordKey(k.kind, rec);
          map.set(key, rec);
          this.queue(k.kind, key, rec);
        };
        inf.addHandlers({
          onAdd: put,
          onUpdate: (_old, o) => put(o),
          onDelete: (o) => {
            const key = o.metadata?.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata!.name!;
            map.delete(key);
            this.queue(k.kind, key);
          },
        });
        this.informers.push(inf);
      }
      await Promise.all(this.informers.map((i) => i.start()));
    })();
  }

  /** Everything now (call after `start`). */
  snapshot(): TopologySnapshot {
    const list = <T>(kind: TopologyKind): T[] => [...this.records.get(kind)!.values()] as T[];
    return { nodes: list('nodes'), namespaces: list('namespaces'), services: list('services'), endpointslices: list('endpointslices'), pods: list('pods') };
  }

  /**
   * Subscribes to deltas. Take the snapshot in the same tick as subscribing: every change after it
   * is in a later delta (deltas carry whole records, so one seen twice is harmless).
   */
  subscribe(fn: TopologySubscriber): () => void {
    this.subscribers.add(fn);
    return () => { this.subscribers.delete(fn); };
  }

  stop(): void {
    for (const i of this.informers) i.stop();
    clearTimeout(this.timer);
    this.subscribers.clear();
  }

  private queue(kind: TopologyKind, key: string, rec?: TopologyRecord): void {
    if (this.subscribers.size === 0) return;
    this.pending.set(`${kind} ${key}`, { kind, key, ...(rec ? { rec } : {}) });
    this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  private flush(): void {
    this.timer = undefined;
    const batch = this.pending;
    this.pending = new Map();
    const delta: Delta = { type: 'delta', at: Date.now(), upserts: [], deletes: [] };
    for (const p of batch.values()) {
      if (p.rec) delta.upserts.push({ kind: p.kind, rec: p.rec });
      else delta.deletes.push({ kind: p.kind, key: p.key });
    }
    for (const s of this.subscribers) s(delta);
  }
}

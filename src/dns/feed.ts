/**
 * Keeps a RecordIndex equal to the Services and EndpointSlices in the API, through informers.
 * Handlers recompute only the Service an event concerns (slices are grouped by their
 * `kubernetes.io/service-name` label).
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Client } from '../client/client.js';
import { Informer } from '../client/informer.js';
import { R } from '../api/resources.js';
import type { KubeObject } from '../api/object.js';
import { packSlice, type PackedSlice, type RecordIndex } from './records.js';

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/**
 * What the slice informer keeps of an EndpointSlice: its identity, the Service that owns it, and
 * its endpoints packed (records.ts). The index refers to the same PackedSlice, so the endpoints of
 * 100k Pods are held once, as arrays of strings, not as 100k endpoint objects twice over.
 */
interface SliceView extends KubeObject {
  /** Namespace/name of the owning Service (from the kubernetes.io/service-name label). */
  owner: string | undefined;
  packed: PackedSlice;
}

export class ServiceRecordFeed {
  private readonly services: Informer<Service>;
  private readonly slices: Informer<SliceView>;
  /** service key → slice keys */
  private readonly slicesByService = new Map<string, Set<string>>();
  private synced = false;
  /** Both informers have listed; from here on every event recomputes its Service. */
  private listed = false;

  /**
   * `onRefresh(key, resourceVersion)` is called after a Service's records were recomputed because of
   * an event (not during the initial sync); resourceVersion is the Service's, undefined once deleted.
   * It must not throw or block: the cluster DNS reports "record live" to the trace recorder with it.
   */
  constructor(client: Client, private readonly index: RecordIndex, private readonly onRefresh?: (key: string, resourceVersion: string | undefined) => void) {
    this.services = new Informer<Service>(client, R.services, { transform: slimService });
    // The informer hands the transform each object as listed or watched: a full EndpointSlice.
    this.slices = new Informer<SliceView>(client, R.endpointslices, { transform: (s) => sliceView(s as unknown as EndpointSlice) });
    this.services.addHandlers({
      onAdd: (s) => this.refresh(svcKey(s)),
      onUpdate: (_o, s) => this.refresh(svcKey(s)),
      onDelete: (s) => this.refresh(svcKey(s)),
    });
    this.slices.addHandlers({
      onAdd: (s) => this.track(undefined, s),
      onUpdate: (o, s) => this.track(o, s),
      onDelete: (s) => this.track(s, undefined),
    });
  }

  /** Starts both informers; resolves once both have synced. */
  async start(): Promise<void> {
    await Promise.all([this.services.start(), this.slices.start()]);
    this.listed = true;
    // Recompute everything once both views are complete, then mark ready.
    for (const s of this.services.list()) this.refresh(svcKey(s));
    this.synced = true;
  }

  hasSynced(): boolean {
    return this.synced;
  }

  stop(): void {
    this.services.stop();
    this.slices.stop();
  }

  private track(oldSlice: SliceView | undefined, newSlice: SliceView | undefined): void {
    const sliceKey = (s: SliceView) => `${s.metadata?.namespace}/${s.metadata?.name}`;
    const oldOwner = oldSlice?.owner;
    const newOwner = newSlice?.owner;
    if (oldOwner) this.slicesByService.get(oldOwner)?.delete(sliceKey(oldSlice!));
    if (newOwner) {
      let set = this.slicesByService.get(newOwner);
      if (!set) this.slicesByService.set(newOwner, set = new Set());
      set.add(sliceKey(newSlice!));
    }
    if (oldOwner && this.slicesByService.get(oldOwner)?.size === 0) this.slicesByService.delete(oldOwner);
    if (oldOwner) this.refresh(oldOwner);
    if (newOwner && newOwner !== oldOwner) this.refresh(newOwner);
  }

  private refresh(key: string): void {
    // Before both informers have synced, start() computes every Service once at the end; doing it
    // per event as well would recompute a Service once per slice during the initial list.
    if (!this.listed) return;
    const svc = this.services.get(key);
    if (!svc) {
      this.index.deleteService(key);
      if (this.synced) this.onRefresh?.(key, undefined);
      return;
    }
    const slices: PackedSlice[] = [];
    for (const k of this.slicesByService.get(key) ?? []) {
      const s = this.slices.get(k);
      if (s) slices.push(s.packed);
    }
    this.index.setService(key, svc, slices);
    if (this.synced) this.onRefresh?.(key, svc.metadata?.resourceVersion);
  }
}

/** The fields of a Service that records.ts reads (plus the identity the informer needs). */
function slimService(s: Service): Service {
  const m = s.metadata ?? {};
  const spec = s.spec;
  return {
    metadata: { namespace: m.namespace, name: m.name, resourceVersion: m.resourceVersion },
    spec: spec && {
      type: spec.type, clusterIP: spec.clusterIP, clusterIPs: spec.clusterIPs, externalName: spec.externalName,
      publishNotReadyAddresses: spec.publishNotReadyAddresses,
      ports: spec.ports?.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })),
    },
  };
}

/** The slice as the feed keeps it (see SliceView). */
function sliceView(s: EndpointSlice): SliceView {
  const m = s.metadata ?? {};
  const owner = m.labels?.[SERVICE_NAME_LABEL];
  return {
    metadata: { namespace: m.namespace, name: m.name, resourceVersion: m.resourceVersion },
    owner: owner ? `${m.namespace}/${owner}` : undefined,
    packed: packSlice(s),
  };
}

function svcKey(s: Service): string {
  return `${s.metadata?.namespace}/${s.metadata?.name}`;
}

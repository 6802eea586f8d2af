/**
 * EndpointSlice controller: queue plumbing around `reconcileEndpointSlices`. Keys are Service
 * `namespace/name`; the Service, its Pods and its slices are re-read from the informer caches when
 * the key is processed. NotFound on a write is success; a cache older than our own last write is a
 * StaleCacheError and the key is retried.
 */
import type { Node, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { splitKey, objectKey } from '../../api/object.js';
import { isNotFound } from '../../api/errors.js';
import { R } from '../../api/resources.js';
import type { ControllerContext } from '../context.js';
import { KeyedController } from '../keyed.js';
import { StaleCacheError } from '../errors.js';
import { requiredPairs } from '../../api/selectors.js';
import { WriteTracker } from '../util/tracker.js';
import { podEndpointRelevantChange, servicesForPods } from '../util/servicepods.js';
import { CONTROLLER_NAME, LABEL_MANAGED_BY, LABEL_SERVICE_NAME, reconcileEndpointSlices } from './reconcile.js';

export interface EndpointSliceControllerOptions {
  /** Default 100. */
  maxEndpointsPerSlice?: number;
  /** Concurrent syncs. Default 8. */
  workers?: number;
}

export class EndpointSliceController extends KeyedController {
  readonly name = 'endpointslice-controller';
  private readonly tracker = new WriteTracker();

  constructor(ctx: ControllerContext, private readonly opts: EndpointSliceControllerOptions = {}) {
    super(ctx, R.services, {
      workers: opts.workers ?? 8, baseDelayMs: 5, maxDelayMs: 5000,
      onDrop: (k, e) => console.error(`${this.name}: giving up on ${k}:`, e),
    });
    const inf = ctx.informers;
    const services = inf.index<Service>(R.services);
    // Endpoints carry their node's zone: a node whose zone label changes re-syncs every Service.
    const zone = (n: Node): string | undefined => n.metadata?.labels?.['topology.kubernetes.io/zone'];
    inf.informer<Node>(R.nodes).addHandlers({
      onUpdate: (a, b) => {
        if (zone(a) === zone(b) || !this.running) return;
        for (const s of inf.informer<Service>(R.services).list()) this.enqueue(objectKey(s));
      },
    });
    inf.informer<Service>(R.services).addHandlers({
      onAdd: (s) => this.enqueue(objectKey(s)),
      onUpdate: (_a, s) => this.enqueue(objectKey(s)),
      onDelete: (s) => this.enqueue(objectKey(s)),
    });
    inf.informer<Pod>(R.pods).addHandlers({
      onAdd: (p) => { if (this.running) for (const k of servicesForPods(services, p)) this.enqueue(k); },
      onUpdate: (a, b) => {
        if (this.running && podEndpointRelevantChange(a, b)) for (const k of servicesForPods(services, a, b)) this.enqueue(k);
      },
      onDelete: (p) => { if (this.running) for (const k of servicesForPods(services, p)) this.enqueue(k); },
    });
    const sliceHandler = (s: EndpointSlice, deleted: boolean) => {
      const svc = s.metadata?.labels?.[LABEL_SERVICE_NAME];
      if (!svc || s.metadata?.labels?.[LABEL_MANAGED_BY] !== CONTROLLER_NAME) return;
      const key = `${s.metadata?.namespace}/${svc}`;
      // Our own writes coming back need no new sync; anything else (a user edit, a delete) does.
      if (this.tracker.isOwnWrite(key, s.metadata?.name ?? '', deleted ? null : s.metadata?.resourceVersion ?? '')) return;
      this.enqueue(key);
    };
    inf.informer<EndpointSlice>(R.endpointslices).addHandlers({
      onAdd: (s) => sliceHandler(s, false), onUpdate: (_a, b) => sliceHandler(b, false), onDelete: (s) => sliceHandler(s, true),
    });
  }





  /** Syncs one Service's slices. Exposed for tests. */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const inf = this.ctx.informers;
    const sliceIndex = inf.index<EndpointSlice>(R.endpointslices);
    const sliceInformer = inf.informer<EndpointSlice>(R.endpointslices);
    if (this.tracker.isStale(key, (n) => sliceInformer.get(`${namespace}/${n}`))) throw new StaleCacheError(key);
    const slices = sliceIndex.candidates(namespace, [`${LABEL_SERVICE_NAME}=${name}`]);
    const service = inf.informer<Service>(R.services).get(key);
    if (!service) {
      // Garbage collection removes them too (ownerReferences); deleting here is faster and harmless.
      for (const s of slices) {
        if (s.metadata?.labels?.[LABEL_MANAGED_BY] !== CONTROLLER_NAME) continue;
        await this.write(key, () => this.ctx.client.delete(R.endpointslices, namespace, s.metadata!.name!), s.metadata!.name!, true, s, []);
      }
      return;
    }
    const pods = inf.index<Pod>(R.pods).candidates(namespace, requiredPairs(service.spec?.selector ?? undefined));
    const nodes = inf.informer<Node>(R.nodes);
    const changes = reconcileEndpointSlices(service, pods, slices, {
      maxEndpointsPerSlice: this.opts.maxEndpointsPerSlice,
      zoneOf: (n) => nodes.get(n)?.metadata?.labels?.['topology.kubernetes.io/zone'] || undefined,
    });
    const c = this.ctx.client;
    const existing = (name: string) => slices.find((x) => x.metadata?.name === name);
    for (const s of changes.create) {
      // A generated-name collision (AlreadyExists) fails the sync; the retry draws a fresh name.
      await this.write(key, () => c.create(R.endpointslices, namespace, s), s.metadata!.name!, false, undefined, pods);
    }
    for (const s of changes.update) await this.write(key, () => c.update(R.endpointslices, namespace, s), s.metadata!.name!, false, existing(s.metadata!.name!), pods);
    for (const s of changes.delete) await this.write(key, () => c.delete(R.endpointslices, namespace, s.metadata!.name!), s.metadata!.name!, true, s, pods);
  }

  /** One slice write; `before` (the slice as cached) and `pods` are for the write observer only. */
  private async write(key: string, fn: () => Promise<EndpointSlice>, name: string, isDelete: boolean, before: EndpointSlice | undefined, pods: readonly Pod[]): Promise<void> {
    this.tracker.begin(key, name);
    let again = false;
    try {
      const out = await fn();
      this.ctx.observer?.sliceWritten?.({
        service: key, op: isDelete ? 'delete' : before ? 'update' : 'create', ...(before ? { before } : {}), ...(isDelete ? {} : { after: out }),
        pods, at: performance.timeOrigin + performance.now(),
      });
      again = this.tracker.record(key, name, isDelete ? null : out.metadata?.resourceVersion ?? '0');
    } catch (e) {
      this.tracker.end(key, name);
      if (!isNotFound(e)) throw e;
      if (isDelete) again = this.tracker.record(key, name, null);
    }
    if (again) this.queue.add(key);
  }
}

/**
 * Endpoints controller: keeps the legacy core/v1 Endpoints of every selector Service in step, via
 * `reconcileEndpoints`. Same plumbing as the EndpointSlice controller (keys `namespace/name`,
 * caches re-read, NotFound is success, stale cache retried).
 */
import type { Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import { objectKey, splitKey } from '../../api/object.js';
import { isNotFound } from '../../api/errors.js';
import { R } from '../../api/resources.js';
import type { ControllerContext } from '../context.js';
import { KeyedController } from '../keyed.js';
import { StaleCacheError } from '../errors.js';
import { requiredPairs } from '../../api/selectors.js';
import { WriteTracker } from '../util/tracker.js';
import { podEndpointRelevantChange, servicesForPods } from '../util/servicepods.js';
import { reconcileEndpoints } from './reconcile.js';

export class EndpointsController extends KeyedController {
  readonly name = 'endpoint-controller';
  private readonly tracker = new WriteTracker();

  constructor(ctx: ControllerContext, opts: { workers?: number } = {}) {
    super(ctx, R.services, { workers: opts.workers ?? 4, baseDelayMs: 5, maxDelayMs: 5000 });
    const inf = ctx.informers;
    const services = inf.index<Service>(R.services);
    inf.informer<Service>(R.services).addHandlers({
      onAdd: (s) => this.enqueue(objectKey(s)), onUpdate: (_a, s) => this.enqueue(objectKey(s)), onDelete: (s) => this.enqueue(objectKey(s)),
    });
    inf.informer<Pod>(R.pods).addHandlers({
      onAdd: (p) => { if (this.running) for (const k of servicesForPods(services, p)) this.enqueue(k); },
      onUpdate: (a, b) => { if (this.running && podEndpointRelevantChange(a, b)) for (const k of servicesForPods(services, a, b)) this.enqueue(k); },
      onDelete: (p) => { if (this.running) for (const k of servicesForPods(services, p)) this.enqueue(k); },
    });
    inf.informer<Endpoints>(R.endpoints).addHandlers({ onDelete: (e) => this.enqueue(objectKey(e)) });
  }





  /** Syncs one Service's Endpoints. Exposed for tests. */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const inf = this.ctx.informers;
    const epInformer = inf.informer<Endpoints>(R.endpoints);
    if (this.tracker.isStale(key, () => epInformer.get(key))) throw new StaleCacheError(key);
    const service = inf.informer<Service>(R.services).get(key);
    const pods = service ? inf.index<Pod>(R.pods).candidates(namespace, requiredPairs(service.spec?.selector ?? undefined)) : [];
    const r = reconcileEndpoints(service, pods, epInformer.get(key));
    const c = this.ctx.client;
    try {
      if (r.action === 'create') this.tracker.record(key, name, (await c.create(R.endpoints, namespace, r.endpoints)).metadata?.resourceVersion ?? '0');
      else if (r.action === 'update') this.tracker.record(key, name, (await c.update(R.endpoints, namespace, r.endpoints)).metadata?.resourceVersion ?? '0');
      else if (r.action === 'delete') { await c.delete(R.endpoints, namespace, name); this.tracker.record(key, name, null); }
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}

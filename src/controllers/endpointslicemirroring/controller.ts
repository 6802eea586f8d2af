/**
 * EndpointSlice mirroring controller: queue plumbing around `reconcileMirroring`. Keys are the
 * `namespace/name` of Endpoints (= of their Service); the Endpoints, the Service and the mirrored
 * slices are re-read from the informer caches when the key is processed. NotFound on a write is
 * success; a cache older than our own last write is a StaleCacheError and the key is retried.
 */
import type { Endpoints, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { objectKey, splitKey } from '../../api/object.js';
import { isNotFound } from '../../api/errors.js';
import { R } from '../../api/resources.js';
import type { ControllerContext } from '../context.js';
import { KeyedController } from '../keyed.js';
import { StaleCacheError } from '../errors.js';
import { WriteTracker } from '../util/tracker.js';
import { LABEL_MANAGED_BY, LABEL_SERVICE_NAME } from '../endpointslice/reconcile.js';
import { MIRRORING_CONTROLLER_NAME, reconcileMirroring, shouldMirror, type MirrorOptions } from './reconcile.js';

/** source.component of this controller's Events (kube-controller-manager's). */
export const MIRRORING_COMPONENT = 'endpointslicemirroring-controller';

const selectorless = (s: Service): boolean => s.spec?.selector === undefined || s.spec.selector === null;

export class EndpointSliceMirroringController extends KeyedController {
  readonly name = MIRRORING_COMPONENT;
  private readonly tracker = new WriteTracker();

  constructor(ctx: ControllerContext, private readonly opts: Pick<MirrorOptions, 'maxEndpointsPerSubset'> & { workers?: number } = {}) {
    super(ctx, R.endpoints, {
      workers: opts.workers ?? 4, baseDelayMs: 5, maxDelayMs: 5000,
      onDrop: (k, e) => console.error(`${this.name}: giving up on ${k}:`, e),
    });
    const inf = ctx.informers;
    inf.informer<Service>(R.services).addHandlers({
      onAdd: (s) => { if (selectorless(s)) this.enqueue(objectKey(s)); },
      onUpdate: (a, b) => { if (selectorless(a) !== selectorless(b)) this.enqueue(objectKey(b)); },
      onDelete: (s) => { if (selectorless(s)) this.enqueue(objectKey(s)); },
    });
    inf.informer<Endpoints>(R.endpoints).addHandlers({
      onAdd: (e) => { if (shouldMirror(e)) this.enqueue(objectKey(e)); },
      onUpdate: (a, b) => { if (shouldMirror(a) || shouldMirror(b)) this.enqueue(objectKey(b)); },
      onDelete: (e) => { if (shouldMirror(e)) this.enqueue(objectKey(e)); },
    });
    const sliceHandler = (s: EndpointSlice, deleted: boolean) => {
      const svc = s.metadata?.labels?.[LABEL_SERVICE_NAME];
      if (!svc || s.metadata?.labels?.[LABEL_MANAGED_BY] !== MIRRORING_CONTROLLER_NAME) return;
      const key = `${s.metadata?.namespace}/${svc}`;
      // Our own writes coming back need no new sync; anything else (a user edit, a delete) does.
      if (this.tracker.isOwnWrite(key, s.metadata?.name ?? '', deleted ? null : s.metadata?.resourceVersion ?? '')) return;
      this.enqueue(key);
    };
    inf.informer<EndpointSlice>(R.endpointslices).addHandlers({
      onAdd: (s) => sliceHandler(s, false),
      onUpdate: (a, b) => {
        // A slice moved to another Service name or away from / to this controller: both sides.
        if (a.metadata?.labels?.[LABEL_SERVICE_NAME] !== b.metadata?.labels?.[LABEL_SERVICE_NAME] ||
            a.metadata?.labels?.[LABEL_MANAGED_BY] !== b.metadata?.labels?.[LABEL_MANAGED_BY]) sliceHandler(a, true);
        sliceHandler(b, false);
      },
      onDelete: (s) => sliceHandler(s, true),
    });
  }

  /** Mirrors one Endpoints object. Exposed for tests. */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const inf = this.ctx.informers;
    const sliceInformer = inf.informer<EndpointSlice>(R.endpointslices);
    if (this.tracker.isStale(key, (n) => sliceInformer.get(`${namespace}/${n}`))) throw new StaleCacheError(key);
    const slices = inf.index<EndpointSlice>(R.endpointslices).candidates(namespace, [`${LABEL_SERVICE_NAME}=${name}`, `${LABEL_MANAGED_BY}=${MIRRORING_CONTROLLER_NAME}`]);
    const endpoints = inf.informer<Endpoints>(R.endpoints).get(key);
    const service = inf.informer<Service>(R.services).get(key);
    const changes = reconcileMirroring(endpoints, service, slices, { maxEndpointsPerSubset: this.opts.maxEndpointsPerSubset });
    if (endpoints) for (const ev of changes.events) this.ctx.recorder(MIRRORING_COMPONENT).event(endpoints, 'Warning', ev.reason, ev.message);
    const c = this.ctx.client;
    for (const s of changes.create) await this.write(key, s.metadata!.name!, false, () => c.create(R.endpointslices, namespace, s));
    for (const s of changes.update) await this.write(key, s.metadata!.name!, false, () => c.update(R.endpointslices, namespace, s));
    for (const s of changes.delete) await this.write(key, s.metadata!.name!, true, () => c.delete(R.endpointslices, namespace, s.metadata!.name!));
    if (changes.notMirrored && changes.delete.length === 0) this.tracker.forget(key);
  }

  private async write(key: string, name: string, isDelete: boolean, fn: () => Promise<EndpointSlice>): Promise<void> {
    this.tracker.begin(key, name);
    let again = false;
    try {
      const out = await fn();
      again = this.tracker.record(key, name, isDelete ? null : out.metadata?.resourceVersion ?? '0');
    } catch (e) {
      this.tracker.end(key, name);
      if (!isNotFound(e)) throw e;
      if (isDelete) again = this.tracker.record(key, name, null);
    }
    if (again) this.queue.add(key);
  }
}

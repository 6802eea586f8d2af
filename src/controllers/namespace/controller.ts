/**
 * Namespace controller: when a Namespace is being deleted (deletionTimestamp set, `kubernetes` in
 * spec.finalizers), deletes every namespaced object in it, waits until none is left (Pods may take
 * their grace period), then finalizes the Namespace through the `finalize` subresource so the
 * registry can remove it. Status conditions are kept simple: phase Terminating is the registry's.
 */
import type { Namespace } from 'kubernetes-types/core/v1.js';
import { deepCopy } from '../../api/object.js';
import { isNotFound } from '../../api/errors.js';
import type { CustomResourceDefinition } from 'kubernetes-types/apiextensions/v1.js';
import { ALL_RESOURCES, isStored, R, type ResourceInfo } from '../../api/resources.js';
import { WorkQueue } from '../../client/workqueue.js';
import type { Controller, ControllerContext } from '../context.js';

export const FINALIZER_KUBERNETES = 'kubernetes';

export class NamespaceController implements Controller {
  readonly name = 'namespace-controller';
  private readonly queue: WorkQueue;
  private running = false;

  constructor(private readonly ctx: ControllerContext, private readonly opts: { recheckMs?: number } = {}) {
    this.queue = new WorkQueue((k) => this.sync(k), { workers: 2, baseDelayMs: 50, maxDelayMs: 5000 });
    ctx.informers.informer<Namespace>(R.namespaces).addHandlers({
      onAdd: (n) => this.enqueue(n), onUpdate: (_a, n) => this.enqueue(n),
    });
  }

  private enqueue(n: Namespace): void {
    if (this.running && n.metadata?.deletionTimestamp) this.queue.add(n.metadata.name!);
  }

  run(): void {
    this.running = true;
    for (const n of this.ctx.informers.informer<Namespace>(R.namespaces).list()) this.enqueue(n);
  }

  stop(): void {
    this.running = false;
    this.queue.stop();
  }

  whenIdle(): Promise<void> {
    return this.queue.whenIdle();
  }

  /** Deletes the content of namespace `name`; finalizes it once empty. */
  async sync(name: string): Promise<void> {
    const c = this.ctx.client;
    let ns: Namespace;
    try { ns = await c.get<Namespace>(R.namespaces, undefined, name); } catch (e) { if (isNotFound(e)) return; throw e; }
    if (!ns.metadata?.deletionTimestamp || !(ns.spec?.finalizers ?? []).includes(FINALIZER_KUBERNETES)) return;
    let remaining = 0;
    // Workloads first so their controllers stop recreating Pods; events last.
    const order = (r: ResourceInfo) => (r.group === 'apps' ? 0 : r === R.events ? 2 : 1);
    // Custom resources too: the namespaced resources of every CRD, at its storage version.
    const crds = await c.list<CustomResourceDefinition>(R.customresourcedefinitions, undefined).catch(() => ({ items: [] as CustomResourceDefinition[] }));
    const custom: ResourceInfo[] = crds.items.filter((d) => d.spec?.scope === 'Namespaced' && d.status?.acceptedNames?.plural).map((d) => ({
      group: d.spec.group, version: d.spec.versions.find((v) => v.storage)?.name ?? d.spec.versions[0]!.name, kind: d.spec.names.kind,
      listKind: `${d.spec.names.kind}List`, plural: d.spec.names.plural, singular: d.spec.names.singular ?? '', namespaced: true,
      shortNames: [], categories: [], subresources: [],
    }));
    for (const res of [...ALL_RESOURCES, ...custom].filter((r) => r.namespaced && isStored(r) && r.storageVersion === undefined).sort((a, b) => order(a) - order(b))) {
      let list;
      try { list = await c.list(res, name); } catch (e) { if (isNotFound(e)) continue; throw e; }
      for (const o of list.items) {
        remaining++;
        if (o.metadata?.deletionTimestamp) continue;
        try { await c.delete(res, name, o.metadata!.name!, { propagationPolicy: 'Background' }); } catch (e) { if (!isNotFound(e)) throw e; }
      }
    }
    if (remaining > 0) {
      this.queue.addAfter(name, this.opts.recheckMs ?? 250);
      return;
    }
    const next = deepCopy(ns);
    next.spec = { ...(next.spec ?? {}), finalizers: (next.spec?.finalizers ?? []).filter((f) => f !== FINALIZER_KUBERNETES) };
    try {
      await c.update(R.namespaces, undefined, next, { subresource: 'finalize' });
    } catch (e) {
      if (!isNotFound(e)) throw e; // a Conflict is retried by the queue
    }
  }
}

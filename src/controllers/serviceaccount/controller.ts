/**
 * ServiceAccounts controller (kube-controller-manager's serviceaccount-controller): every active
 * namespace has a ServiceAccount `default` — made when the namespace appears, made again when it is
 * deleted. Pods that name no account run as it (the ServiceAccount admission plugin waits for it).
 */
import type { Namespace, ServiceAccount } from 'kubernetes-types/core/v1.js';
import { isAlreadyExists, isNotFound } from '../../api/errors.js';
import { R } from '../../api/resources.js';
import type { ControllerContext } from '../context.js';
import { KeyedController } from '../keyed.js';

export const DEFAULT_ACCOUNT = 'default';

/** Whether namespace `ns` should hold the default account now (it exists and is not terminating). */
export function needsDefaultAccount(ns: Namespace | undefined, existing: ServiceAccount | undefined): boolean {
  if (!ns || ns.metadata?.deletionTimestamp || ns.status?.phase === 'Terminating') return false;
  return !existing;
}

export class ServiceAccountsController extends KeyedController {
  readonly name = 'serviceaccount-controller';

  constructor(ctx: ControllerContext) {
    super(ctx, R.namespaces, { workers: 2, baseDelayMs: 20, maxDelayMs: 5000 });
    ctx.informers.informer<Namespace>(R.namespaces).addHandlers({
      onAdd: (n) => this.enqueue(n.metadata!.name!), onUpdate: (_a, n) => this.enqueue(n.metadata!.name!),
    });
    ctx.informers.informer<ServiceAccount>(R.serviceaccounts).addHandlers({
      onDelete: (sa) => { if (sa.metadata?.name === DEFAULT_ACCOUNT) this.enqueue(sa.metadata.namespace!); },
    });
  }

  async sync(namespace: string): Promise<void> {
    const ns = this.ctx.informers.informer<Namespace>(R.namespaces).get(namespace);
    const existing = this.ctx.informers.informer<ServiceAccount>(R.serviceaccounts).get(`${namespace}/${DEFAULT_ACCOUNT}`);
    if (!needsDefaultAccount(ns, existing)) return;
    try {
      await this.ctx.client.create<ServiceAccount>(R.serviceaccounts, namespace, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: DEFAULT_ACCOUNT } });
    } catch (e) {
      // Made meanwhile, the namespace went away, or it began terminating (403): nothing to do.
      if (isAlreadyExists(e) || isNotFound(e) || (e as { code?: number }).code === 403) return;
      throw e;
    }
  }
}

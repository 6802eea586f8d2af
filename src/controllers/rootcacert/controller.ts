/**
 * Root CA certificate publisher (kube-controller-manager's root-ca-cert-publisher): every active
 * namespace has a ConfigMap `kube-root-ca.crt` holding the cluster CA (`ca.crt`), so a Pod can
 * verify the API server — it is what the projected ServiceAccount volume puts at
 * /var/run/secrets/kubernetes.io/serviceaccount/ca.crt. Put back when deleted or changed.
 */
import type { ConfigMap, Namespace } from 'kubernetes-types/core/v1.js';
import { isAlreadyExists, isNotFound } from '../../api/errors.js';
import { deepCopy } from '../../api/object.js';
import { R } from '../../api/resources.js';
import type { ControllerContext } from '../context.js';
import { KeyedController } from '../keyed.js';

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
const DESCRIPTION = 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

/** The ConfigMap a namespace should have, or what to change in the one it has (undefined: nothing). */
export function planRootCA(ns: Namespace | undefined, existing: ConfigMap | undefined, caPem: string): { action: 'create' | 'update'; configMap: ConfigMap } | undefined {
  if (!ns || ns.metadata?.deletionTimestamp || ns.status?.phase === 'Terminating') return undefined;
  if (!existing) {
    return {
      action: 'create',
      configMap: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: ROOT_CA_CONFIGMAP, annotations: { 'kubernetes.io/description': DESCRIPTION } }, data: { 'ca.crt': caPem } },
    };
  }
  if (existing.data?.['ca.crt'] === caPem && existing.metadata?.annotations?.['kubernetes.io/description'] === DESCRIPTION) return undefined;
  const cm = deepCopy(existing);
  cm.data = { ...cm.data, 'ca.crt': caPem };
  cm.metadata = { ...cm.metadata, annotations: { ...cm.metadata?.annotations, 'kubernetes.io/description': DESCRIPTION } };
  return { action: 'update', configMap: cm };
}

export class RootCACertPublisher extends KeyedController {
  readonly name = 'root-ca-cert-publisher';

  constructor(ctx: ControllerContext, private readonly caPem: string) {
    super(ctx, R.namespaces, { workers: 2, baseDelayMs: 20, maxDelayMs: 5000 });
    ctx.informers.informer<Namespace>(R.namespaces).addHandlers({
      onAdd: (n) => this.enqueue(n.metadata!.name!), onUpdate: (_a, n) => this.enqueue(n.metadata!.name!),
    });
    const mine = (cm: ConfigMap): void => { if (cm.metadata?.name === ROOT_CA_CONFIGMAP) this.enqueue(cm.metadata.namespace!); };
    ctx.informers.informer<ConfigMap>(R.configmaps).addHandlers({ onUpdate: (_a, cm) => mine(cm), onDelete: mine });
  }

  async sync(namespace: string): Promise<void> {
    const ns = this.ctx.informers.informer<Namespace>(R.namespaces).get(namespace);
    const existing = this.ctx.informers.informer<ConfigMap>(R.configmaps).get(`${namespace}/${ROOT_CA_CONFIGMAP}`);
    const plan = planRootCA(ns, existing, this.caPem);
    if (!plan) return;
    try {
      if (plan.action === 'create') await this.ctx.client.create(R.configmaps, namespace, plan.configMap);
      else await this.ctx.client.update(R.configmaps, namespace, plan.configMap);
    } catch (e) {
      if (isAlreadyExists(e) || isNotFound(e) || (e as { code?: number }).code === 403) return;
      throw e;
    }
  }
}

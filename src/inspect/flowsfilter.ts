/**
 * Which flows a reader wants (pure): `svc/NAME`, `pod/NAME` or a whole namespace, as the CLI
 * arguments and the endpoint's query parameters say it. Unknown kinds are an error that names what
 * is accepted.
 */
import type { FlowFilter, FlowRecord } from './flowsmodel.js';

export class FlowFilterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlowFilterError';
  }
}

const SERVICE_KINDS = new Set(['svc', 'service', 'services']);
const POD_KINDS = new Set(['pod', 'pods', 'po']);
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** `svc/NAME` | `pod/NAME` | undefined, in namespace `namespace` (default "default" for a named target). */
export function parseFlowTarget(target: string | undefined, namespace: string | undefined): FlowFilter {
  if (namespace !== undefined && !NAME.test(namespace)) throw new FlowFilterError(`invalid namespace ${JSON.stringify(namespace)}`);
  if (target === undefined) return namespace ? { namespace } : {};
  const slash = target.indexOf('/');
  const kind = slash < 0 ? '' : target.slice(0, slash).toLowerCase();
  const name = target.slice(slash + 1);
  if (!SERVICE_KINDS.has(kind) && !POD_KINDS.has(kind)) {
    throw new FlowFilterError(`unknown filter ${JSON.stringify(target)}: use svc/NAME, pod/NAME or -n NAMESPACE`);
  }
  if (!NAME.test(name)) throw new FlowFilterError(`invalid name ${JSON.stringify(name)} in ${JSON.stringify(target)}`);
  const key = `${namespace ?? 'default'}/${name}`;
  return SERVICE_KINDS.has(kind) ? { service: key } : { pod: key };
}

/** The filter from the endpoint's query (`service=ns/name`, `pod=ns/name`, `namespace=ns`). */
export function filterFromQuery(q: URLSearchParams): FlowFilter {
  const f: FlowFilter = {};
  for (const k of q.keys()) {
    if (!['service', 'pod', 'namespace', 'follow', 'limit'].includes(k)) throw new FlowFilterError(`unknown query parameter ${JSON.stringify(k)}: use service, pod, namespace, follow, limit`);
  }
  const key = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
  const svc = q.get('service'); const pod = q.get('pod'); const ns = q.get('namespace');
  if (svc !== null) { if (!key.test(svc)) throw new FlowFilterError(`service must be namespace/name, got ${JSON.stringify(svc)}`); f.service = svc; }
  if (pod !== null) { if (!key.test(pod)) throw new FlowFilterError(`pod must be namespace/name, got ${JSON.stringify(pod)}`); f.pod = pod; }
  if (ns !== null) { if (!NAME.test(ns)) throw new FlowFilterError(`invalid namespace ${JSON.stringify(ns)}`); f.namespace = ns; }
  return f;
}

const inNs = (name: string | undefined, ns: string): boolean => !!name && name.startsWith(`${ns}/`);

export function matchesFlow(f: FlowRecord, filter: FlowFilter): boolean {
  if (filter.service && f.service?.name !== filter.service) return false;
  if (filter.pod && f.client.name !== filter.pod && f.backend?.pod !== filter.pod) return false;
  if (filter.namespace && !inNs(f.client.name, filter.namespace) && !inNs(f.service?.name, filter.namespace) && !inNs(f.backend?.pod, filter.namespace)) return false;
  return true;
}

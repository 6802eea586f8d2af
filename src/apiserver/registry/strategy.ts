/**
 * Per-kind behaviour of the generic store (Kubernetes' "strategies"): which field selectors a kind
 * supports and how they read an object, what status an object gets on create, and which fields
 * count as "spec" for metadata.generation.
 */
import type { KubeObject } from '../../api/object.js';
import { fieldsOf } from '../../api/object.js';
import type { ResourceInfo } from '../../api/resources.js';

function dig(obj: unknown, path: string): string | undefined {
  let cur: unknown = obj;
  for (const p of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  if (cur === undefined || cur === null) return undefined;
  return typeof cur === 'object' ? JSON.stringify(cur) : String(cur);
}

const COMMON = ['metadata.name', 'metadata.namespace'];
const EXTRA_FIELDS: Record<string, string[]> = {
  pods: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
  events: ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'],
  namespaces: ['status.phase'],
  nodes: ['spec.unschedulable'],
  replicasets: ['status.replicas'],
  services: [],
};

/** Field-selector fields `info` supports. */
export function supportedFields(info: ResourceInfo): string[] {
  return [...COMMON, ...(EXTRA_FIELDS[info.plural] ?? [])];
}

/** Reads field `f` of `obj` for field-selector matching ('' for unset fields, like Kubernetes). */
export function fieldValue(info: ResourceInfo, obj: KubeObject, f: string): string | undefined {
  if (f === 'metadata.namespace' && !info.namespaced) return '';
  if (info.plural === 'events' && f === 'source') return dig(obj, 'source.component') ?? '';
  if (info.plural === 'pods' && f === 'spec.hostNetwork') return dig(obj, f) ?? 'false';
  if (info.plural === 'nodes' && f === 'spec.unschedulable') return dig(obj, f) ?? 'false';
  return dig(obj, f) ?? '';
}

/** True when the kind has a status subresource (main-resource writes keep the stored status). */
export function hasStatusSubresource(info: ResourceInfo): boolean {
  return info.subresources.includes('status');
}

/** Everything that is not metadata or status, as a string, for "did the spec change" checks. */
export function specFingerprint(obj: KubeObject): string {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = fieldsOf(obj);
  return JSON.stringify(rest);
}

/** Kinds whose objects carry metadata.generation (bumped on spec change only). */
export function tracksGeneration(info: ResourceInfo): boolean {
  return ['deployments', 'replicasets', 'statefulsets', 'pods', 'services', 'namespaces', 'nodes'].includes(info.plural) || info.subresources.includes('status');
}

/** Pod QoS class as Kubernetes computes it (simplified to cpu/memory requests and limits). */
function qosClass(pod: Record<string, unknown>): string {
  const spec = pod.spec as { containers?: unknown } | undefined;
  const containers = Array.isArray(spec?.containers) ? spec.containers : [];
  let any = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const res = (c !== null && typeof c === 'object' ? (c as { resources?: unknown }).resources : undefined) as { requests?: unknown; limits?: unknown } | undefined;
    const req = (res && typeof res.requests === 'object' && res.requests) || {};
    const lim = (res && typeof res.limits === 'object' && res.limits) || {};
    if (Object.keys(req).length || Object.keys(lim).length) any = true;
    for (const r of ['cpu', 'memory']) {
      const l = (lim as Record<string, unknown>)[r];
      const q = (req as Record<string, unknown>)[r];
      if (l === undefined || (q !== undefined && q !== l)) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** Status a new object starts with (Kubernetes' PrepareForCreate resets status for these kinds). */
export function initialStatus(info: ResourceInfo, obj: KubeObject): unknown {
  const o = fieldsOf(obj);
  switch (info.plural) {
    case 'pods': return { phase: 'Pending', qosClass: qosClass(o) };
    case 'services': return { loadBalancer: {} };
    case 'namespaces': return { phase: 'Active' };
    case 'deployments': case 'replicasets': case 'statefulsets': return {};
    default: return o.status;
  }
}

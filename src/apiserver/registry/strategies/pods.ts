/**
 * Pods: the status a new Pod starts with (Pending + QoS class), graceful deletion of a Pod a node
 * runs (marked with a deletionTimestamp; the node agent deletes it with grace 0 once its containers
 * are gone), binding to a node, the ephemeralcontainers subresource (`kubectl debug`), and the Pod
 * field selectors.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { conflict, invalid } from '../../../api/errors.js';
import { fieldsOf, type KubeObject } from '../../../api/object.js';
import type { ResourceInfo } from '../../../api/resources.js';
import { applyDefaults } from '../../semantics/defaults.js';
import { validatePodEphemeralContainersUpdate } from '../../semantics/pod.js';
import { rfc3339 } from '../meta.js';
import { copyOf, deletionWithFinalizers, dig, genericStrategy, propagationFinalizers, type Strategy } from '../strategy.js';

/** Pod QoS class as Kubernetes computes it (simplified to cpu/memory requests and limits). */
export function qosClass(pod: Record<string, unknown>): string {
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

export function podStrategy(info: ResourceInfo): Strategy {
  const base = genericStrategy(info);
  return {
    ...base,
    selectableFields: [...base.selectableFields, 'spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
    fieldValue: (obj, f) => (f === 'spec.hostNetwork' ? dig(obj, f) ?? 'false' : base.fieldValue(obj, f)),
    prepareForCreate(obj) {
      fieldsOf(obj).status = { phase: 'Pending', qosClass: qosClass(fieldsOf(obj)) };
    },
    deletion(cur, opts, now) {
      const pod = cur as Pod;
      const md = pod.metadata ?? {};
      const terminal = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
      let grace = opts.gracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
      // Nothing runs an unscheduled or finished Pod: it goes at once.
      if (!pod.spec?.nodeName || terminal) grace = 0;
      if (grace === 0) return deletionWithFinalizers(cur, opts, now);
      if (md.deletionTimestamp && (md.deletionGracePeriodSeconds ?? 0) <= grace) return { kind: 'unchanged' };
      const next = copyOf(cur);
      const fin = propagationFinalizers(md.finalizers, opts);
      next.metadata = {
        ...next.metadata, deletionGracePeriodSeconds: grace,
        deletionTimestamp: rfc3339(new Date(now.getTime() + grace * 1000)),
        ...(fin.length ? { finalizers: fin } : {}),
      };
      return { kind: 'mark', obj: next };
    },
    ephemeralContainers(cur, input): KubeObject {
      // podEphemeralContainersStrategy.PrepareForUpdate: everything but spec.ephemeralContainers
      // (metadata and status included) stays as stored; then defaults, then
      // ValidatePodEphemeralContainersUpdate (only additions).
      const old = cur as Pod;
      const next = copyOf(old) as { -readonly [K in keyof Pod]: Pod[K] };
      const wanted = (input as Pod).spec?.ephemeralContainers;
      const spec = { ...next.spec! } as NonNullable<Pod['spec']> & { ephemeralContainers?: unknown };
      if (wanted === undefined || wanted === null) delete spec.ephemeralContainers;
      else spec.ephemeralContainers = copyOf(wanted);
      next.spec = spec;
      applyDefaults(info, next);
      const errs = validatePodEphemeralContainersUpdate(next, old);
      if (errs.length) throw invalid(info.kind, info.group, old.metadata?.name ?? '', errs);
      return next;
    },
    bind(cur, target, now): KubeObject {
      const pod = cur as Pod;
      const name = pod.metadata?.name ?? '';
      const bindingInfo = { group: '', plural: 'pods/binding' };
      if (pod.metadata?.deletionTimestamp) throw conflict(bindingInfo, name, `pod ${name} is being deleted, cannot be assigned to a host`);
      if (pod.spec?.nodeName) throw conflict(bindingInfo, name, `pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
      const next = copyOf(pod) as { -readonly [K in keyof Pod]: Pod[K] };
      next.spec = { ...next.spec!, nodeName: target.name };
      const conds = (next.status?.conditions ?? []).filter((x) => x.type !== 'PodScheduled');
      conds.push({ type: 'PodScheduled', status: 'True', lastTransitionTime: rfc3339(now) });
      next.status = { ...next.status, conditions: conds };
      return next;
    },
  };
}

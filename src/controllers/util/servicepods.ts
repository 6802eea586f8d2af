/** Maps Pod changes to the Services whose selectors match the Pod (before or after the change). */
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import { objectKey } from '../../api/object.js';
import type { CacheIndex } from '../informers.js';
import { matchesServiceSelector } from '../../api/selectors.js';

/** Keys of Services in the Pod's namespace whose selector matches any of `pods`' labels. */
export function servicesForPods(services: CacheIndex<Service>, ...pods: (Pod | undefined)[]): string[] {
  const ns = pods.find((p) => p)?.metadata?.namespace ?? '';
  const keys: string[] = [];
  for (const s of services.inNamespace(ns)) {
    if (pods.some((p) => p && matchesServiceSelector(s.spec?.selector, p.metadata?.labels))) keys.push(objectKey(s));
  }
  return keys;
}

/** True when a Pod update can change any endpoint (labels, IP, readiness, deletion, phase, node, hostname). */
export function podEndpointRelevantChange(a: Pod, b: Pod): boolean {
  const ready = (p: Pod) => p.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  return JSON.stringify(a.metadata?.labels ?? {}) !== JSON.stringify(b.metadata?.labels ?? {}) ||
    a.status?.podIP !== b.status?.podIP || ready(a) !== ready(b) || a.status?.phase !== b.status?.phase ||
    !!a.metadata?.deletionTimestamp !== !!b.metadata?.deletionTimestamp || a.spec?.nodeName !== b.spec?.nodeName ||
    a.spec?.hostname !== b.spec?.hostname || a.spec?.subdomain !== b.spec?.subdomain;
}

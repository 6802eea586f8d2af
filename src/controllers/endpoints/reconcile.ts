/**
 * Pure reconcile of the legacy core/v1 Endpoints object of a Service (the endpoints controller in
 * kube-controller-manager): ready Pods in `addresses`, not-ready ones in `notReadyAddresses`,
 * subsets grouped by their resolved port list, so `kubectl get endpoints` prints `IP:port,...` or
 * `<none>`. Services without a selector are left alone (their Endpoints are user-managed).
 */
import type { EndpointAddress, EndpointPort, EndpointSubset, Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import { deepCopy } from '../../api/object.js';
import { isPodReady, isPodTerminal } from '../util/pods.js';
import { matchesServiceSelector } from '../../api/selectors.js';
import { canonicalJson } from '../util/templatehash.js';
import { findPort } from '../endpointslice/ports.js';
import { ANNOTATION_TRIGGER_TIME, LABEL_HEADLESS, computeTriggerTime } from '../endpointslice/reconcile.js';

/** Label telling the EndpointSlice mirroring controller to leave controller-made Endpoints alone. */
export const LABEL_SKIP_MIRROR = 'endpointslice.kubernetes.io/skip-mirror';

/** The write to perform; `none` when the stored object is already right. */
export type EndpointsAction =
  | { action: 'none' }
  | { action: 'create' | 'update'; endpoints: Endpoints }
  | { action: 'delete'; endpoints: Endpoints };

/** ShouldPodBeInEndpoints: has an IP, not terminal, and not terminating unless publishing not-ready. */
export function podInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  if (isPodTerminal(pod) || !pod.status?.podIP) return false;
  if (!includeTerminating && pod.metadata?.deletionTimestamp) return false;
  return true;
}

/** The subsets Kubernetes would compute, repacked by port list and sorted for stable comparison. */
export function computeSubsets(service: Service, pods: Pod[]): EndpointSubset[] {
  const publish = service.spec?.publishNotReadyAddresses === true;
  const groups = new Map<string, { ports: EndpointPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }>();
  for (const pod of pods) {
    if (pod.metadata?.namespace !== service.metadata?.namespace) continue;
    if (!matchesServiceSelector(service.spec?.selector, pod.metadata?.labels) || !podInEndpoints(pod, publish)) continue;
    const addr: EndpointAddress = { ip: pod.status!.podIP! };
    if (pod.spec?.hostname && pod.spec.subdomain === service.metadata?.name) addr.hostname = pod.spec.hostname;
    if (pod.spec?.nodeName) addr.nodeName = pod.spec.nodeName;
    addr.targetRef = { kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid };
    const ports: EndpointPort[] = [];
    for (const sp of service.spec?.ports ?? []) {
      const port = findPort(pod, sp);
      if (port === undefined) continue;
      const p: EndpointPort = { name: sp.name, port, protocol: sp.protocol ?? 'TCP' };
      if (!p.name) delete p.name;
      if (sp.appProtocol) p.appProtocol = sp.appProtocol;
      ports.push(p);
    }
    // A Pod resolving none of a Service's ports contributes nothing (headless port-less Services excepted).
    if (ports.length === 0 && (service.spec?.ports?.length ?? 0) > 0) continue;
    ports.sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || a.port - b.port);
    const key = canonicalJson(ports);
    let g = groups.get(key);
    if (!g) groups.set(key, g = { ports, ready: [], notReady: [] });
    (publish || isPodReady(pod) ? g.ready : g.notReady).push(addr);
  }
  const byIp = (a: EndpointAddress, b: EndpointAddress) => a.ip.localeCompare(b.ip, 'en', { numeric: true }) || (a.targetRef?.uid ?? '').localeCompare(b.targetRef?.uid ?? '');
  const subsets: EndpointSubset[] = [];
  for (const [key, g] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    void key;
    const s: EndpointSubset = {};
    if (g.ready.length) s.addresses = g.ready.sort(byIp);
    if (g.notReady.length) s.notReadyAddresses = g.notReady.sort(byIp);
    if (g.ports.length) s.ports = g.ports;
    subsets.push(s);
  }
  return subsets;
}

function labelsFor(service: Service): Record<string, string> {
  const l: Record<string, string> = { ...(service.metadata?.labels ?? {}), [LABEL_SKIP_MIRROR]: 'true' };
  if (service.spec?.clusterIP === 'None') l[LABEL_HEADLESS] = '';
  return l;
}

/**
 * Decides the write for the Endpoints named like `service` (`undefined` service = it was deleted).
 * Only a change in subsets or labels causes an update; the trigger-time annotation alone does not.
 */
export function reconcileEndpoints(service: Service | undefined, pods: Pod[], existing: Endpoints | undefined): EndpointsAction {
  if (!service) return existing && existing.metadata?.labels?.[LABEL_SKIP_MIRROR] === 'true' ? { action: 'delete', endpoints: existing } : { action: 'none' };
  const selector = service.spec?.selector;
  if (!selector || Object.keys(selector).length === 0 || service.spec?.type === 'ExternalName') return { action: 'none' };
  const subsets = computeSubsets(service, pods);
  const labels = labelsFor(service);
  if (existing && canonicalJson(existing.subsets ?? []) === canonicalJson(subsets) && canonicalJson(existing.metadata?.labels ?? {}) === canonicalJson(labels)) {
    return { action: 'none' };
  }
  const trigger = computeTriggerTime(service, pods.filter((p) => matchesServiceSelector(selector, p.metadata?.labels)));
  const ep: Endpoints = existing ? deepCopy(existing) : {
    apiVersion: 'v1', kind: 'Endpoints', metadata: { name: service.metadata?.name, namespace: service.metadata?.namespace },
  };
  ep.metadata = ep.metadata ?? {};
  ep.metadata.labels = labels;
  if (trigger) ep.metadata.annotations = { ...(ep.metadata.annotations ?? {}), [ANNOTATION_TRIGGER_TIME]: trigger };
  ep.subsets = subsets;
  return { action: existing ? 'update' : 'create', endpoints: ep };
}

/** `kubectl get endpoints` ENDPOINTS column (printers.formatEndpoints, max 3 shown). */
export function formatEndpoints(ep: Endpoints): string {
  const out: string[] = [];
  let total = 0;
  for (const s of ep.subsets ?? []) {
    for (const a of s.addresses ?? []) {
      if (!s.ports?.length) { total++; if (out.length < 3) out.push(a.ip); continue; }
      for (const p of s.ports) { total++; if (out.length < 3) out.push(`${a.ip}:${p.port}`); }
    }
  }
  if (total === 0) return '<none>';
  return total > 3 ? `${out.join(',')} + ${total - 3} more...` : out.join(',');
}

/**
 * API objects → the page's topology records (model.ts). Pure: one function per kind, each reading
 * only the object it is given, so a record is always exactly what the API holds now.
 */
import type { Namespace, Node, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { NamespaceRec, NodeRec, PodRec, ServiceRec, SliceRec } from './model.js';

export function nodeRecord(n: Node): NodeRec {
  const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
  const ip = n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  return {
    name: n.metadata!.name!,
    ready: ready?.status === 'True',
    ...(ready?.status !== 'True' ? { why: ready ? `${ready.reason ?? 'NotReady'}${ready.message ? `: ${ready.message}` : ''}` : 'no Ready condition yet' } : {}),
    ...(n.spec?.podCIDR ? { podCIDR: n.spec.podCIDR } : {}),
    ...(ip ? { internalIP: ip } : {}),
  };
}

export function namespaceRecord(ns: Namespace): NamespaceRec {
  return { name: ns.metadata!.name!, phase: ns.status?.phase ?? 'Active' };
}

export function serviceRecord(s: Service): ServiceRec {
  const spec = s.spec ?? {};
  const type = spec.type ?? 'ClusterIP';
  const headless = spec.clusterIP === 'None';
  const selector = spec.selector && Object.keys(spec.selector).length ? { ...spec.selector } : undefined;
  return {
    namespace: s.metadata!.namespace!, name: s.metadata!.name!, type, headless,
    ...(spec.clusterIP && !headless && type !== 'ExternalName' ? { clusterIP: spec.clusterIP } : {}),
    ...(spec.externalName ? { externalName: spec.externalName } : {}),
    ...(selector ? { selector } : {}),
    ports: (spec.ports ?? []).map((p) => {
      const tp = p.targetPort ?? p.port;
      return { name: p.name ?? '', protocol: p.protocol ?? 'TCP', port: p.port, targetPort: typeof tp === 'string' && /^\d+$/.test(tp) ? Number(tp) : tp };
    }),
    sessionAffinity: spec.sessionAffinity ?? 'None',
  };
}

export function sliceRecord(s: EndpointSlice): SliceRec {
  const service = s.metadata?.labels?.['kubernetes.io/service-name'];
  return {
    namespace: s.metadata!.namespace!, name: s.metadata!.name!,
    ...(service ? { service } : {}),
    ports: (s.ports ?? []).map((p) => ({ name: p.name ?? '', ...(p.port != null ? { port: p.port } : {}), protocol: p.protocol ?? 'TCP' })),
    endpoints: (s.endpoints ?? []).flatMap((e) => e.addresses.map((ip) => {
      // EndpointSlice semantics: a nil `ready` means ready; `serving` defaults to `ready`.
      const ready = e.conditions?.ready !== false;
      return {
        ip, ready, serving: e.conditions?.serving ?? ready, terminating: e.conditions?.terminating === true,
        ...(e.targetRef?.kind === 'Pod' && e.targetRef.name ? { pod: e.targetRef.name } : {}),
        ...(e.nodeName ? { node: e.nodeName } : {}),
      };
    })),
  };
}

/** Why a Pod is not ready, in the words its status gives (undefined when it is ready). */
export function podNotReadyReason(p: Pod): string | undefined {
  if (p.metadata?.deletionTimestamp) return 'terminating (being deleted)';
  const phase = p.status?.phase ?? 'Pending';
  if (phase === 'Succeeded' || phase === 'Failed') return `${phase}${p.status?.reason ? ` (${p.status.reason})` : ''}`;
  const ready = p.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status === 'True') return undefined;
  for (const cs of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) {
    const w = cs.state?.waiting;
    if (w?.reason) return `container ${cs.name}: ${w.reason}${w.message ? ` (${w.message})` : ''}`;
    const t = cs.state?.terminated;
    if (t) return `container ${cs.name} terminated: ${t.reason ?? `exit code ${t.exitCode}`}`;
  }
  if (!p.spec?.nodeName) {
    const sched = p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    return sched ? `not scheduled: ${sched.message ?? sched.reason ?? ''}`.trim() : 'not scheduled yet';
  }
  if (ready) return `${ready.reason ?? 'not ready'}${ready.message ? `: ${ready.message}` : ''}`;
  return `${phase}, not ready yet`;
}

export function podRecord(p: Pod): PodRec {
  const why = podNotReadyReason(p);
  const owner = p.metadata?.ownerReferences?.find((o) => o.controller) ?? p.metadata?.ownerReferences?.[0];
  return {
    namespace: p.metadata!.namespace!, name: p.metadata!.name!,
    ...(p.status?.podIP ? { ip: p.status.podIP } : {}),
    ...(p.spec?.nodeName ? { node: p.spec.nodeName } : {}),
    phase: p.status?.phase ?? 'Pending',
    ready: why === undefined,
    ...(why ? { why } : {}),
    labels: { ...(p.metadata?.labels ?? {}) },
    ports: (p.spec?.containers ?? []).flatMap((c) => (c.ports ?? []).map((cp) => ({
      container: c.name, ...(cp.name ? { name: cp.name } : {}), port: cp.containerPort, protocol: cp.protocol ?? 'TCP',
    }))),
    ...(owner ? { owner: `${owner.kind}/${owner.name}` } : {}),
    ...(p.metadata?.deletionTimestamp ? { deleting: true } : {}),
  };
}

/**
 * Resolves a Service's ports against one Pod (podutil.FindPort + endpointsliceutil.getEndpointPorts):
 * a numeric targetPort is used as is; a named one is looked up among the Pod's container ports by
 * name and protocol, and a Pod without it contributes no endpoint for that Service port.
 */
import type { Pod, Service, ServicePort } from 'kubernetes-types/core/v1.js';
import type { EndpointPort } from 'kubernetes-types/discovery/v1.js';

/** The container port `sp.targetPort` names in `pod`, or undefined when the Pod has none. */
export function findPort(pod: Pod, sp: ServicePort): number | undefined {
  const tp = sp.targetPort ?? sp.port;
  const protocol = sp.protocol ?? 'TCP';
  if (typeof tp === 'number') return tp;
  if (/^\d+$/.test(tp)) return Number(tp);
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (p.name === tp && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
    }
  }
  return undefined;
}

/** The EndpointSlice ports of `pod` for `service`, in Service port order. */
export function endpointPorts(service: Service, pod: Pod): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const sp of service.spec?.ports ?? []) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    const ep: EndpointPort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
    if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
    out.push(ep);
  }
  return out;
}

/** A stable key for a port list: slices group endpoints by it. */
export function portsKey(ports: EndpointPort[] | undefined): string {
  return JSON.stringify((ports ?? []).map((p) => [p.name ?? '', p.port ?? 0, p.protocol ?? 'TCP', p.appProtocol ?? '']).sort());
}

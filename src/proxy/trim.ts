/**
 * What the proxy keeps of each Service and EndpointSlice: only the fields the change trackers read
 * (informer transforms, as client-go's SetTransform). At 10k Services / 100k endpoints the full
 * objects — managedFields, targetRefs, nodeNames, zones, labels and annotations nobody here reads —
 * would be most of the proxy's memory. The results are fresh objects; inputs are never mutated.
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { SERVICE_NAME_LABEL, TRIGGER_TIME_ANNOTATION } from './endpointschange.js';
import { TOPOLOGY_MODE_ANNOTATION } from './servicechange.js';

const SOURCE_RANGES_ANNOTATION = 'service.beta.kubernetes.io/load-balancer-source-ranges';

/** Namespace, name, resourceVersion: what the informer itself needs. */
function identity(meta: Service['metadata']): { namespace?: string; name?: string; resourceVersion?: string } {
  return { namespace: meta?.namespace, name: meta?.name, resourceVersion: meta?.resourceVersion };
}

/** A Service reduced to what servicePortsOf and healthCheckNodePortOf read. */
export function trimService(svc: Service): Service {
  const spec = svc.spec;
  const ann = svc.metadata?.annotations;
  const keep = ann && Object.fromEntries(Object.entries(ann).filter(([k]) => k === TOPOLOGY_MODE_ANNOTATION || k === SOURCE_RANGES_ANNOTATION));
  const ingress = svc.status?.loadBalancer?.ingress;
  return {
    metadata: { ...identity(svc.metadata), ...(keep && Object.keys(keep).length ? { annotations: keep } : {}) },
    spec: spec && {
      type: spec.type,
      clusterIP: spec.clusterIP,
      sessionAffinity: spec.sessionAffinity,
      sessionAffinityConfig: spec.sessionAffinityConfig,
      ports: spec.ports?.map((p) => ({ name: p.name, protocol: p.protocol, port: p.port, nodePort: p.nodePort })),
      externalIPs: spec.externalIPs,
      loadBalancerSourceRanges: spec.loadBalancerSourceRanges,
      externalTrafficPolicy: spec.externalTrafficPolicy,
      internalTrafficPolicy: spec.internalTrafficPolicy,
      healthCheckNodePort: spec.healthCheckNodePort,
      trafficDistribution: spec.trafficDistribution,
    },
    ...(ingress?.length ? { status: { loadBalancer: { ingress: ingress.map((i) => ({ ip: i.ip, ipMode: i.ipMode })) } } } : {}),
  };
}

/** An EndpointSlice reduced to what the EndpointsChangeTracker reads. */
export function trimEndpointSlice(slice: EndpointSlice): EndpointSlice {
  const meta = slice.metadata;
  const svcName = meta?.labels?.[SERVICE_NAME_LABEL];
  const trigger = meta?.annotations?.[TRIGGER_TIME_ANNOTATION];
  return {
    addressType: slice.addressType,
    metadata: {
      ...identity(meta),
      ...(svcName !== undefined ? { labels: { [SERVICE_NAME_LABEL]: svcName } } : {}),
      ...(trigger !== undefined ? { annotations: { [TRIGGER_TIME_ANNOTATION]: trigger } } : {}),
    },
    ports: slice.ports?.map((p) => ({ name: p.name, protocol: p.protocol, port: p.port })),
    endpoints: (slice.endpoints ?? []).map((e) => ({
      addresses: (e.addresses ?? []).slice(0, 1),
      conditions: { ready: e.conditions?.ready, serving: e.conditions?.serving, terminating: e.conditions?.terminating },
      ...(e.nodeName ? { nodeName: e.nodeName } : {}),
      ...(e.hints?.forZones?.length ? { hints: { forZones: e.hints.forZones.map((z) => ({ name: z.name })) } } : {}),
    })),
  };
}

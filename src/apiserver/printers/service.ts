/** `kubectl get svc`: NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE (+ SELECTOR). */
import type { LoadBalancerStatus, Service, ServicePort } from 'kubernetes-types/core/v1.js';
import { ageSince } from './duration.js';
import { formatLabels } from './labels.js';
import { AGE_COLUMN, col, doc, NAME_COLUMN, type Printer } from './printer.js';

const SPEC = 'io.k8s.api.core.v1.ServiceSpec';

/** printers.go makePortString: `80/TCP,443/TCP`, `80:30080/TCP` with a node port. */
export function formatServicePorts(ports: readonly ServicePort[] | undefined): string {
  return (ports ?? []).map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`)).join(',');
}

function loadBalancerIngress(lb: LoadBalancerStatus | undefined): string {
  return (lb?.ingress ?? []).flatMap((i) => (i.ip ? [i.ip] : i.hostname ? [i.hostname] : [])).join(',');
}

/** printers.go getServiceExternalIP (wide): `<none>`, the external IPs, `<pending>` for a LoadBalancer without one. */
export function serviceExternalIP(svc: Service): string {
  const spec = svc.spec ?? {};
  const ext = spec.externalIPs ?? [];
  switch (spec.type ?? 'ClusterIP') {
    case 'ClusterIP':
    case 'NodePort':
      return ext.length ? ext.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerIngress(svc.status?.loadBalancer);
      if (ext.length) return [...(lb ? lb.split(',') : []), ...ext].join(',');
      return lb || '<pending>';
    }
    case 'ExternalName':
      return spec.externalName ?? '';
    default:
      return '<unknown>';
  }
}

/** Printer for core/v1 Service. */
export const servicePrinter: Printer<Service> = {
  columns: [
    NAME_COLUMN,
    col('Type', 'string', doc(SPEC, 'type')),
    col('Cluster-IP', 'string', doc(SPEC, 'clusterIP')),
    col('External-IP', 'string', doc(SPEC, 'externalIPs')),
    col('Port(s)', 'string', doc(SPEC, 'ports')),
    AGE_COLUMN,
    col('Selector', 'string', doc(SPEC, 'selector'), 1),
  ],
  row(svc, now) {
    const spec = svc.spec ?? {};
    return {
      cells: [svc.metadata?.name ?? '', spec.type ?? '', spec.clusterIPs?.[0] ?? spec.clusterIP ?? '<none>', serviceExternalIP(svc),
        formatServicePorts(spec.ports) || '<none>', ageSince(svc.metadata?.creationTimestamp, now), formatLabels(spec.selector)],
    };
  },
};

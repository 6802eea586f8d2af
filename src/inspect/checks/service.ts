/**
 * Check 1 (Debug Services step 2): the Service exists. When it does not, the nearest names — typos
 * in its namespace and the same name in other namespaces — each with the command to diagnose it.
 */
import type { DiagnoseFacts } from '../diagnosefacts.js';
import { formatLabels } from '../nearest.js';
import type { Finding } from '../types.js';
import { finding, portLabel, serviceKind } from './common.js';

export function checkService(f: DiagnoseFacts): Finding[] {
  const v = f.explanation.service;
  const ports = v.ports.map((p) => `${portLabel(p)} → targetPort ${p.targetPort}`).join(', ');
  return [finding('service', 'pass', 'ServiceFound', `Service ${v.namespace}/${v.name} exists: ${serviceKind(v)}`, [
    `ports: ${ports || 'none'}`,
    v.type === 'ExternalName' ? 'no selector, no endpoints, no virtual IP: the cluster DNS server answers its name with a CNAME'
      : v.selector ? `selector: ${formatLabels(v.selector)}` : 'no selector: its endpoints are written by hand (Endpoints / EndpointSlices)',
  ])];
}

/** The finding for a Service that does not exist; `nearest` like `svc/web -n shop`. */
export function serviceNotFound(namespace: string, name: string, nearest: readonly string[], command: string): Finding {
  return finding('service', 'fail', 'ServiceNotFound', `Service ${namespace}/${name} does not exist`,
    nearest.length ? nearest.map((n) => `did you mean ${n}?`) : [`no Service with a similar name in any namespace`],
    nearest.length ? nearest.map((n) => `${command} diagnose ${n.includes(' -n ') ? n : `${n} -n ${namespace}`}`) : ['kubectl get svc -A']);
}

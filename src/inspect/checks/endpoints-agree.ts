/**
 * Check 10a: the legacy Endpoints object and the EndpointSlices agree on the ready addresses (the
 * proxy programs from the slices; `kubectl get endpoints`, the seeds' tool, shows the Endpoints).
 * A selectorless Service's endpoints are written by hand: they must exist, and reach the slices the
 * proxy reads — clusterip has no EndpointSlice mirroring controller, so hand-written Endpoints
 * without an EndpointSlice carry no traffic here (a real finding, not a false alarm).
 */
import type { DiagnoseFacts } from '../diagnose-facts.js';
import type { Finding } from '../types.js';
import { finding } from './common.js';

function endpointsAddresses(f: DiagnoseFacts): Set<string> {
  const out = new Set<string>();
  for (const s of f.endpoints?.subsets ?? []) for (const a of s.addresses ?? []) for (const p of s.ports ?? [{ port: 0 }]) out.add(`${a.ip}:${p.port}`);
  return out;
}

function sliceAddresses(f: DiagnoseFacts): Set<string> {
  const out = new Set<string>();
  for (const s of f.slices) {
    if (s.addressType !== 'IPv4') continue;
    for (const e of s.endpoints ?? []) {
      if (e.conditions?.ready === false) continue;
      for (const ip of e.addresses) for (const p of s.ports ?? [{ port: 0 }]) out.add(`${ip}:${p.port ?? 0}`);
    }
  }
  return out;
}

/** A minimal EndpointSlice for hand-written endpoints, as a command. */
function sliceCommand(f: DiagnoseFacts): string {
  const v = f.explanation.service;
  const addrs = [...new Set((f.endpoints?.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip)))];
  const ports = (f.endpoints?.subsets?.[0]?.ports ?? v.ports.map((p) => ({ name: p.name, port: typeof p.targetPort === 'number' ? p.targetPort : p.port, protocol: p.protocol })))
    .map((p) => `{"name":${JSON.stringify(p.name ?? '')},"port":${p.port},"protocol":"${p.protocol ?? 'TCP'}"}`).join(',');
  const eps = (addrs.length ? addrs : ['<IP>']).map((ip) => `{"addresses":["${ip}"]}`).join(',');
  return `kubectl apply -f - <<'EOF'\n{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"${v.name}-manual","namespace":"${v.namespace}","labels":{"kubernetes.io/service-name":"${v.name}"}},"addressType":"IPv4","ports":[${ports}],"endpoints":[${eps}]}\nEOF`;
}

export function checkEndpointsAgree(f: DiagnoseFacts): Finding[] {
  const v = f.explanation.service;
  if (v.type === 'ExternalName') return [];
  if (v.namespace === 'default' && v.name === 'kubernetes' && !v.selector) return [];
  const ep = endpointsAddresses(f);
  const sl = sliceAddresses(f);
  if (!v.selector) {
    if (f.slices.length === 0 && ep.size === 0) {
      return [finding('endpoints-agree', 'fail', 'NoEndpointsWritten', 'selectorless Service without endpoints: nobody wrote an Endpoints or EndpointSlice for it, so connections are refused',
        ['a Service without a selector gets its endpoints from whoever writes them (a controller, or you)'], [sliceCommand(f)])];
    }
    if (f.slices.length === 0) {
      return [finding('endpoints-agree', 'fail', 'EndpointsNotMirrored', `hand-written Endpoints ${v.name} (${[...ep].join(', ')}) have no EndpointSlice: the proxy programs from EndpointSlices, so this Service gets no traffic`,
        ['Kubernetes mirrors hand-written Endpoints into EndpointSlices (kube-controller-manager\'s endpointslicemirroring controller); clusterip does not yet — write the EndpointSlice as well'], [sliceCommand(f)])];
    }
  }
  if (f.endpoints?.metadata?.annotations?.['endpoints.kubernetes.io/over-capacity'] === 'truncated') {
    return [finding('endpoints-agree', 'info', 'EndpointsTruncated', 'the Endpoints object is truncated at 1000 addresses (over-capacity); the EndpointSlices hold them all')];
  }
  const missing = [...sl].filter((a) => !ep.has(a));
  const extra = [...ep].filter((a) => !sl.has(a));
  if (missing.length === 0 && extra.length === 0) {
    return [finding('endpoints-agree', 'pass', 'EndpointsAgree', `Endpoints and EndpointSlices agree: ${sl.size} ready address${sl.size === 1 ? '' : 'es'}`, sl.size ? [[...sl].sort().join(', ')] : [])];
  }
  return [finding('endpoints-agree', 'warn', 'EndpointsDisagree', 'Endpoints and EndpointSlices disagree (the proxy follows the EndpointSlices)', [
    ...(missing.length ? [`only in EndpointSlices: ${missing.join(', ')}`] : []),
    ...(extra.length ? [`only in Endpoints: ${extra.join(', ')}`] : []),
  ], [`kubectl get endpoints ${v.name} -n ${v.namespace} -o yaml`, `kubectl get endpointslices -n ${v.namespace} -l kubernetes.io/service-name=${v.name} -o yaml`])];
}

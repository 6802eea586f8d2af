/**
 * Check 10a: the legacy Endpoints object and the EndpointSlices agree on the ready addresses (the
 * proxy programs from the slices; `kubectl get endpoints`, the seeds' tool, shows the Endpoints).
 * A selectorless Service's endpoints are written by hand: they must exist, and reach the slices the
 * proxy reads. The EndpointSlice mirroring controller copies hand-written Endpoints into slices, so
 * they normally do; `EndpointsNotMirrored` names the cases where it cannot (the Endpoints are
 * labelled skip-mirror or are a leader-election lock, no address is a valid IP, more than 1000
 * addresses in a subset) or has not (no mirrored slice at all), each a real loss of traffic.
 */
import type { Endpoints } from 'kubernetes-types/core/v1.js';
import { ANNOTATION_LEADER, DEFAULT_MAX_ENDPOINTS_PER_SUBSET, MIRRORING_CONTROLLER_NAME, normalizeIP } from '../../controllers/endpointslicemirroring/reconcile.js';
import { LABEL_SKIP_MIRROR } from '../../controllers/endpoints/reconcile.js';
import type { DiagnoseFacts } from '../diagnosefacts.js';
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

/** Why (some of) hand-written Endpoints cannot be mirrored into EndpointSlices, if they cannot. */
function mirrorBlocked(ep: Endpoints): { all: boolean; why: string } | undefined {
  if (ep.metadata?.labels?.[LABEL_SKIP_MIRROR] === 'true') {
    return { all: true, why: `the Endpoints are labelled ${LABEL_SKIP_MIRROR}=true, so the mirroring controller leaves them alone (that label is for Endpoints a controller also writes as EndpointSlices)` };
  }
  if (ep.metadata?.annotations?.[ANNOTATION_LEADER] !== undefined) {
    return { all: true, why: `the Endpoints carry the leader-election annotation ${ANNOTATION_LEADER}: they are a lock, never mirrored` };
  }
  let invalid = 0; let over = 0; let total = 0;
  for (const s of ep.subsets ?? []) {
    const addrs = [...(s.addresses ?? []), ...(s.notReadyAddresses ?? [])];
    total += addrs.length;
    let added = 0;
    for (const a of addrs) {
      if (added >= DEFAULT_MAX_ENDPOINTS_PER_SUBSET) { over++; continue; }
      if (normalizeIP(a.ip ?? '')) added++; else invalid++;
    }
  }
  if (invalid === 0 && over === 0) return undefined;
  const parts = [
    ...(invalid ? [`${invalid} address${invalid === 1 ? ' is' : 'es are'} not a valid IP`] : []),
    ...(over ? [`${over} address${over === 1 ? '' : 'es'} beyond the ${DEFAULT_MAX_ENDPOINTS_PER_SUBSET} per subset the mirroring controller copies`] : []),
  ];
  return { all: invalid + over === total, why: `${parts.join('; ')}: ${invalid + over} of ${total} hand-written addresses are not mirrored into EndpointSlices` };
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
    const blocked = f.endpoints ? mirrorBlocked(f.endpoints) : undefined;
    if (f.slices.length === 0) {
      return [finding('endpoints-agree', 'fail', 'EndpointsNotMirrored', `hand-written Endpoints ${v.name} (${[...ep].join(', ')}) have no EndpointSlice: the proxy programs from EndpointSlices, so this Service gets no traffic`,
        [blocked?.why ?? `no EndpointSlice labelled endpointslice.kubernetes.io/managed-by=${MIRRORING_CONTROLLER_NAME} exists for them: the mirroring controller has not written it (is the controller manager running?)`],
        [...(f.endpoints?.metadata?.labels?.[LABEL_SKIP_MIRROR] === 'true' ? [`kubectl label endpoints ${v.name} -n ${v.namespace} ${LABEL_SKIP_MIRROR}-   # let the mirroring controller copy them`] : []), sliceCommand(f)])];
    }
    // Slices written by someone else may carry what the controller does not mirror: judge by addresses.
    const unmirrored = [...ep].filter((a) => !sl.has(a));
    if (blocked && unmirrored.length > 0) {
      return [finding('endpoints-agree', sl.size === 0 ? 'fail' : 'warn', 'EndpointsNotMirrored', `${unmirrored.length} hand-written endpoint${unmirrored.length === 1 ? '' : 's'} of ${v.name} ${unmirrored.length === 1 ? 'is' : 'are'} in no EndpointSlice: ${unmirrored.length === 1 ? 'it gets' : 'they get'} no traffic`,
        [blocked.why, `not in any EndpointSlice: ${unmirrored.slice(0, 5).join(', ')}${unmirrored.length > 5 ? `, … (${unmirrored.length - 5} more)` : ''}`],
        [`kubectl get endpoints ${v.name} -n ${v.namespace} -o yaml`, '# write EndpointSlices for them yourself (at most 1000 endpoints each), labelled kubernetes.io/service-name'])];
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

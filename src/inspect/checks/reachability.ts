/**
 * Check 6 (Debug Services steps 1, 5 and 8): real connections from the probe Pod — to ClusterIP:port
 * and to every endpoint directly. Which of the two fails tells a proxy problem (endpoints answer, the
 * virtual IP does not) from an application problem (the endpoint itself refuses or is silent) and
 * from "no endpoints" (the rules reject at once).
 */
import type { DiagnoseFacts, ProbeConnect } from '../diagnosefacts.js';
import type { Finding } from '../types.js';
import { finding } from './common.js';

function describe(c: ProbeConnect): string {
  const a = c.answer;
  const what = a.ok ? `connected in ${a.ms} ms` : a.error === 'ECONNREFUSED' ? `refused (${a.ms} ms)` : a.error === 'ETIMEDOUT' ? `no answer within ${Math.round(a.ms)} ms` : `${a.error} (${a.ms} ms)`;
  return `${c.ip}:${c.port}${c.pod ? ` (pod ${c.pod})` : ''}: ${what}`;
}

export function checkReachability(f: DiagnoseFacts): Finding[] {
  const e = f.explanation;
  const v = e.service;
  if (v.type === 'ExternalName') return [finding('reachability', 'skip', 'ExternalTarget', `not probed: ${v.externalName} is outside the cluster`)];
  if (f.probe.placed === false) return [finding('reachability', 'skip', 'NotProbed', `no connection made: ${f.probe.reason}`)];
  const out: Finding[] = [];
  const from = `from probe Pod ${f.probe.pod} (${f.probe.ip}, namespace ${f.from})`;
  const skippedPorts = v.ports.filter((p) => p.protocol !== 'TCP');
  for (const p of skippedPorts) {
    out.push(finding('reachability', 'skip', 'NotTcp', `${p.port}/${p.protocol}: not probed (no handshake to test without the application's protocol)`));
  }
  const vipOk = f.vipConnects.filter((c) => c.answer.ok);
  const vipBad = f.vipConnects.filter((c) => !c.answer.ok);
  const epOk = f.endpointConnects.filter((c) => c.answer.ok);
  const epBad = f.endpointConnects.filter((c) => !c.answer.ok);
  const evidence = [from, ...f.vipConnects.map((c) => `ClusterIP ${describe(c)}`), ...f.endpointConnects.map((c) => `endpoint ${describe(c)}`)];
  const tcpPorts = v.ports.filter((p) => p.protocol === 'TCP');
  if (tcpPorts.length === 0) return out;

  if (v.clusterIP && f.endpointConnects.length === 0 && v.namespace === 'default' && v.name === 'kubernetes' && !v.selector) {
    out.push(finding('reachability', 'info', 'ApiServerOutsidePodNetwork', `${v.clusterIP} refuses connections: clusterip's API server is not in the Pod network (a known limit; see the selector finding)`, evidence));
    return out;
  }
  if (v.clusterIP && f.endpointConnects.length === 0) {
    const refused = vipBad.every((c) => c.answer.error === 'ECONNREFUSED');
    out.push(finding('reachability', 'fail', 'NoEndpoints', `${v.clusterIP} has no endpoint to send to: connections are ${refused ? 'refused at once' : 'failing'}`, evidence,
      [`kubectl get endpointslices -n ${v.namespace} -l kubernetes.io/service-name=${v.name}   # see the selector and pods-ready findings`]));
    return out;
  }
  if (!v.clusterIP && f.endpointConnects.length === 0) {
    out.push(finding('reachability', 'fail', 'NoEndpoints', 'the headless Service has no ready endpoint to connect to', evidence));
    return out;
  }
  if (epBad.length) {
    const allRefused = epBad.every((c) => c.answer.error === 'ECONNREFUSED');
    out.push(finding('reachability', epOk.length ? 'warn' : 'fail', allRefused ? 'EndpointRefused' : 'EndpointUnreachable',
      `${epBad.length} of ${f.endpointConnects.length} endpoint${f.endpointConnects.length === 1 ? '' : 's'} ${allRefused ? 'refuse' : 'do not answer'} connections directly — an application problem, not the proxy's`,
      evidence, [...new Set(epBad.filter((c) => c.pod).slice(0, 2).map((c) => `kubectl logs ${c.pod} -n ${v.namespace}`))]));
  }
  if (v.clusterIP) {
    if (vipBad.length && epOk.length) {
      out.push(finding('reachability', 'fail', 'VipUnreachable', `the endpoints answer directly but ${v.clusterIP} does not — a proxy problem (see the proxy finding)`, evidence,
        [`clusterip explain svc/${v.name} -n ${v.namespace} --name ${f.cluster.name}`]));
    } else if (vipBad.length && !epOk.length) {
      // The endpoint finding above names the cause: the ClusterIP fails because its endpoints do.
    } else if (!epBad.length) {
      out.push(finding('reachability', 'pass', 'Reachable', `${v.clusterIP} and all ${f.endpointConnects.length} endpoint${f.endpointConnects.length === 1 ? '' : 's'} accept connections ${from}`, evidence));
    } else if (vipOk.length) {
      out.push(finding('reachability', 'pass', 'VipReachable', `${v.clusterIP} accepts connections (the proxy sends to endpoints that answer)`, evidence));
    }
  } else if (!epBad.length) {
    out.push(finding('reachability', 'pass', 'Reachable', `all ${f.endpointConnects.length} endpoint${f.endpointConnects.length === 1 ? '' : 's'} of the headless Service accept connections ${from}`, evidence));
  }
  return out;
}

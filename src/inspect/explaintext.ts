/**
 * The terminal rendering of an explanation: the path top to bottom as the seeds draw it — name →
 * DNS → virtual IP → the kernel's rules on each node → endpoints → Pods → (not) outside. Pure.
 */
import { formatLabels } from './nearest.js';
import type { Counter, KernelServicePort, NodeRulesView, PodExplanation, PodView, ServiceExplanation } from './types.js';

const BRANCH = '├─ ';
const PIPE = '│   ';
const LAST = '└─ ';

function ago(iso: string | undefined, now: Date): string {
  if (!iso) return 'never';
  const s = Math.max(0, (now.getTime() - Date.parse(iso)) / 1000);
  return s < 1 ? 'just now' : s < 90 ? `${Math.round(s)} s ago` : s < 5400 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
}

function conns(c: Counter | undefined): string {
  return c ? `${c.packets} conn${c.packets === 1 ? '' : 's'}` : '';
}

function proxyLine(n: NodeRulesView, now: Date): string {
  const p = n.proxy;
  if (!p) return 'proxy status not published';
  const err = p.lastError && (!p.lastSyncAt || p.lastError.at > p.lastSyncAt)
    ? `; LAST SYNC FAILED ${ago(p.lastError.at, now)}: ${p.lastError.message}` : '; no errors since';
  return `last sync ${ago(p.lastSyncAt, now)} (${p.syncs} syncs, last full ${ago(p.lastFullSyncAt, now)})${err}`;
}

function portHeadline(p: KernelServicePort): string {
  const name = `${p.port}/${p.protocol}${p.portName ? ` (${p.portName})` : ''}`;
  if (p.state === 'absent') return `${name}: NO RULE matches this port (the proxy has not programmed it)`;
  if (p.state === 'reject') return `${name}: no endpoints → connections are rejected${p.counter ? ` (${conns(p.counter)} rejected)` : ''}`;
  const aff = p.affinityTimeoutSeconds !== undefined ? `, ClientIP affinity ${p.affinityTimeoutSeconds} s` : '';
  return `${name}: ${p.endpoints.length} endpoint${p.endpoints.length === 1 ? '' : 's'}${aff}${p.counter ? `, ${conns(p.counter)}` : ''}`;
}

/** Connection counters per endpoint IP:port, summed over nodes. */
function endpointCounters(e: ServiceExplanation): Map<string, number> {
  const m = new Map<string, number>();
  for (const n of e.nodes) for (const p of n.ports) for (const ep of p.endpoints) {
    if (!ep.counter) continue;
    const k = `${ep.ip}:${ep.port}`;
    m.set(k, (m.get(k) ?? 0) + ep.counter.packets);
  }
  return m;
}

function podLine(p: PodView): string[] {
  const state = p.ready ? 'ready' : `NOT READY: ${p.why ?? 'unknown'}`;
  const head = `${p.name}  ${p.ip ?? '<no IP>'}  node ${p.node ?? '<none>'}  ${p.phase}  ${state}${p.restarts ? `  (${p.restarts} restarts)` : ''}`;
  const lines = [head];
  for (const port of p.ports) {
    const target = port.resolved === undefined
      ? `targetPort ${JSON.stringify(port.targetPort)} matches no container port`
      : `targetPort ${typeof port.targetPort === 'string' ? `${port.targetPort} → ${port.resolved}` : port.resolved}${port.container ? ` (container ${port.container}${port.declared ? '' : ', not declared in ports'})` : ''}`;
    const listen = port.listening === 'yes' ? `listening: ${port.listeners.map((l) => `${l.address}:${l.port}${l.process ? ` ${l.process}` : ''}`).join(', ')}`
      : port.listening === 'loopback' ? `LISTENS ON LOOPBACK ONLY (${port.listeners.map((l) => `${l.address}:${l.port}`).join(', ')}): unreachable at the Pod IP`
        : port.listening === 'no' && port.resolved !== undefined ? `NOTHING LISTENS on ${port.resolved}/${port.protocol}${p.listeners?.length ? ` (listening: ${p.listeners.map((l) => `${l.port}/${l.protocol}`).join(', ')})` : ''}`
          : port.listening === 'unknown' ? 'listening: unknown (sockets not readable)' : '';
    lines.push(`  port ${port.servicePort}: ${target}${listen ? `; ${listen}` : ''}`);
  }
  return lines;
}

/** Renders a Service explanation for the terminal. */
export function renderServiceExplanation(e: ServiceExplanation, now = new Date(e.readAt)): string {
  const s = e.service;
  const out: string[] = [];
  const kind = s.type === 'ExternalName' ? `ExternalName → ${s.externalName}` : s.headless ? 'headless (clusterIP: None)' : `${s.type} ${s.clusterIP ?? '<none>'}`;
  const aff = s.sessionAffinity === 'ClientIP' ? `ClientIP (${s.affinityTimeoutSeconds} s)` : 'None';
  const selector = s.selector ? formatLabels(s.selector) : s.type === 'ExternalName' ? '<none> (a DNS alias)' : '<none> (endpoints are written by hand)';
  out.push(`Service ${s.namespace}/${s.name}  ${kind}  selector ${selector}  affinity ${aff}`);

  out.push(`${BRANCH}DNS       asked ${e.cluster.dnsServiceIP} (kube-dns) from inside the cluster network`);
  const w = Math.max(...e.dns.map((d) => d.name.length), 0);
  for (const d of e.dns) {
    const ans = d.rcode === 'NOERROR' ? d.answers.join(', ') : `${d.rcode}${d.error ? ` (${d.error})` : ''}`;
    const q = d.query !== d.name ? `  [asks ${d.query}]` : '';
    out.push(`${PIPE}${d.name.padEnd(w)} ${d.type === 'A' ? '' : `${d.type} `}→ ${ans}   ${d.usableFrom}${d.form === 'short' || d.form === 'namespaced' ? q : ''}`);
  }

  if (e.vips.length) {
    for (const v of e.vips) out.push(`${BRANCH}VIP       ${v.ip}:${v.port}/${v.protocol}${v.portName ? ` (${v.portName})` : ''} → targetPort ${v.targetPort}   session affinity ${v.sessionAffinity}${v.affinityTimeoutSeconds !== undefined ? ` ${v.affinityTimeoutSeconds} s` : ''}`);
  } else {
    out.push(`${BRANCH}VIP       none: ${s.type === 'ExternalName' ? 'an ExternalName Service is a DNS alias only' : 'a headless Service has no virtual IP; DNS answers with the Pod IPs'}`);
  }

  for (const n of e.nodes) {
    if (!s.clusterIP) break;
    out.push(`${BRANCH}rules     node ${n.node}: ${n.mode} in network namespace ${n.netns}; ${proxyLine(n, now)}`);
    if (n.error) { out.push(`${PIPE}cannot read the rules: ${n.error}`); continue; }
    for (const p of n.ports) out.push(`${PIPE}${portHeadline(p)}`);
    out.push(`${PIPE}kernel text (${n.mode === 'nftables' ? `ip netns exec ${n.netns} nft list table ip clusterip` : `ip netns exec ${n.netns} iptables-save -c`}, this Service's entries; counters count connections since each entry was written):`);
    for (const l of n.text.trimEnd().split('\n')) if (l) out.push(`${PIPE}  ${l.replace(/\t/g, '    ')}`);
  }

  const counters = endpointCounters(e);
  if (s.type === 'ExternalName') {
    out.push(`${BRANCH}endpoints none: an ExternalName Service has no endpoints and no Pods; clients get the CNAME and connect to ${s.externalName} themselves`);
  } else if (e.slices.length === 0) {
    out.push(`${BRANCH}endpoints none: no EndpointSlice names this Service${s.selector ? ' (its selector matches no ready Pod)' : ''}`);
  }
  for (const sl of e.slices) {
    const ports = sl.ports.map((p) => `${p.name ? `${p.name} ` : ''}${p.port ?? '?'}/${p.protocol}`).join(', ');
    out.push(`${BRANCH}endpoints EndpointSlice ${sl.name} (${sl.managedBy ?? 'written by hand'}; ports ${ports || 'none'})`);
    if (sl.endpoints.length === 0) out.push(`${PIPE}(no endpoints)`);
    for (const ep of sl.endpoints) {
      const c = sl.ports.map((p) => counters.get(`${ep.addresses[0]}:${p.port}`)).filter((x): x is number => x !== undefined);
      const mark = ep.ready ? '✓' : ep.serving && ep.terminating ? '~' : '✗';
      const cond = ep.ready ? 'ready' : `not ready${ep.terminating ? ', terminating' : ''}${ep.serving && !ep.ready ? ', serving' : ''}: ${ep.why ?? ''}`;
      out.push(`${PIPE}${mark} ${ep.addresses.join(',')}  ${ep.pod ? `pod ${ep.pod}` : '(no Pod)'}${ep.nodeName ? `  on ${ep.nodeName}` : ''}  ${cond}${c.length ? `  ${conns({ packets: c.reduce((a, b) => a + b, 0), bytes: 0 })}` : ''}`);
    }
  }

  if (s.type === 'ExternalName') { /* no Pods */ } else if (e.pods.length === 0) out.push(`${BRANCH}pods      none ${s.selector ? `match selector ${formatLabels(s.selector)} in namespace ${s.namespace}` : '(selectorless Service)'}`);
  else out.push(`${BRANCH}pods      ${e.pods.length} behind the Service`);
  for (const p of e.pods) for (const l of podLine(p)) out.push(`${PIPE}${l}`);

  out.push(`${LAST}outside   not reachable: ${e.outside.why}`);
  for (const u of e.outside.use) out.push(`    ${u}`);
  for (const wline of e.warnings) out.push(`warning: ${wline}`);
  return out.join('\n') + '\n';
}

/** Renders a Pod explanation for the terminal. */
export function renderPodExplanation(e: PodExplanation): string {
  const out: string[] = [];
  const p = e.pod;
  out.push(`Pod ${p.namespace}/${p.name}  ${p.ip ?? '<no IP>'}  node ${p.node ?? '<none>'}  ${p.phase}  ${p.ready ? 'ready' : `NOT READY: ${p.why ?? ''}`}`);
  for (const d of e.dns) out.push(`${BRANCH}DNS       ${d.name} → ${d.rcode === 'NOERROR' ? d.answers.join(', ') : d.rcode}`);
  out.push(`${BRANCH}listening ${p.listeners ? (p.listeners.map((l) => `${l.address}:${l.port}/${l.protocol}${l.process ? ` ${l.process}` : ''}`).join(', ') || 'nothing') : 'unknown'}`);
  if (e.services.length === 0) out.push(`${LAST}services  none select this Pod`);
  e.services.forEach((s, i) => {
    const last = i === e.services.length - 1;
    const ep = s.endpoint;
    out.push(`${last ? LAST : BRANCH}service   ${s.service.namespace}/${s.service.name} ${s.service.clusterIP ?? (s.service.headless ? '(headless)' : '')}: ${ep ? (ep.ready ? 'endpoint ready' : `endpoint NOT READY: ${ep.why ?? ''}`) : 'not an endpoint (yet)'}`);
    for (const r of s.rules) {
      out.push(`${last ? '    ' : PIPE}node ${r.node} port ${r.port}: ${r.endpoint ? `DNAT to ${r.endpoint.ip}:${r.endpoint.port}${r.endpoint.counter ? `, ${conns(r.endpoint.counter)}` : ''}` : r.state === 'endpoints' ? 'rules do not send traffic to this Pod' : r.state}`);
    }
  });
  for (const w of e.warnings) out.push(`warning: ${w}`);
  return out.join('\n') + '\n';
}

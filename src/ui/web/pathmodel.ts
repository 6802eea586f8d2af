/**
 * A Service's path as a graph (pure): client → DNS name → ClusterIP:port → each node's rule →
 * endpoints → Pods → containerPort, every box carrying the live facts it shows and a plain-words
 * label for screen readers. Built from the topology (API objects), the trace (what the DNS server
 * answered, what each node's proxy programmed, with the rule lines it sent the kernel), the flows
 * (connections per endpoint) and, when the daemon has it, explain (the kernel's own rule text and
 * per-endpoint counters). ELK lays it out (pathview.tsx); this file only says what is there.
 */
import type { TraceState } from '../../inspect/tracemodel.js';
import type { ServiceExplanation } from '../../inspect/types.js';
import type { PodRec, ServiceRec } from '../model.js';
import type { TopologyStore } from './store.js';

/** The parts of `clusterip explain -o json` (src/inspect ServiceExplanation) the path reads. */
export type ExplainLite = Pick<ServiceExplanation, 'dns' | 'nodes'>;

export type PathNodeKind = 'client' | 'dns' | 'vip' | 'rule' | 'endpoint' | 'pod' | 'cport' | 'none';

export interface PathNode {
  id: string;
  kind: PathNodeKind;
  title: string;
  lines: string[];
  /** ok: ready / programmed; off: not ready, rejected, missing (greyed, with `why`). */
  state: 'ok' | 'off' | 'neutral';
  why?: string;
  /** Connections counted for this endpoint (flows since the page opened; the kernel counter when explain ran). */
  count?: number;
  countSource?: 'kernel' | 'flows';
  /** Labels of a Pod, with those the selector asks for marked. */
  labels?: { k: string; v: string; match: boolean }[];
  /** Text shown when the box is opened (kernel rule lines, details). */
  detail?: string;
  /** Screen-reader label. */
  aria: string;
}

export interface PathGraph {
  nodes: PathNode[];
  edges: { id: string; from: string; to: string; off?: boolean }[];
  /** Changes when boxes or edges come or go (a new layout is needed); counts do not change it. */
  shape: string;
}

export interface PathInputs {
  store: TopologyStore;
  svcKey: string;
  portIndex: number;
  /** Trace state after the latest recorded change of this Service (DNS answer, rules per node). */
  trace?: TraceState;
  /** Latest rule lines each node's proxy sent for this Service (trace proxy-sync evidence). */
  ruleEvidence?: Record<string, string[]>;
  /** Connections per backend `ip:port` seen in flows. */
  flowCounts?: Map<string, number>;
  /** `flowCounts` when `explain` was read: the kernel's counters already include those. */
  flowCountsAtExplain?: Map<string, number>;
  explain?: ExplainLite;
  clusterDomain?: string;
  /** Endpoints drawn at most (the rest are summarised in one box). */
  maxEndpoints?: number;
}

/** The container port a Service port's targetPort resolves to in one Pod (the EndpointSlice controller's rule). */
export function resolveTargetPort(pod: PodRec | undefined, targetPort: number | string, protocol: string): { port?: number; container?: string; name?: string } {
  if (typeof targetPort === 'number') {
    const declared = pod?.ports.find((p) => p.port === targetPort && p.protocol === protocol);
    return { port: targetPort, ...(declared ? { container: declared.container, ...(declared.name ? { name: declared.name } : {}) } : {}) };
  }
  const named = pod?.ports.find((p) => p.name === targetPort && p.protocol === protocol);
  return named ? { port: named.port, container: named.container, name: targetPort } : { name: targetPort };
}

export function buildPath(inp: PathInputs): PathGraph {
  const svc = inp.store.services.get(inp.svcKey);
  if (!svc) return { nodes: [], edges: [], shape: '' };
  const port = svc.ports[inp.portIndex] ?? svc.ports[0];
  const domain = inp.clusterDomain ?? 'cluster.local';
  const nodes: PathNode[] = [];
  const edges: PathGraph['edges'] = [];
  const edge = (from: string, to: string, off?: boolean): void => { edges.push({ id: `${from}>${to}`, from, to, ...(off ? { off } : {}) }); };
  const fqdn = `${svc.name}.${svc.namespace}.svc.${domain}`;

  nodes.push({ id: 'client', kind: 'client', title: 'client', lines: ['a Pod in the cluster', `wget http://${svc.name}${port && port.port !== 80 ? `:${port.port}` : ''}`], state: 'neutral', aria: `Client: a Pod in the cluster asks for ${svc.name}` });

  // DNS: what the cluster DNS server answered (explain asked just now; trace recorded its last change).
  const dnsAnswer = inp.explain?.dns?.find((d) => d.form === 'fqdn')?.answers ?? inp.trace?.dns;
  const dnsOk = svc.clusterIP ? (dnsAnswer === undefined ? undefined : dnsAnswer.includes(svc.clusterIP)) : dnsAnswer !== undefined && dnsAnswer.length > 0;
  nodes.push({
    id: 'dns', kind: 'dns', title: 'DNS', lines: [fqdn, dnsAnswer === undefined ? `→ ${svc.clusterIP ?? '?'} (not observed yet)` : dnsAnswer.length ? `→ ${dnsAnswer.join(', ')}` : '→ NXDOMAIN'],
    state: dnsOk === false ? 'off' : dnsOk ? 'ok' : 'neutral',
    ...(dnsOk === false ? { why: dnsAnswer?.length ? `answers ${dnsAnswer.join(', ')}, not the ClusterIP` : 'the name does not resolve' } : {}),
    aria: `DNS name ${fqdn} resolves to ${dnsAnswer?.length ? dnsAnswer.join(', ') : dnsAnswer ? 'nothing (NXDOMAIN)' : 'not observed yet'}`,
  });
  edge('client', 'dns');

  const vipText = svc.clusterIP && port ? `${svc.clusterIP}:${port.port}/${port.protocol}` : svc.headless ? 'headless: no ClusterIP' : svc.type;
  nodes.push({
    id: 'vip', kind: 'vip', title: 'ClusterIP', lines: [vipText, port ? `targetPort ${port.targetPort}${svc.sessionAffinity === 'ClientIP' ? ' · ClientIP affinity' : ''}` : 'no ports'],
    state: 'neutral', aria: `ClusterIP ${vipText}, target port ${port?.targetPort ?? 'none'}`,
  });
  edge('dns', 'vip');

  // Each node's rule: what its proxy programmed (trace), the rule text (explain: the kernel's own; else the lines the proxy sent).
  const eps = inp.store.endpointsOf(inp.svcKey);
  const sliceReady = eps.filter((e) => e.ep.ready).length;
  const known = [...inp.store.nodes.keys()].sort();
  const nodeNames = known.length ? known : ['(no node)'];
  for (const n of nodeNames) {
    const id = `rule:${n}`;
    const programmed = inp.trace?.rules[n];
    const kn = inp.explain?.nodes?.find((x) => x.node === n);
    const kp = kn?.ports.find((p) => p.port === port?.port && p.protocol === port?.protocol);
    const state = kp ? kp.state : programmed === undefined ? undefined : programmed < 0 ? 'reject' : 'endpoints';
    const count = kp ? kp.endpoints.length : programmed;
    const text = kn?.text ?? inp.ruleEvidence?.[n]?.join('\n');
    nodes.push({
      id, kind: 'rule', title: `node ${n}`,
      lines: [state === undefined ? `${kn?.mode ?? 'rules'}: not observed yet` : state === 'reject' ? `${kn?.mode ?? 'rule'}: reject (no endpoints)` : state === 'absent' ? 'no rule for this port' : `${kn?.mode ?? 'rule'}: DNAT → ${count} endpoint${count === 1 ? '' : 's'}`, text ? 'open for the rule text' : ''].filter(Boolean),
      state: state === 'endpoints' ? 'ok' : state === undefined ? 'neutral' : 'off',
      ...(state === 'reject' ? { why: 'the kernel refuses new connections: the Service has no ready endpoint' } : state === 'absent' ? { why: 'no rule matches this ClusterIP:port' } : {}),
      detail: text ? `${kn ? `the kernel's rules for ${vipText} on node ${n} (${kn.mode}):` : `rule lines node ${n}'s proxy sent the kernel for this Service in its last sync:`}\n\n${text}` : `no rule text recorded for node ${n} yet`,
      aria: `Node ${n} rule: ${state ?? 'not observed'}${count !== undefined && count >= 0 ? `, ${count} endpoints` : ''}. Press Enter for the rule text.`,
    });
    edge('vip', id, state !== undefined && state !== 'endpoints');
  }

  const max = inp.maxEndpoints ?? 16;
  const shown = eps.slice(0, max);
  if (eps.length === 0) {
    const why = svc.selector ? `selector ${Object.entries(svc.selector).map(([k, v]) => `${k}=${v}`).join(',')} matches no ready Pod` : 'selectorless: no endpoints written';
    nodes.push({ id: 'none', kind: 'none', title: '✗ 0 endpoints', lines: ['no Pod receives traffic'], state: 'off', why, aria: `No endpoints: ${why}` });
    for (const n of nodeNames) edge(`rule:${n}`, 'none', true);
  }
  const sel = Object.entries(svc.selector ?? {});
  for (const { ep, pod, slice } of shown) {
    const epPort = port ? resolveTargetPort(pod, port.targetPort, port.protocol).port : undefined;
    const addr = `${ep.ip}:${epPort ?? '?'}`;
    const id = `ep:${ep.ip}`;
    const kernel = inp.explain?.nodes?.flatMap((n) => n.ports.filter((p) => p.port === port?.port && p.protocol === port?.protocol).flatMap((p) => p.endpoints))
      .filter((k) => k.ip === ep.ip && k.counter);
    const kernelCount = kernel && kernel.length ? kernel.reduce((s, k) => s + (k.counter?.packets ?? 0), 0) : undefined;
    const flows = inp.flowCounts?.get(addr) ?? 0;
    const why = ep.ready ? undefined : pod?.why ?? (ep.terminating ? 'terminating' : 'not ready');
    // The kernel's counter when explain read it, plus the connections flows saw since (until the next read).
    const count = kernelCount !== undefined ? kernelCount + Math.max(0, flows - (inp.flowCountsAtExplain?.get(addr) ?? 0)) : flows;
    nodes.push({
      id, kind: 'endpoint', title: ep.ready ? '✓ endpoint' : '✗ endpoint (not ready)', lines: [addr, `slice ${slice}`],
      state: ep.ready ? 'ok' : 'off', ...(why ? { why } : {}), count, countSource: kernelCount !== undefined ? 'kernel' : 'flows',
      aria: `Endpoint ${addr}, ${ep.ready ? 'ready' : `not ready: ${why}`}, ${count} connection${count === 1 ? '' : 's'}`,
    });
    for (const n of nodeNames) edge(`rule:${n}`, id, !ep.ready);
    const podId = `pod:${ep.pod ?? ep.ip}`;
    const labels = Object.entries(pod?.labels ?? {}).map(([k, v]) => ({ k, v, match: sel.some(([sk, sv]) => sk === k && sv === v) }));
    const podWhy = pod ? pod.why : 'no such Pod in the API';
    nodes.push({
      id: podId, kind: 'pod', title: `Pod ${ep.pod ?? '(none)'}`, lines: [`${pod?.ip ?? ep.ip} on ${pod?.node ?? ep.node ?? '?'}`], labels,
      state: pod?.ready ? 'ok' : 'off', ...(podWhy ? { why: podWhy } : {}),
      detail: pod ? `Pod ${pod.namespace}/${pod.name}\nIP ${pod.ip ?? '-'} on node ${pod.node ?? '-'}\nphase ${pod.phase}${pod.owner ? `, owned by ${pod.owner}` : ''}\nlabels: ${labels.map((l) => `${l.k}=${l.v}${l.match ? ' (selector)' : ''}`).join(', ') || 'none'}${podWhy ? `\nnot ready: ${podWhy}` : ''}` : undefined,
      aria: `Pod ${ep.pod ?? ep.ip}, ${pod?.ready ? 'ready' : `not ready: ${podWhy ?? ''}`}; labels ${labels.map((l) => `${l.k}=${l.v}${l.match ? ' matches the selector' : ''}`).join(', ') || 'none'}`,
    });
    edge(id, podId, !ep.ready);
    if (port) {
      const r = resolveTargetPort(pod, port.targetPort, port.protocol);
      const cid = `cport:${ep.pod ?? ep.ip}`;
      nodes.push({
        id: cid, kind: 'cport', title: 'containerPort', lines: [r.port !== undefined ? `${r.container ?? 'container'}:${r.port}/${port.protocol}${r.name ? ` (${r.name})` : ''}` : `no port named ${port.targetPort}`],
        state: r.port !== undefined ? (r.container ? 'ok' : 'neutral') : 'off',
        ...(r.port === undefined ? { why: `no container of this Pod declares a port named ${port.targetPort}` } : !r.container ? { why: 'not declared in the Pod spec (fine: containerPort is informational)' } : {}),
        aria: `Container port ${r.port ?? 'unresolved'}${r.container ? ` of container ${r.container}` : ''}`,
      });
      edge(podId, cid, !ep.ready);
    }
  }
  // Pods the selector matches that are no endpoint (no IP yet, or their slice not written yet).
  for (const b of inp.store.podsBeside(inp.svcKey).filter((x) => !x.endpoint && x.pod).slice(0, max)) {
    const pod = b.pod!;
    const id = `pod:${pod.name}`;
    if (nodes.some((n) => n.id === id)) continue;
    const why = pod.why ?? 'not in an EndpointSlice yet';
    nodes.push({
      id, kind: 'pod', title: `Pod ${pod.name} (no endpoint)`, lines: [`${pod.ip ?? 'no IP yet'} on ${pod.node ?? 'no node yet'}`], state: 'off', why,
      labels: Object.entries(pod.labels).map(([k, v]) => ({ k, v, match: sel.some(([sk, sv]) => sk === k && sv === v) })),
      aria: `Pod ${pod.name} matches the selector but is no endpoint: ${why}`,
    });
    for (const n of nodeNames) edge(`rule:${n}`, id, true);
  }
  if (eps.length > max) {
    nodes.push({ id: 'more', kind: 'endpoint', title: `+${eps.length - max} more endpoints`, lines: [`${sliceReady} ready in all`], state: 'neutral', aria: `${eps.length - max} more endpoints not drawn` });
    for (const n of nodeNames) edge(`rule:${n}`, 'more');
  }
  const shape = nodes.map((n) => `${n.id}|${n.state}|${n.lines.join('/')}|${n.labels?.length ?? 0}`).join(';') + '#' + edges.map((e) => e.id + (e.off ? '!' : '')).join(';');
  return { nodes, edges, shape };
}

/** The service record, re-exported for views. */
export type { ServiceRec };

/**
 * `clusterip diagnose`: the "Debug Services" checklist and the seeds' common mistakes, run against
 * the live system with real probes. The thin part here gathers facts (the explanation, a probe Pod
 * placed through the API, connections and name lookups from inside it, a connection from the
 * outside host, a hairpin test from one of the Service's Pods) into DiagnoseFacts; the pure checks
 * (checks/*.ts) turn them into findings with evidence and fixes. The probe Pod is always removed,
 * also when the signal aborts (Ctrl-C).
 */
import type { Namespace, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { NetworkPolicy } from 'kubernetes-types/networking/v1.js';
import { R } from '../api/resources.js';
import { selectorFromSet } from '../api/selectors.js';
import type { Client } from '../client/client.js';
import { podVethName } from '../node/podnames.js';
import { checkDns } from './checks/dns.js';
import { checkEndpointsAgree } from './checks/endpointsagree.js';
import { checkHairpin } from './checks/hairpin.js';
import { checkOutside } from './checks/outside.js';
import { checkPodsReady } from './checks/podsready.js';
import { checkProbe } from './checks/probe.js';
import { checkProxy } from './checks/proxy.js';
import { checkReachability } from './checks/reachability.js';
import { checkNetworkPolicy } from './checks/networkpolicy.js';
import { checkSelector } from './checks/selector.js';
import { checkService, serviceNotFound } from './checks/service.js';
import { checkSessionAffinity } from './checks/sessionaffinity.js';
import { checkTargetPort } from './checks/targetport.js';
import { sliceEndpoints, usable } from './endpoints.js';
import type { ClusterView } from './clusterview.js';
import type { DiagnoseCluster, DiagnoseFacts, HairpinResult, ProbeConnect, ProbeLookup, ProbeState, ReadinessRecheck } from './diagnosefacts.js';
import { InspectError } from './errors.js';
import { inNetns } from './exec.js';
import { buildServiceExplanation, gatherLiveFacts, podsBehind, serviceView } from './explain.js';
import { gatherServiceFacts, getServiceOrNearest, readPolicyDrops, readServiceRules } from './gather.js';
import { HelperError, runHelper, type DnsAnswer, type HelperRequest, type HttpAnswer, type LookupAnswer, type ReadAnswer, type TcpAnswer, type TcpRepeatAnswer } from './helper.js';
import { placeProbe, ProbeNotPlacedError, removeProbe, removeStaleProbes, runInProbe, type PlacedProbe } from './probepod.js';
import { CHECKS, type ClusterDiagnosis, type Finding, type ServiceDiagnosis } from './types.js';

export interface DiagnoseOptions {
  /** Place the probe in this namespace (default: the Service's own). */
  from?: string;
  signal?: AbortSignal;
  /** false: no probe Pod (static checks, kernel and outside only). */
  probe?: boolean;
  /** Where users add images, cited in ImagePullBackOff fixes. */
  imagesFile?: string;
  /** The command name in fixes (`clusterip` or `kubectl clusterip`). */
  command?: string;
  /** Connection timeout of each probe connection, ms (default 500). */
  connectTimeoutMs?: number;
  /** How long the probe Pod may take to start, ms (default 5000). */
  placeTimeoutMs?: number;
  /** Called when a probe Pod is created / removed (the CLI reports it on Ctrl-C). */
  onProbe?(event: 'created' | 'removed', namespace: string, name: string): void;
}

/**
 * Findings that only repeat a cause named earlier are marked as consequences, so the learner sees
 * one failure per cause: with no usable endpoint (selector, readiness, target port, hand-written
 * endpoints failing), a refused ClusterIP is expected; an endpoint refusing because nothing listens
 * on targetPort is the target-port finding again; and the hairpin test means nothing while the
 * Service answers nobody.
 */
function markConsequences(all: Finding[]): Finding[] {
  const failed = (c: string) => all.some((x) => x.check === c && x.verdict === 'fail');
  const endpointCause = ['selector', 'pods-ready', 'endpoints-agree'].find(failed);
  const portCause = failed('target-port') ? 'target-port' : failed('network-policy') ? 'network-policy' : undefined;
  const vipDown = all.some((x) => x.check === 'reachability' && x.verdict === 'fail') || !!endpointCause;
  return all.map((x) => {
    if (x.check === 'reachability' && x.verdict === 'fail' && x.code === 'NoEndpoints' && endpointCause) {
      return { ...x, verdict: 'info', title: `${x.title} — as expected from the ${endpointCause} failure above`, fix: [] };
    }
    if (x.check === 'reachability' && x.verdict !== 'pass' && (x.code === 'EndpointRefused' || x.code === 'EndpointUnreachable') && (portCause || endpointCause)) {
      return { ...x, verdict: 'info', title: `${x.title} — as expected from the ${portCause ?? endpointCause} failure above`, fix: [] };
    }
    if (x.check === 'hairpin' && (x.code === 'HairpinBroken' || x.code === 'HairpinFails') && (vipDown || portCause)) {
      return { ...x, verdict: 'skip', title: `hairpin not judged: the Service does not answer other Pods either (see above)`, fix: [] };
    }
    return x;
  });
}

/** The checks, in checklist order. Pure. */
export function runChecks(f: DiagnoseFacts): Finding[] {
  const all = [
    ...checkService(f), ...checkSelector(f), ...checkPodsReady(f), ...checkTargetPort(f), ...checkEndpointsAgree(f),
    ...checkDns(f), ...checkProxy(f), ...checkNetworkPolicy(f), ...checkReachability(f), ...checkHairpin(f), ...checkSessionAffinity(f),
    ...checkOutside(f), ...checkProbe(f),
  ];
  const sorted = all.map((x, i) => ({ x, i })).sort((a, b) => CHECKS.indexOf(a.x.check) - CHECKS.indexOf(b.x.check) || a.i - b.i).map((a) => a.x);
  return markConsequences(sorted);
}

/** Worst verdict of the findings. */
export function resultOf(findings: readonly Finding[]): 'pass' | 'warn' | 'fail' {
  if (findings.some((f) => f.verdict === 'fail')) return 'fail';
  if (findings.some((f) => f.verdict === 'warn')) return 'warn';
  return 'pass';
}

function diagnoseCluster(cluster: ClusterView, imagesFile?: string): DiagnoseCluster {
  return {
    name: cluster.name, serviceCIDR: cluster.serviceCIDR, podCIDR: cluster.podCIDR, clusterDomain: cluster.clusterDomain,
    dnsServiceIP: cluster.dnsServiceIP, proxyMode: cluster.proxyMode, ...(imagesFile ? { imagesFile } : {}),
  };
}

/** Counts conntrack entries of `ports` (orig sport) whose reply comes from `podIP` (DNATed back to the Pod itself). */
export function selfConnections(conntrackText: string, podIP: string, ports: readonly number[]): number {
  const want = new Set(ports);
  let n = 0;
  for (const line of conntrackText.split('\n')) {
    const srcs = [...line.matchAll(/\bsrc=(\S+)/g)].map((m) => m[1]);
    const sports = [...line.matchAll(/\bsport=(\d+)/g)].map((m) => Number(m[1]));
    if (srcs.length >= 2 && srcs[0] === podIP && srcs[1] === podIP && want.has(sports[0]!)) n++;
  }
  return n;
}

async function hairpinTest(cluster: ClusterView, svc: Service, pods: readonly Pod[], connectTimeoutMs: number, signal?: AbortSignal): Promise<HairpinResult | undefined> {
  const v = serviceView(svc);
  const sp = v.ports.find((p) => p.protocol === 'TCP');
  if (!v.clusterIP || !sp) return undefined;
  const ready = pods.filter((p) => p.status?.podIP && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && !p.metadata?.deletionTimestamp);
  const pod = ready.find((p) => !p.spec?.hostNetwork);
  if (!pod) return undefined;
  const podIP = pod.status!.podIP!;
  const netns = cluster.podNetns(pod);
  const node = cluster.nodes.find((n) => n.name === pod.spec?.nodeName);
  const base = { pod: pod.metadata!.name!, podIP, vip: v.clusterIP, port: sp.port };
  const empty: TcpRepeatAnswer = { ok: 0, failed: 0, localPorts: [], errors: {} };
  if (!netns || !node) return { ...base, attempts: empty, selfConnections: 0, error: 'the Pod has no network namespace on a known node' };
  // Enough tries that one lands on the Pod itself: P(miss) = (1 - 1/n)^(6n) ≈ e^-6 for n ready Pods (≤ 40 tries).
  const count = Math.min(40, Math.max(3, 6 * ready.length));
  try {
    const [attempts] = await runHelper({ netns }, [{ op: 'tcp-repeat', host: v.clusterIP, port: sp.port, count, timeoutMs: connectTimeoutMs }], { signal }) as [TcpRepeatAnswer];
    const [ct, brport] = await Promise.all([
      inNetns(node.netns, ['conntrack', '-L', '-p', 'tcp', '--orig-src', podIP, '--orig-dst', v.clusterIP, '--dport', String(sp.port)], { signal, timeoutMs: 3000 }),
      inNetns(node.netns, ['cat', `/sys/class/net/${podVethName(pod.metadata!.uid!)}/brport/hairpin_mode`], { signal, timeoutMs: 3000 }),
    ]);
    return {
      ...base, attempts, selfConnections: selfConnections(ct.stdout, podIP, attempts.localPorts),
      ...(brport.code === 0 ? { bridgeHairpin: brport.stdout.trim() === '1' } : {}),
    };
  } catch (e) {
    if (e instanceof HelperError) return { ...base, attempts: empty, selfConnections: 0, error: e.message };
    throw e;
  }
}

/**
 * One TCP connection from network namespace `netns`, made by bash (`/dev/tcp`): a few ms to start
 * where a Node.js helper takes 50–300 ms, for the one connection from the outside host.
 */
export async function connectFrom(netns: string, ip: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<TcpAnswer> {
  const t0 = performance.now();
  const r = await inNetns(netns, ['timeout', (timeoutMs / 1000).toFixed(3), 'bash', '-c', `exec 3<>/dev/tcp/${ip}/${port}`], { signal, timeoutMs: timeoutMs + 3000 });
  const ms = Math.round((performance.now() - t0) * 100) / 100;
  if (r.code === 0) return { ok: true, ms };
  if (r.code === 124) return { ok: false, ms, error: 'ETIMEDOUT' };
  const known: [RegExp, string][] = [[/Network is unreachable/, 'ENETUNREACH'], [/Connection refused/, 'ECONNREFUSED'], [/No route to host/, 'EHOSTUNREACH']];
  const code = known.find(([re]) => re.test(r.stderr))?.[1];
  if (!code) throw new HelperError(`bash /dev/tcp in ${netns} failed (exit ${r.code}): ${r.stderr.trim()}`);
  return { ok: false, ms, error: code };
}

/** Runs the readiness probe of each running, not-ready Pod once, from its node's namespace (where the kubelet's probes come from). */
async function readinessRechecks(cluster: ClusterView, pods: readonly Pod[], signal?: AbortSignal): Promise<ReadinessRecheck[]> {
  const todo: { node: string; check: Omit<ReadinessRecheck, 'result' | 'passes'>; req: HelperRequest; root?: HelperRequest }[] = [];
  for (const p of pods) {
    const ip = p.status?.podIP;
    const node = cluster.nodes.find((n) => n.name === p.spec?.nodeName);
    if (!ip || !node || p.status?.phase !== 'Running' || p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
    (p.spec?.containers ?? []).forEach((c, containerIndex) => {
      const probe = c.readinessProbe;
      const action = probe?.httpGet ?? probe?.tcpSocket;
      if (!probe || !action) return;
      const port = typeof action.port === 'number' ? action.port : /^\d+$/.test(action.port) ? Number(action.port) : c.ports?.find((x) => x.name === action.port)?.containerPort;
      if (port === undefined) return;
      const host = action.host || ip;
      const base = { pod: p.metadata!.name!, container: c.name, containerIndex, port };
      if (probe.httpGet) {
        const path = probe.httpGet.path || '/';
        todo.push({
          node: node.netns, check: { ...base, kind: 'httpGet', path, probe: `GET http://${host}:${port}${path}` }, req: { op: 'http', host, port, path, timeoutMs: 1000 },
          ...(path !== '/' ? { root: { op: 'http' as const, host, port, path: '/', timeoutMs: 1000 } } : {}),
        });
      } else {
        todo.push({ node: node.netns, check: { ...base, kind: 'tcpSocket', probe: `TCP ${host}:${port}` }, req: { op: 'tcp', host, port, timeoutMs: 1000 } });
      }
    });
  }
  const out: ReadinessRecheck[] = [];
  for (const netns of new Set(todo.map((t) => t.node))) {
    const mine = todo.filter((t) => t.node === netns);
    try {
      const reqs = mine.flatMap((t) => (t.root ? [t.req, t.root] : [t.req]));
      const answers = await runHelper({ netns }, reqs, { signal });
      const judge = (kind: string, a: HttpAnswer & TcpAnswer) => ({
        passes: kind === 'httpGet' ? a.status !== undefined && a.status >= 200 && a.status < 400 : a.ok === true,
        result: a.status !== undefined ? `HTTP ${a.status}` : a.ok ? 'connected' : a.error ?? 'failed',
      });
      let i = 0;
      for (const t of mine) {
        const main = judge(t.check.kind, answers[i++] as HttpAnswer & TcpAnswer);
        const root = t.root ? judge('httpGet', answers[i++] as HttpAnswer & TcpAnswer) : undefined;
        out.push({ ...t.check, ...main, ...(root && main.result.startsWith('HTTP') ? { root } : {}) });
      }
    } catch (e) {
      if (!(e instanceof HelperError)) throw e;
    }
  }
  return out;
}

/** The probe's own work: name lookups with its resolver, its resolv.conf, connections to the VIP and each endpoint. */
async function probeWork(probe: PlacedProbe, cluster: ClusterView, svc: Service, slicesFacts: DiagnoseFacts['slices'], connectTimeoutMs: number, signal?: AbortSignal):
  Promise<Pick<DiagnoseFacts, 'lookups' | 'resolvConf' | 'cname' | 'vipConnects' | 'endpointConnects'>> {
  const v = serviceView(svc);
  const fqdn = `${v.name}.${v.namespace}.svc.${cluster.clusterDomain}`;
  const reqs: HelperRequest[] = [{ op: 'read', path: '/etc/resolv.conf' }];
  const lookups: Omit<ProbeLookup, 'answer'>[] = [];
  const connects: (Omit<ProbeConnect, 'answer'> & { to: 'vip' | 'endpoint' })[] = [];
  if (v.type === 'ExternalName') {
    reqs.push({ op: 'dns', server: cluster.dnsServiceIP, name: fqdn, type: 'CNAME', timeoutMs: 700 });
  } else {
    for (const [name, form] of [[v.name, 'short'], [`${v.name}.${v.namespace}`, 'namespaced'], [fqdn, 'fqdn']] as const) {
      lookups.push({ name, form });
      reqs.push({ op: 'lookup', name, timeoutMs: 1500 });
    }
    for (const sp of v.ports.filter((p) => p.protocol === 'TCP')) {
      const label = sp.name || String(sp.port);
      if (v.clusterIP) connects.push({ to: 'vip', ip: v.clusterIP, port: sp.port, protocol: 'TCP', servicePort: label });
      for (const ep of usable(sliceEndpoints(slicesFacts, sp))) connects.push({ to: 'endpoint', ip: ep.ip, port: ep.port, protocol: 'TCP', servicePort: label, ...(ep.pod ? { pod: ep.pod } : {}) });
    }
    for (const c of connects) reqs.push({ op: 'tcp', host: c.ip, port: c.port, timeoutMs: connectTimeoutMs });
  }
  const answers = await runInProbe(probe, reqs, { signal, timeoutMs: 5000 });
  const read = answers[0] as ReadAnswer;
  let i = 1;
  const out: Pick<DiagnoseFacts, 'lookups' | 'resolvConf' | 'cname' | 'vipConnects' | 'endpointConnects'> = {
    lookups: [], vipConnects: [], endpointConnects: [], ...(read.text !== undefined ? { resolvConf: read.text } : {}),
  };
  if (v.type === 'ExternalName') {
    out.cname = answers[i] as DnsAnswer;
    return out;
  }
  for (const l of lookups) out.lookups.push({ ...l, answer: answers[i++] as LookupAnswer });
  for (const { to, ...c } of connects) (to === 'vip' ? out.vipConnects : out.endpointConnects).push({ ...c, answer: answers[i++] as TcpAnswer });
  return out;
}

/**
 * The probe's state and findings: waits for it to be placed, then runs its work (a probe that could
 * not be placed or run is a state, not an error). `placed`: the probe Pod as placed, kept when its
 * helper fails (a default-deny egress makes its DNS questions time out): the network-policy check
 * still judges its address and labels.
 */
async function probeOutcome(probeP: Promise<PlacedProbe | undefined>, cluster: ClusterView, svc: Service, slices: DiagnoseFacts['slices'], connectTimeoutMs: number, signal?: AbortSignal):
  Promise<{ probe: ProbeState; work: Awaited<ReturnType<typeof probeWork>>; placed?: PlacedProbe }> {
  const none = { lookups: [], vipConnects: [], endpointConnects: [] };
  let placed: PlacedProbe | undefined;
  try {
    placed = await probeP;
  } catch (e) {
    if (!(e instanceof ProbeNotPlacedError)) throw e;
    return { probe: { placed: false, reason: e.message }, work: none };
  }
  if (!placed) return { probe: { placed: false, skipped: true, reason: 'probing disabled (--no-probe)' }, work: none };
  try {
    const work = await probeWork(placed, cluster, svc, slices, connectTimeoutMs, signal);
    return { probe: { placed: true, pod: placed.name, namespace: placed.namespace, node: placed.node, ip: placed.ip, placedMs: placed.placedMs }, work, placed };
  } catch (e) {
    if (!(e instanceof HelperError)) throw e;
    return { probe: { placed: false, reason: e.message }, work: none, placed };
  }
}

/**
 * Diagnoses one Service whose object was read, with a probe that is being placed (or could not be).
 * Does not remove the probe (its owner does).
 */
async function diagnoseWith(client: Client, cluster: ClusterView, service: Service, probeP: Promise<PlacedProbe | undefined>, opts: DiagnoseOptions, t0: number): Promise<ServiceDiagnosis> {
  const signal = opts.signal;
  const connectTimeoutMs = opts.connectTimeoutMs ?? 500;
  const ns = service.metadata!.namespace!;
  const from = opts.from ?? ns;
  const v = serviceView(service);
  const facts = await gatherServiceFacts(client, service);
  const behind = podsBehind(v, facts.pods, facts.slices);
  // The probe's own work starts the moment the probe is usable, beside the reads and the other
  // probes below, not after them: it and the hairpin test each start a Node.js helper (the largest
  // costs of a diagnosis), and nothing one of them finds is needed by the other.
  const probeSide = probeOutcome(probeP, cluster, service, facts.slices, connectTimeoutMs, signal);
  const [live, dnsPods, podsElsewhere, outside, hairpin, readiness, { probe, work, placed }] = await Promise.all([
    gatherLiveFacts(cluster, facts, signal),
    client.list<Pod>(R.pods, 'kube-system', { labelSelector: 'k8s-app=kube-dns' }).then((l) => l.items),
    v.selector && behind.length === 0
      ? client.list<Pod>(R.pods, undefined, { labelSelector: selectorFromSet(v.selector).toString() }).then((l) => l.items.filter((p) => p.metadata?.namespace !== ns))
      : Promise.resolve([] as Pod[]),
    (async () => {
      const sp = v.ports.find((p) => p.protocol === 'TCP');
      if (!v.clusterIP || !sp) return undefined;
      try {
        const a = await connectFrom(cluster.outside.netns, v.clusterIP, sp.port, Math.min(300, connectTimeoutMs), signal);
        return { ip: v.clusterIP, port: sp.port, answer: a };
      } catch (e) {
        if (e instanceof HelperError) return { ip: v.clusterIP, port: sp.port, error: e.message };
        throw e;
      }
    })(),
    hairpinTest(cluster, service, behind, connectTimeoutMs, signal),
    readinessRechecks(cluster, behind, signal),
    probeSide,
  ]);
  // After every probe, as the drop counters it reads must include the probe's own connections.
  const networkPolicy = await gatherNetworkPolicy(client, cluster, placed, signal);
  const build = (l: typeof live) => buildServiceExplanation(cluster, facts, l, new Date());
  let explanation = build(live);
  const f: DiagnoseFacts = {
    cluster: diagnoseCluster(cluster, opts.imagesFile), from, explanation, slices: facts.slices, ...(facts.endpoints ? { endpoints: facts.endpoints } : {}),
    pods: facts.pods, podsElsewhere, dnsPods, probe, ...work, ...(outside ? { outside } : {}), ...(hairpin ? { hairpin } : {}),
    ...(readiness.length ? { readiness } : {}), networkPolicy,
  };
  // A rules/slices difference may be a sync in flight: read the rules once more before saying so.
  if (checkProxy(f).some((x) => x.code === 'RulesDisagree') && !signal?.aborted) {
    await new Promise((r) => setTimeout(r, 250));
    const rules = await readServiceRules(cluster, v, facts.slices, signal);
    explanation = build({ ...live, rules });
    f.explanation = explanation;
    f.rulesRereadAfterMs = 250;
  }
  const findings = runChecks(f);
  return {
    kind: 'ServiceDiagnosis', service: { namespace: ns, name: v.name }, from,
    ...(probe.placed ? { probe: { pod: probe.pod, namespace: probe.namespace, node: probe.node, ip: probe.ip, placedMs: probe.placedMs } } : {}),
    findings, result: resultOf(findings), durationMs: Math.round(performance.now() - t0),
  };
}

/** NetworkPolicies, namespaces, the probe Pod and the policy table's drop counters, for the network-policy check. */
async function gatherNetworkPolicy(client: Client, cluster: ClusterView, probe: PlacedProbe | undefined, signal?: AbortSignal): Promise<NonNullable<DiagnoseFacts['networkPolicy']>> {
  const [policies, namespaces, probePod, drops] = await Promise.all([
    client.list<NetworkPolicy>(R.networkpolicies, undefined).then((l) => l.items),
    client.list<Namespace>(R.namespaces, undefined).then((l) => l.items),
    probe ? client.get<Pod>(R.pods, probe.namespace, probe.name).catch(() => undefined) : Promise.resolve(undefined),
    readPolicyDrops(cluster, signal),
  ]);
  return { policies, namespaces, ...(probePod ? { probePod } : {}), drops };
}

/** Places the probe (unless disabled), reporting it to `opts.onProbe`. */
function startProbe(client: Client, cluster: ClusterView, namespace: string, opts: DiagnoseOptions): Promise<PlacedProbe | undefined> {
  if (opts.probe === false) return Promise.resolve(undefined);
  const p = placeProbe(client, cluster, namespace, {
    signal: opts.signal, timeoutMs: opts.placeTimeoutMs, onCreated: (name) => opts.onProbe?.('created', namespace, name),
  });
  // Awaited only after the facts are gathered: a failure before that is not an unhandled rejection.
  p.catch(() => undefined);
  return p;
}

async function stopProbe(client: Client, probeP: Promise<PlacedProbe | undefined>, opts: DiagnoseOptions): Promise<void> {
  const placed = await probeP.catch(() => undefined);
  if (!placed) return;
  await removeProbe(client, placed);
  opts.onProbe?.('removed', placed.namespace, placed.name);
}

/** `clusterip diagnose svc/NAME`: one Service, with its own probe (removed before this returns, also on abort). */
export async function diagnoseService(client: Client, cluster: ClusterView, namespace: string, name: string, opts: DiagnoseOptions = {}): Promise<ServiceDiagnosis> {
  const t0 = performance.now();
  const stale = removeStaleProbes(client).catch(() => []);
  let service: Service;
  try {
    service = await getServiceOrNearest(client, namespace, name);
  } catch (e) {
    await stale;
    if (!(e instanceof InspectError) || e.code !== 'NotFound') throw e;
    const findings = [serviceNotFound(namespace, name, e.nearest, opts.command ?? 'clusterip')];
    return { kind: 'ServiceDiagnosis', service: { namespace, name }, from: opts.from ?? namespace, findings, result: 'fail', durationMs: Math.round(performance.now() - t0) };
  }
  const probeP = startProbe(client, cluster, opts.from ?? namespace, opts);
  try {
    return await diagnoseWith(client, cluster, service, probeP, opts, t0);
  } finally {
    await stopProbe(client, probeP, opts);
    await stale;
  }
}

/** `clusterip diagnose`: every Service (of `namespace`, or of all namespaces), one probe per namespace. */
export async function diagnoseAll(client: Client, cluster: ClusterView, opts: DiagnoseOptions & { namespace?: string } = {}): Promise<ClusterDiagnosis> {
  const t0 = performance.now();
  await removeStaleProbes(client).catch(() => []);
  const services = (await client.list<Service>(R.services, opts.namespace)).items
    .sort((a, b) => `${a.metadata!.namespace}/${a.metadata!.name}`.localeCompare(`${b.metadata!.namespace}/${b.metadata!.name}`));
  const byNs = new Map<string, Service[]>();
  for (const s of services) byNs.set(s.metadata!.namespace!, [...(byNs.get(s.metadata!.namespace!) ?? []), s]);
  const results: ServiceDiagnosis[] = [];
  for (const [ns, list] of byNs) {
    if (opts.signal?.aborted) break;
    const probeP = startProbe(client, cluster, opts.from ?? ns, opts);
    try {
      // A few at a time: each runs helpers and reads the kernel; the machine may be small.
      for (let i = 0; i < list.length; i += 4) {
        results.push(...await Promise.all(list.slice(i, i + 4).map((s) => diagnoseWith(client, cluster, s, probeP, opts, performance.now()))));
      }
    } finally {
      await stopProbe(client, probeP, opts);
    }
  }
  const result = results.some((r) => r.result === 'fail') ? 'fail' : results.some((r) => r.result === 'warn') ? 'warn' : 'pass';
  return { kind: 'ClusterDiagnosis', services: results, result, durationMs: Math.round(performance.now() - t0) };
}

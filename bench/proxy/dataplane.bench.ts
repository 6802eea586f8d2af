/**
 * Data plane through the kernel rules, both backends in the same run (root; real namespaces).
 *
 * Four node namespaces are built side by side, each programmed by its own running proxy:
 * nftables and iptables, each with 10 Services and with `BENCH_SERVICES` (10k) Services × 10
 * endpoints. In each, two Services (`zz-target-a`, `zz-target-b`, named to sort last: the worst
 * place in iptables' linear KUBE-SERVICES chain) front one nginx Pod each (nginx-backend.ts).
 * Then, in rounds, with medians over the rounds:
 *
 * - new-connection latency: TCP handshakes one after another (connect-latency.mjs) to the ClusterIP
 *   and, as the floor, straight to the Pod IP; the variants rotate each round so machine load hits
 *   them alike;
 * - requests/s with wrk (keep-alive): one wrk straight to one Pod's IP and, at the same time,
 *   another through the ClusterIP of the other Pod's Service; the Pods swap roles each round. Both
 *   pairs run at once, so they share the machine (and whatever else runs on it) in the same instant:
 *   on this shared 2-core VM, runs one after the other differed by ±30% from load changes alone;
 * - the same with one request per connection (`Connection: close`): what each new flow costs;
 * - userspace only, keep-alive: the relay on a CPU of its own, as on a real node (measureOwnCpu).
 *   The paired runs above put a pinned pair on each of this machine's 2 CPUs, so the relay (an
 *   unpinned process of the node namespace) can only share the Service pair's CPU: that figure is
 *   the CPU-share view (the pair pays wrk + nginx + relay on one CPU), not what PR #16344 measured
 *   (pod-to-pod on multi-core nodes, where the userspace proxy had CPUs of its own). So, one after
 *   the other, alternated: wrk → Pod IP with wrk and nginx on CPU c, then wrk → ClusterIP with the
 *   same wrk and nginx on CPU c and the relay pinned to the other CPU; each run has the machine
 *   alone, and the figure (median of the per-round ratios) corresponds to PR #16344's setup.
 *
 * Requests/s is measured for two answers, interleaved in the same rounds (`WORKLOADS`): a 2-byte
 * body, where per-packet work is nearly all the work and the DNAT's cost shows most, and the stock
 * nginx welcome page the seeds' `nginx` Pods serve, which is what a user of the seeds sees.
 *
 * Each kind of traffic comes from its own client namespace. Sending to the Pod IP and to the
 * ClusterIP from one client made the ClusterIP look slow (0.67 of direct in the old bench): the
 * client's TCP timestamp offset is per destination address, so a SYN from a reused source port met
 * the server's TIME_WAIT socket from the other path with an older-looking timestamp, and PAWS
 * dropped it (TcpExtPAWSTimewait in the Pod, a 1 s SYN retransmit in the client). See README.md.
 *
 * Traffic is only sent from inside the fixture's namespaces.
 */
import { execFileSync, execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { R } from '../../src/api/resources.js';
import { startProxy, type Proxy, type ProxyMode } from '../../src/proxy/proxy.js';
import { NFT_TABLE } from '../../src/proxy/nftables/proxier.js';
import { ProxyFixture, inNs } from '../../test/e2e/proxy-fixture.js';
import type { TestApi } from '../../test/e2e/proxy-api.js';
import { epIp, makeTestApi, percentile, sliceObj, svcIp, svcObj } from './common.js';
import { NginxBackend, TINY_ANSWER_PATH, WELCOME_PAGE_FILE, WELCOME_PAGE_PATH } from './nginx-backend.js';
import { report } from '../report.js';
import { clockTicks, parseProcStat } from '../../src/node/usage.js';

const NS = 'default';
const MANY = Number(process.env.BENCH_SERVICES ?? 10_000);
const FEW = 10;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
/** Which node namespaces to build (default all): `nftables,iptables,bare-dnat,userspace`. */
const NODES = new Set((process.env.BENCH_NODES ?? 'nftables,iptables,bare-dnat,userspace').split(','));
/**
 * `latency`, `throughput` or both (default). Throughput alone skips the 10k-Service namespaces.
 * `throughput` includes the userspace figure with the relay on a CPU of its own (measureOwnCpu);
 * `own-cpu` runs that figure alone (the userspace node only).
 */
const PARTS = new Set((process.env.BENCH_PARTS ?? 'latency,throughput').split(','));
const OWN_CPU = PARTS.has('throughput') || PARTS.has('own-cpu');
/** Handshakes per variant per round (after 20 warm-up ones). */
const CONNECTS = 1000;
const WRK_SECONDS = 2;
const POD_PORT = 8080;
/** Start-up (full sync) budget per node namespace; past it that variant is reported as not measured. */
const SYNC_BUDGET_MS = 120_000;
const CONNECT_CLIENT = join(dirname(fileURLToPath(import.meta.url)), 'connect-latency.mjs');

/**
 * The two measured Services and their Pods. The Pods are attached to the bridge first, in this
 * order, so they get the same Pod IPs in every node namespace (the API objects are shared).
 */
const TARGETS = [
  { name: 'zz-target-a', clusterIP: '10.111.0.10', podIp: '10.244.0.2', nodePort: 30010 },
  { name: 'zz-target-b', clusterIP: '10.111.0.11', podIp: '10.244.0.3', nodePort: 30011 },
] as const;

/** The node's address on the underlay (the fixture's eth1): NodePorts are reached there. */
const NODE_IP = '172.31.255.10';

/**
 * What the requests/s figures ask nginx for. Both are measured in every round, so they see the
 * same machine load; `body` is what the answer must carry (checked before measuring).
 */
const WORKLOADS = [
  { key: 'tiny', label: '2-byte answer', path: TINY_ANSWER_PATH, body: 'ok' },
  { key: 'welcome', label: 'nginx welcome page', path: WELCOME_PAGE_PATH, body: readFileSync(WELCOME_PAGE_FILE, 'utf8') },
] as const;
type Workload = (typeof WORKLOADS)[number];

/**
 * What programs a node namespace: the proxy in one of its modes, or — as the floor for the
 * throughput figure — no proxy and a bare nft table with one `dnat` rule per measured Service:
 * the least any kernel DNAT data plane can do.
 */
type Programmer = ProxyMode | 'bare-dnat';

/**
 * How a throughput variant reaches the Pod: its ClusterIP or its NodePort at the node's address from
 * a Pod on the node's bridge (direct: Pod to Pod), or its NodePort from a client outside the node
 * (`nodeport-outside`; direct: the same outside clients to the Pod IP, routed through the node).
 */
type Path = 'clusterip' | 'nodeport' | 'nodeport-outside';

/** One node namespace with its proxy, backend Pods and client namespaces. */
interface Node {
  mode: Programmer;
  services: number;
  fx: ProxyFixture;
  proxy?: Proxy;
  backends: NginxBackend[];
  /**
   * Client namespaces, one per kind of traffic (see the file comment); index = TARGETS index.
   * `outsideDirect` / `outsideVia`: outside the node (own link to it, routed), for NodePorts.
   */
  clients: { latencySvc: string; latencyPod: string; direct: string[]; viaSvc: string[]; outsideDirect: string[]; outsideVia: string[] };
}

async function fillApi(api: TestApi, services: number): Promise<void> {
  for (const t of TARGETS) {
    // NodePort type: the same Service answers at its ClusterIP and at the node's address (externalTrafficPolicy Cluster).
    const target = svcObj(NS, t.name, t.clusterIP);
    target.spec = { ...target.spec!, type: 'NodePort', externalTrafficPolicy: 'Cluster' };
    target.spec.ports = [{ name: 'http', port: 80, targetPort: POD_PORT, protocol: 'TCP', nodePort: t.nodePort }];
    await api.client.create(R.services, NS, target);
    await api.client.create(R.endpointslices, NS, sliceObj(NS, t.name, [t.podIp]));
  }
  for (let i = 0; i < services - TARGETS.length; i++) {
    await api.client.create(R.services, NS, svcObj(NS, `s${i}`, svcIp(i)));
    await api.client.create(R.endpointslices, NS, sliceObj(NS, `s${i}`, Array.from({ length: 10 }, (_, j) => epIp(i, j))));
  }
}

async function buildNode(mode: Programmer, services: number, api: TestApi): Promise<Node> {
  const fx = new ProxyFixture();
  const node: Node = { mode, services, fx, backends: [], clients: { latencySvc: '', latencyPod: '', direct: [], viaSvc: [], outsideDirect: [], outsideVia: [] } };
  try {
    // The underlay gives the node its address (NodePorts); the userspace mode needs the Service CIDR
    // routed locally (as the cluster does) so unproxied ports are refused by the node itself.
    fx.setup({ serviceRoute: mode !== 'userspace', localServiceRoute: mode === 'userspace', underlay: true });
    for (const [i, t] of TARGETS.entries()) {
      const pod = fx.addClient();
      if (pod.ip !== t.podIp) throw new Error(`backend got ${pod.ip}, expected ${t.podIp}`);
      node.backends.push(await NginxBackend.start(pod.ns, POD_PORT, { cpu: i }));
    }
    node.clients.latencySvc = fx.addClient().ns;
    node.clients.latencyPod = fx.addClient().ns;
    for (const _ of TARGETS) {
      node.clients.direct.push(fx.addClient().ns);
      node.clients.viaSvc.push(fx.addClient().ns);
    }
    if (mode !== 'userspace') {
      for (const _ of TARGETS) {
        node.clients.outsideDirect.push(addRoutedOutsideClient(fx));
        node.clients.outsideVia.push(addRoutedOutsideClient(fx));
      }
    }
    // wrk may reuse a local port still in TIME_WAIT (timestamps make that safe), as load generators
    // are set up to. Without it, a client that closes first holds every port it used for 60 s: at
    // ~2k connections/s the 28k ephemeral ports run low within a few rounds and each connect() then
    // searches the port range for ~4 ms, which capped the userspace rows' one-request-per-connection
    // runs at ~200 requests/s (through the userspace relay the client closes first: the relay
    // passes the server's FIN on one event-loop turn after the answer, and wrk closes as soon as the
    // answer is complete). Every throughput client gets it, direct and through the Service alike.
    for (const ns of [...node.clients.direct, ...node.clients.viaSvc, ...node.clients.outsideDirect, ...node.clients.outsideVia]) {
      inNs(ns, ['sysctl', '-qw', 'net.ipv4.tcp_tw_reuse=1']);
    }
    if (mode === 'bare-dnat') {
      // The least NAT each Service type needs: a ClusterIP is DNATed; a NodePort with the Cluster
      // policy is DNATed and masqueraded (so replies come back through this node), as the proxy does.
      const rules = TARGETS.map((t) => `  ip daddr ${t.clusterIP} tcp dport 80 dnat to ${t.podIp}:${POD_PORT}\n`
        + `  ip daddr ${NODE_IP} tcp dport ${t.nodePort} dnat to ${t.podIp}:${POD_PORT}\n`).join('');
      inNs(fx.nodeNs, ['nft', '-f', '-'], `table ip bare-dnat {\n chain prerouting {\n  type nat hook prerouting priority -100;\n${rules} }\n`
        + ` chain postrouting {\n  type nat hook postrouting priority 100;\n  ct original ip daddr ${NODE_IP} masquerade\n }\n}\n`);
      return node;
    }
    const t0 = performance.now();
    node.proxy = await startProxy({ client: api.client, nodeName: 'bench', netns: fx.nodeNs, mode, serviceCIDR: '10.96.0.0/12', podCIDR: '10.244.0.0/16', nodeIPs: [NODE_IP] });
    await new Promise((r) => setTimeout(r, 200));
    const synced = await Promise.race([node.proxy.whenIdle().then(() => true), new Promise<false>((r) => setTimeout(() => r(false), SYNC_BUDGET_MS))]);
    if (!synced) throw new Error(`${mode} proxy did not program ${services} Services within ${SYNC_BUDGET_MS / 1000} s`);
    console.error(`${mode}, ${services} Services: rules programmed in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return node;
  } catch (err) {
    await teardown(node);
    throw err;
  }
}

let outsideLinks = 0;
/**
 * A client outside the node, as a NodePort user is: a namespace with its own veth link to the node
 * namespace (172.31.254.x/30) and a default route through it, so it reaches the node's address and,
 * routed by the node, the Pod IPs (the "direct" of the outside variants). One link per client, so
 * each kind of traffic has its own namespace (see the file comment).
 */
function addRoutedOutsideClient(fx: ProxyFixture): string {
  const k = outsideLinks++;
  const ns = fx.addOutside();
  const base = 4 * k;
  const nodeSide = `172.31.254.${base + 1}`;
  inNs(fx.nodeNs, ['ip', 'link', 'add', `ul${k}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  inNs(fx.nodeNs, ['ip', 'addr', 'add', `${nodeSide}/30`, 'dev', `ul${k}`]);
  inNs(fx.nodeNs, ['ip', 'link', 'set', `ul${k}`, 'up']);
  inNs(ns, ['ip', 'addr', 'add', `172.31.254.${base + 2}/30`, 'dev', 'eth0']);
  inNs(ns, ['ip', 'link', 'set', 'eth0', 'up']);
  inNs(ns, ['ip', 'route', 'add', 'default', 'via', nodeSide]);
  return ns;
}

async function teardown(node: Node): Promise<void> {
  const stopped = node.proxy?.stop({ flush: true }).catch(() => {});
  // A proxy still inside a long sync (iptables at 10k Services: minutes, before this was fixed)
  // would hold up stop(): after 5 s, end the nft / iptables-restore still running in the node
  // namespace (only this bench's commands run there; `ip netns pids` only reads the list).
  let timer: NodeJS.Timeout | undefined;
  const done = await Promise.race([Promise.resolve(stopped).then(() => true), new Promise<false>((r) => { timer = setTimeout(() => r(false), 5000); })]);
  clearTimeout(timer);
  if (!done) {
    try {
      for (const pid of execFileSync('ip', ['netns', 'pids', node.fx.nodeNs], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
        try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
      }
    } catch { /* namespace never made */ }
    await stopped;
  }
  for (const b of node.backends) b.stop();
  node.fx.cleanup();
}

/**
 * What the first packet of a new connection walks through in nftables mode: only the fixed base
 * chains and the shared `<proto>-endpoints-mod-N` chains, whatever the number of Services. Throws
 * if a per-Service chain shows up (that would make the first-packet cost grow with Services).
 */
function nftChains(node: Node): string[] {
  const text = inNs(node.fx.nodeNs, ['nft', '-t', 'list', 'table', 'ip', NFT_TABLE]);
  const chains = [...text.matchAll(/^\s*chain (\S+) \{/gm)].map((m) => m[1]!);
  const perService = chains.filter((c) => /^(service|endpoint)-[A-Z0-9]{8}-/.test(c));
  if (perService.length) throw new Error(`per-Service chains in ${node.fx.nodeNs}: ${perService.slice(0, 3).join(', ')}`);
  return chains;
}

/**
 * Runs a command inside `ns` without blocking the event loop (the proxies keep running, idle).
 * `setpriv --pdeathsig KILL`: a wrk or connect client still running when the bench is killed dies
 * with it instead of sending on from a namespace that is being removed.
 */
function inNsAsync(ns: string, argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ip', ['netns', 'exec', ns, 'setpriv', '--pdeathsig', 'KILL', ...argv], { encoding: 'utf8' }, (err, out) => (err ? reject(err) : resolve(out)));
  });
}

/** One batch of handshakes from `client`. */
async function connects(client: string, ip: string, port: number): Promise<{ us: number[]; errors: string[] }> {
  return JSON.parse(await inNsAsync(client, [process.execPath, CONNECT_CLIENT, ip, String(port), String(CONNECTS), '20'])) as { us: number[]; errors: string[] };
}

/** wrk from `client`, pinned to `cpu` (the CPU of the Pod it loads: see measureThroughput): requests/s and requests made. */
async function wrk(client: string, cpu: number, url: string, closeEach: boolean): Promise<{ rate: number; requests: number }> {
  const out = await inNsAsync(client, ['taskset', '-c', String(cpu), 'wrk', '-t1', '-c16', `-d${WRK_SECONDS}s`, ...(closeEach ? ['-H', 'Connection: close'] : []), url]);
  const errors = /Socket errors: (.*)/.exec(out)?.[1];
  if (errors && /timeout [1-9]/.test(errors)) console.error(`wrk ${url}: socket errors ${errors}`);
  // A 404 or 500 is answered fast too: counted as requests/s it would be a figure of nothing.
  const bad = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1];
  if (bad) throw new Error(`wrk ${url}: ${bad} answers were not 2xx`);
  return { rate: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN), requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN) };
}

/**
 * The userspace mode's relay: the proxy's process in the node namespace running helper.mjs (found
 * among the namespace's processes; only read). Undefined for the other modes.
 */
function relayPid(node: Node): number | undefined {
  if (node.mode !== 'userspace') return undefined;
  for (const pid of execFileSync('ip', ['netns', 'pids', node.fx.nodeNs], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('helper.mjs')) return Number(pid);
    } catch { /* gone */ }
  }
  throw new Error(`no relay process (helper.mjs) in ${node.fx.nodeNs}`);
}

/** CPU time (user + system, µs) a process has used so far, from /proc/<pid>/stat. */
function cpuMicros(pid: number): number {
  const stat = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  if (!stat) throw new Error(`/proc/${pid}/stat: unreadable`);
  return (stat.ticks * 1e6) / clockTicks();
}

/**
 * Before timing: every workload's answer, through the ClusterIP and straight to the Pod, is the
 * expected body, byte for byte (so the welcome-page rows really carry the seeds' page). Returns the
 * answer sizes on the wire (headers + body) per workload, for the log.
 */
function checkAnswers(node: Node): Map<Workload, { header: number; body: number }> {
  const sizes = new Map<Workload, { header: number; body: number }>();
  for (const w of WORKLOADS) {
    for (const [i, t] of TARGETS.entries()) {
      const urls: [string, string][] = [[node.clients.viaSvc[i]!, svcURL(t, 'clusterip', w)], [node.clients.direct[i]!, `http://${t.podIp}:${POD_PORT}${w.path}`]];
      if (node.mode !== 'userspace') {
        urls.push([node.clients.viaSvc[i]!, svcURL(t, 'nodeport', w)], [node.clients.outsideVia[i]!, svcURL(t, 'nodeport-outside', w)],
          [node.clients.outsideDirect[i]!, `http://${t.podIp}:${POD_PORT}${w.path}`]);
      }
      for (const [client, url] of urls) {
        const out = inNs(client, ['curl', '-sS', '--max-time', '5', '-w', '\n%{http_code} %{size_header}', url]);
        const cut = out.lastIndexOf('\n');
        const [code, header] = out.slice(cut + 1).split(' ').map(Number);
        const body = out.slice(0, cut);
        if (code !== 200 || body !== w.body) throw new Error(`${node.mode}: ${url} answered ${code} with ${body.length} bytes, not the ${w.label} (${w.body.length} bytes)`);
        sizes.set(w, { header: header!, body: Buffer.byteLength(body) });
      }
    }
  }
  return sizes;
}

const median = (xs: number[]): number => percentile(xs, 50);

interface LatencyVariant { label: string; node: Node; client: string; ip: string; port: number; p50s: number[]; all: number[]; errors: number }

async function measureLatency(nodes: Node[]): Promise<LatencyVariant[]> {
  const variants: LatencyVariant[] = [];
  const t = TARGETS[0];
  for (const node of nodes.filter((n) => n.mode !== 'bare-dnat')) {
    variants.push({ label: `${node.mode} ${node.services} Services via ClusterIP`, node, client: node.clients.latencySvc, ip: t.clusterIP, port: 80, p50s: [], all: [], errors: 0 });
    // Straight to the Pod IP: the floor, and with many Services what the rules cost traffic that is
    // not Service traffic at all (every new connection passes the proxy's hooks).
    variants.push({ label: `${node.mode} ${node.services} Services direct to Pod IP`, node, client: node.clients.latencyPod, ip: t.podIp, port: POD_PORT, p50s: [], all: [], errors: 0 });
  }
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order each round so no variant always runs first (or right after another).
    for (let k = 0; k < variants.length; k++) {
      const v = variants[(k + round) % variants.length]!;
      const r = await connects(v.client, v.ip, v.port);
      v.errors += r.errors.length;
      v.p50s.push(median(r.us));
      for (const x of r.us) v.all.push(x);
    }
  }
  for (const v of variants) {
    console.error(`${v.label}: p50 per round ${v.p50s.map((x) => x.toFixed(0)).join(' ')} us; p99 ${percentile(v.all, 99).toFixed(0)} us; max ${Math.max(...v.all).toFixed(0)} us; errors ${v.errors}`);
  }
  return variants;
}

/** `relayMicros`: the userspace relay's CPU µs per proxied request, per round (userspace only). */
interface ThroughputVariant { node: Node; workload: Workload; path: Path; direct: number[]; viaSvc: number[]; relayMicros: number[] }

/** The URL of target `t` by `path`. */
function svcURL(t: (typeof TARGETS)[number], path: Path, w: Workload): string {
  return path === 'clusterip' ? `http://${t.clusterIP}:80${w.path}` : `http://${NODE_IP}:${t.nodePort}${w.path}`;
}

/**
 * Each round, per node and workload: wrk straight to one Pod and wrk through the other Pod's
 * ClusterIP, at the same time; the Pods swap roles every round, and the order of the (node,
 * workload) pairs rotates. The figure is the median of the per-round ratios. Pod i and the wrk
 * that loads it share CPU i, so each pair's whole work (client, kernel path in softirq, server)
 * stays on one CPU: the pairs do not take turns on each other's CPU, which made the per-round
 * ratios scatter by ±8% unpinned.
 */
async function measureThroughput(nodes: Node[], closeEach: boolean): Promise<ThroughputVariant[]> {
  // NodePort variants for the kernel modes and the floor (keep-alive only); from outside the node for
  // nftables (the target) and the floor.
  const paths = (n: Node): Path[] => closeEach || n.mode === 'userspace' ? ['clusterip']
    : n.mode === 'iptables' ? ['clusterip', 'nodeport'] : ['clusterip', 'nodeport', 'nodeport-outside'];
  const variants: ThroughputVariant[] = nodes.flatMap((node) => paths(node).flatMap((path) => WORKLOADS.map((workload) => ({ node, workload, path, direct: [], viaSvc: [], relayMicros: [] }))));
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < variants.length; k++) {
      const v = variants[(k + round) % variants.length]!;
      const d = round % 2;
      const s = 1 - d;
      const outside = v.path === 'nodeport-outside';
      const relay = relayPid(v.node);
      const relayBefore = relay === undefined ? 0 : cpuMicros(relay);
      const [direct, viaSvc] = await Promise.all([
        wrk((outside ? v.node.clients.outsideDirect : v.node.clients.direct)[d]!, d, `http://${TARGETS[d]!.podIp}:${POD_PORT}${v.workload.path}`, closeEach),
        wrk((outside ? v.node.clients.outsideVia : v.node.clients.viaSvc)[s]!, s, svcURL(TARGETS[s]!, v.path, v.workload), closeEach),
      ]);
      if (relay !== undefined) v.relayMicros.push((cpuMicros(relay) - relayBefore) / viaSvc.requests);
      v.direct.push(direct.rate);
      v.viaSvc.push(viaSvc.rate);
    }
  }
  for (const v of variants) {
    console.error(`${v.node.mode} ${v.workload.label} ${closeEach ? 'connection per request' : 'keep-alive'}: direct ${v.direct.map(Math.round).join(' ')}; ${v.path} ${v.viaSvc.map(Math.round).join(' ')} req/s${v.relayMicros.length ? `; relay CPU ${v.relayMicros.map((x) => x.toFixed(1)).join(' ')} us/request` : ''}`);
  }
  return variants;
}

const ratioOf = (v: ThroughputVariant): number => median(v.viaSvc.map((s, i) => s / v.direct[i]!));

/**
 * The userspace mode with a CPU for the relay, as on a real node (PR #16344's multi-core nodes):
 * per round and workload, two runs one after the other, not at once — (A) wrk straight to Pod c's
 * IP, wrk and that nginx on CPU c, and (B) wrk through Pod c's ClusterIP, wrk and the same nginx on
 * CPU c and the relay pinned to the other CPU for the run (`taskset -a -p`, every thread of it;
 * its affinity put back after). The paired runs of measureThroughput cannot give the relay a CPU:
 * both CPUs carry a pinned pair there, and the relay shares the Service pair's. Which run comes
 * first alternates every round and c every other round, so both see the same machine as far as
 * the order can make them; the workloads' order rotates too. `relayMicros`: relay CPU per B request.
 */
async function measureOwnCpu(node: Node): Promise<ThroughputVariant[]> {
  const relay = relayPid(node)!;
  const variants: ThroughputVariant[] = WORKLOADS.map((workload) => ({ node, workload, path: 'clusterip', direct: [], viaSvc: [], relayMicros: [] }));
  const busy = new Map<ThroughputVariant, number[]>(variants.map((v) => [v, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const c = round % 2;
    const directFirst = Math.floor(round / 2) % 2 === 0;
    for (let k = 0; k < variants.length; k++) {
      const v = variants[(k + round) % variants.length]!;
      const runDirect = async (): Promise<void> => {
        v.direct.push((await wrk(node.clients.direct[c]!, c, `http://${TARGETS[c]!.podIp}:${POD_PORT}${v.workload.path}`, false)).rate);
      };
      const runViaSvc = async (): Promise<void> => {
        const restore = pinAllThreads(relay, 1 - c);
        try {
          const before = cpuMicros(relay);
          const t0 = performance.now();
          const r = await wrk(node.clients.viaSvc[c]!, c, svcURL(TARGETS[c]!, 'clusterip', v.workload), false);
          const used = cpuMicros(relay) - before;
          v.relayMicros.push(used / r.requests);
          busy.get(v)!.push(used / ((performance.now() - t0) * 1000));
          v.viaSvc.push(r.rate);
        } finally {
          // A relay that died mid-run cannot be restored (nothing is left pinned then); its error
          // must not hide wrk's.
          try { restore(); } catch { /* gone */ }
        }
      };
      for (const run of directFirst ? [runDirect, runViaSvc] : [runViaSvc, runDirect]) await run();
    }
  }
  for (const v of variants) {
    console.error(`userspace ${v.workload.label} keep-alive, relay on a CPU of its own, each run alone: direct ${v.direct.map(Math.round).join(' ')}; clusterip ${v.viaSvc.map(Math.round).join(' ')} req/s; `
      + `relay CPU ${v.relayMicros.map((x) => x.toFixed(1)).join(' ')} us/request, busy ${busy.get(v)!.map((x) => `${Math.round(x * 100)}%`).join(' ')} of its CPU`);
  }
  return variants;
}

/**
 * Pins every thread of `pid` to `cpu` and returns what puts its affinity back (the main thread's
 * mask before, applied to every thread). taskset only sets affinity; the process is the bench's own.
 */
function pinAllThreads(pid: number, cpu: number): () => void {
  const mask = /affinity mask: ([0-9a-f,]+)/.exec(execFileSync('taskset', ['-p', String(pid)], { encoding: 'utf8' }))?.[1];
  if (!mask) throw new Error(`cannot read the CPU affinity of ${pid}`);
  execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
  return () => { execFileSync('taskset', ['-a', '-p', mask, String(pid)], { stdio: 'ignore' }); };
}

// Every fixture and nginx backend removes itself on exit: more listeners than Node's default 10.
process.setMaxListeners(64);
const apiFew = await makeTestApi();
const apiMany = await makeTestApi();
const nodes: Node[] = [];
try {
  await fillApi(apiFew, FEW);
  if (PARTS.has('latency')) await fillApi(apiMany, MANY);
  for (const mode of (['nftables', 'iptables'] as const).filter((m) => NODES.has(m) && (PARTS.has('latency') || PARTS.has('throughput')))) {
    for (const services of PARTS.has('latency') ? [FEW, MANY] : [FEW]) {
      try {
        nodes.push(await buildNode(mode, services, services === FEW ? apiFew : apiMany));
      } catch (err) {
        // The other variants still run; the missing one is reported, not silently dropped.
        console.error(String(err));
        report({ figure: `${mode}: NOT MEASURED with ${services} Services`, value: NaN, unit: '', target: String(err) });
      }
    }
  }
  if (PARTS.has('throughput') && NODES.has('bare-dnat')) nodes.push(await buildNode('bare-dnat', FEW, apiFew));
  // kube-proxy's historical mode, for the comparison seed 001 asks for (throughput only).
  if (OWN_CPU && process.env.BENCH_USERSPACE !== '0' && NODES.has('userspace')) nodes.push(await buildNode('userspace', FEW, apiFew));
  const nft = nodes.filter((n) => n.mode === 'nftables').map((n) => ({ services: n.services, chains: nftChains(n) }));
  if (nft.length) console.error(`nftables chains: ${nft.map((x) => `${x.chains.length} with ${x.services} Services`).join(', ')}: ${nft[0]!.chains.join(' ')}`);
  if (new Set(nft.map((x) => x.chains.length)).size > 1) throw new Error('the number of nftables chains grows with the number of Services');
  // Let the start-up work (informers, GC after the full syncs) finish before timing anything.
  await new Promise((r) => setTimeout(r, 2000));

  const lat = PARTS.has('latency') ? await measureLatency(nodes) : [];
  const find = (mode: ProxyMode, label: string): LatencyVariant | undefined => lat.find((v) => v.label === `${mode} ${label}`);
  for (const mode of ['nftables', 'iptables'] as const) {
    const few = find(mode, `${FEW} Services via ClusterIP`);
    const many = find(mode, `${MANY} Services via ClusterIP`);
    const direct = find(mode, `${FEW} Services direct to Pod IP`);
    const directMany = find(mode, `${MANY} Services direct to Pod IP`);
    if (many && few) {
      report({ figure: `${mode}: new-connection latency p50 with ${MANY / 1000}k Services (median of ${ROUNDS} rounds)`, value: median(many.p50s), unit: 'us', baseline: { name: `p50 with ${FEW} Services (us)`, value: Number(median(few.p50s).toFixed(1)) },
        anchor: 'k8s blog 2025-02-28: iptables p50 47us@5k, 59us@10k, 271us@30k svc; nftables flat ~12us',
        target: mode === 'nftables' ? 'within 10% of the 10-Service figure' : 'report only' });
      report({ figure: `${mode}: new-connection latency p50, ${MANY / 1000}k Services / ${FEW} Services`, value: median(many.p50s) / median(few.p50s), unit: 'ratio', target: mode === 'nftables' ? '<= 1.10' : 'report only' });
      report({ figure: `${mode}: new-connection latency p99 with ${MANY / 1000}k Services`, value: percentile(many.all, 99), unit: 'us', baseline: { name: `p99 with ${FEW} Services (us)`, value: Number(percentile(few.all, 99).toFixed(1)) } });
    }
    if (few && direct) {
      report({ figure: `${mode}: new-connection latency p50 with ${FEW} Services over direct to Pod IP`, value: median(few.p50s) - median(direct.p50s), unit: 'us', baseline: { name: 'p50 direct to Pod IP (us)', value: Number(median(direct.p50s).toFixed(1)) } });
    }
    if (directMany && direct) {
      report({ figure: `${mode}: new-connection latency p50 straight to a Pod IP (no Service) with ${MANY / 1000}k Services`, value: median(directMany.p50s), unit: 'us', baseline: { name: `with ${FEW} Services (us)`, value: Number(median(direct.p50s).toFixed(1)) } });
    }
    const errors = [few, many, direct, directMany].reduce((n, v) => n + (v?.errors ?? 0), 0);
    if (errors) report({ figure: `${mode}: failed or > 3 s handshakes`, value: errors, unit: 'count' });
  }

  const few = nodes.filter((n) => n.services === FEW);
  const who = (v: ThroughputVariant): string => (v.node.mode === 'bare-dnat' ? 'floor: bare nft dnat rule, no proxy' : v.node.mode);
  if (OWN_CPU) {
    for (const node of few) {
      const sizes = checkAnswers(node);
      if (node === few[0]) console.error(`answers (headers + body, bytes): ${WORKLOADS.map((w) => `${w.label} ${sizes.get(w)!.header} + ${sizes.get(w)!.body}`).join(', ')}`);
    }
  }
  const what = (v: ThroughputVariant): string => `${v.workload.label}, ${v.workload.key === 'welcome' ? `${Buffer.byteLength(v.workload.body)} B, the seeds' workload` : 'worst case for the NAT share'}`;
  const keepAlive = PARTS.has('throughput') ? await measureThroughput(few, false) : [];
  for (const v of keepAlive) {
    const via = v.path === 'nodeport' ? 'a NodePort (node address, externalTrafficPolicy Cluster) from a Pod'
      : v.path === 'nodeport-outside' ? 'a NodePort (externalTrafficPolicy Cluster) from outside the node'
        : v.node.mode === 'userspace' ? 'ClusterIP (userspace proxy)' : 'ClusterIP';
    const directFrom = v.path === 'nodeport-outside' ? 'direct to Pod IP from the same outside clients (routed by the node)' : 'direct to Pod IP';
    const target = v.node.mode === 'bare-dnat' ? undefined : v.node.mode === 'userspace' ? '>= 0.6' : v.node.mode === 'nftables' || v.path === 'clusterip' ? '>= 0.95' : undefined;
    report({ figure: `${who(v)}: requests/s through ${via} / ${directFrom}, ${what(v)} (keep-alive, median of ${ROUNDS} rounds)`, value: ratioOf(v), unit: 'ratio', baseline: { name: `${directFrom}, req/s (sharing the CPUs with the Service run)`, value: Math.round(median(v.direct)) },
      anchor: 'PR #16344: iptables 96% of pod-to-pod throughput, userspace proxy 36%', target });
    if (v.relayMicros.length) {
      // Beside it, what a direct request costs its pinned CPU (wrk + kernel + nginx; that CPU is busy
      // throughout): the relay's cost per request next to it bounds the ratio when the relay shares the
      // Service pair's CPU (see README.md).
      report({ figure: `userspace: relay process CPU per proxied request, ${v.workload.label} (keep-alive, median of ${ROUNDS} rounds)`, value: median(v.relayMicros), unit: 'us',
        baseline: { name: 'direct: one CPU-second / direct requests (us per request, wrk + kernel + nginx)', value: Number((1e6 / median(v.direct)).toFixed(1)) } });
    }
  }
  // The userspace relay with a CPU of its own, each path alone on the machine (measureOwnCpu).
  const userspace = few.find((n) => n.mode === 'userspace');
  for (const v of OWN_CPU && userspace ? await measureOwnCpu(userspace) : []) {
    report({ figure: `userspace: requests/s through ClusterIP (userspace proxy, the relay on a CPU of its own) / direct to Pod IP, each alone on the machine, ${what(v)} (keep-alive, median of ${ROUNDS} alternated rounds)`, value: ratioOf(v), unit: 'ratio',
      baseline: { name: 'direct to Pod IP, req/s (wrk and nginx on one CPU, the other idle)', value: Math.round(median(v.direct)) },
      anchor: 'PR #16344: iptables 96% of pod-to-pod throughput, userspace proxy 36% (multi-core nodes)', target: '>= 0.6' });
    report({ figure: `userspace: relay process CPU per proxied request, ${v.workload.label}, the relay on a CPU of its own (keep-alive, median of ${ROUNDS} alternated rounds)`, value: median(v.relayMicros), unit: 'us',
      baseline: { name: 'direct: one CPU-second / direct requests (us per request, wrk + kernel + nginx)', value: Number((1e6 / median(v.direct)).toFixed(1)) } });
  }
  // Each path against the least a kernel NAT can do for it, in the same run: a mode's ratio over the
  // bare floor's ratio for the same path and answer (ClusterIP: one dnat rule; NodePort: dnat and
  // masquerade, which the Cluster policy needs).
  for (const w of WORKLOADS) {
    for (const path of ['clusterip', 'nodeport', 'nodeport-outside'] as const) {
      const floor = keepAlive.find((v) => v.node.mode === 'bare-dnat' && v.workload === w && v.path === path);
      for (const mode of ['nftables', 'iptables'] as const) {
        const v = keepAlive.find((x) => x.node.mode === mode && x.path === path && x.workload === w);
        if (!floor || !v) continue;
        const name = path === 'clusterip' ? 'ClusterIP' : path === 'nodeport' ? 'NodePort from a Pod' : 'NodePort from outside';
        report({ figure: `${mode}: ${name} requests/s ratio over the bare floor's (${path === 'clusterip' ? 'dnat' : 'dnat + masquerade'}), ${w.label} (keep-alive, same run)`, value: ratioOf(v) / ratioOf(floor), unit: 'ratio',
          baseline: { name: 'bare floor ratio to direct', value: Number(ratioOf(floor).toFixed(3)) }, target: mode === 'nftables' ? '>= 0.98' : undefined });
      }
    }
  }
  for (const v of PARTS.has('throughput') && process.env.BENCH_CLOSE !== '0' ? await measureThroughput(few, true) : []) {
    report({ figure: `${who(v)}: requests/s through ClusterIP / direct, ${what(v)}, one request per connection (median of ${ROUNDS} rounds)`, value: ratioOf(v), unit: 'ratio', baseline: { name: 'direct to Pod IP, connections/s (sharing the CPUs with the ClusterIP run)', value: Math.round(median(v.direct)) } });
    if (v.relayMicros.length) {
      report({ figure: `userspace: relay process CPU per proxied request, ${v.workload.label} (one request per connection, median of ${ROUNDS} rounds)`, value: median(v.relayMicros), unit: 'us',
        baseline: { name: 'direct: one CPU-second / direct requests (us per request, wrk + kernel + nginx)', value: Number((1e6 / median(v.direct)).toFixed(1)) } });
    }
  }
} finally {
  for (const node of nodes) await teardown(node);
  await apiFew.close();
  await apiMany.close();
}

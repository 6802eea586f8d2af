/**
 * What flows cost and how fast they are (issue 17), on a real node namespace (root): the
 * nftables proxy, two nginx Pods behind two ClusterIP Services (the seeds' welcome page), client
 * namespaces, and the daemon's flow path — a FlowHub with the node's collector (conntrack events,
 * nft trace), the API server's flows endpoint on a unix socket, and a reader process doing what
 * `clusterip flows -f` does (flows-reader.ts: NDJSON stream → rendered lines).
 *
 * - requests/s through the ClusterIPs, one request per connection (the worst case for conntrack
 *   events: two per request), with flows -f running against without (collector stopped, its table
 *   removed): rounds alternate the order, the figure is the median of the per-round ratios. The
 *   load starts once flows -f has settled (its reader process and this one quiet again): in use,
 *   the daemon's collector runs from `up` and `flows -f` starts once, long before the traffic, so
 *   their start-up is not a cost of the traffic (measured: starting the load right after the
 *   reader's first line cut req/s by another 3-5 %, from the reader's tsx start-up). Next to it,
 *   the CPU each request costs (wrk + nginx + every flow process + this process, children reaped
 *   during the load included), which moves much less than req/s with the other load on the machine;
 * - NEW event → line: connections made at a steady rate (connect-stamp.mjs, time taken just
 *   before connect()) matched by client port to the time the reader got their line; idle, and
 *   while the request load runs;
 * - a burst of new connections as fast as the machine makes them: the kernel's count (the
 *   collector's nft counter) against the flows shown and the losses counted, and what the reader
 *   got against what it was sent plus what was counted as dropped for it. Nothing may be
 *   unaccounted for.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { R } from '../../src/api/resources.js';
import { startApiServer } from '../../src/apiserver/http/server.js';
import { ensurePki } from '../../src/apiserver/pki/pki.js';
import { startProxy } from '../../src/proxy/proxy.js';
import { FlowHub } from '../../src/inspect/flowshub.js';
import { flowsHandlers } from '../../src/inspect/flowshttp.js';
import { ProxyFixture } from '../../test/e2e/proxy-fixture.js';
import { NginxBackend, TINY_ANSWER_PATH, WELCOME_PAGE_PATH } from '../proxy/nginx-backend.js';
import { makeTestApi, percentile, sliceObj, svcObj } from '../proxy/common.js';
import { report } from '../report.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const WRK_SECONDS = 3;
const TARGETS = [
  { name: 'flow-a', clusterIP: '10.111.1.10', podIp: '10.244.0.2' },
  { name: 'flow-b', clusterIP: '10.111.1.11', podIp: '10.244.0.3' },
] as const;

const tmp = mkdtempSync(join(tmpdir(), 'cip-flowsbench-'));
const children = new Set<ChildProcess>();
process.once('exit', () => { for (const c of children) c.kill('SIGKILL'); rmSync(tmp, { recursive: true, force: true }); });
process.setMaxListeners(64);

function inNsAsync(ns: string, argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ip', ['netns', 'exec', ns, 'setpriv', '--pdeathsig', 'KILL', ...argv], { encoding: 'utf8', maxBuffer: 64 << 20 }, (err, out) => (err ? reject(err) : resolve(out)));
  });
}

async function wrk(client: string, cpu: number, url: string): Promise<number> {
  const out = await inNsAsync(client, ['taskset', '-c', String(cpu), 'wrk', '-t1', '-c16', `-d${WRK_SECONDS}s`, '-H', 'Connection: close', url]);
  const bad = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1];
  if (bad) throw new Error(`wrk ${url}: ${bad} answers were not 2xx`);
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
}

const api = await makeTestApi();
const fx = new ProxyFixture();
const backends: NginxBackend[] = [];
let hub: FlowHub | undefined;
let reader: ChildProcess | undefined;
const stampFile = join(tmp, 'stamps.txt');
const pki = await ensurePki(join(tmp, 'pki'));
const socket = join(tmp, 'api.sock');
const server = await startApiServer({ client: api.client, pki, listen: null, unixSocket: socket, log: () => {}, handlers: flowsHandlers(() => hub) });

async function flowsOn(): Promise<void> {
  hub = new FlowHub({ client: api.client, nodes: [{ name: 'bench', netns: fx.nodeNs }], serviceCIDR: '10.96.0.0/12' });
  await hub.start();
  if (!hub.anyOk) throw new Error(`flows unavailable: ${JSON.stringify(hub.stats())}`);
  const devnull = openSync('/dev/null', 'w');
  reader = spawn(process.execPath, ['--import', 'tsx', join(HERE, 'flows-reader.ts'), socket, stampFile], { stdio: ['ignore', devnull, 'inherit', 'ipc'] });
  children.add(reader);
  await new Promise<void>((resolve, reject) => {
    reader!.once('message', () => resolve());
    reader!.once('exit', (c) => reject(new Error(`reader exited ${c}`)));
  });
}

async function flowsOff(): Promise<void> {
  reader?.kill('SIGKILL');
  if (reader) children.delete(reader);
  reader = undefined;
  await hub?.stop();
  hub = undefined;
}

/** Waits until flows -f is in its steady state: the reader and this process used < 20 ms CPU in 500 ms (at most 6 s). */
async function settle(): Promise<void> {
  const deadline = performance.now() + 6000;
  for (;;) {
    const r0 = cpuOf(reader!.pid!); const s0 = process.cpuUsage();
    await new Promise((r) => setTimeout(r, 500));
    const s = process.cpuUsage(s0);
    if (cpuOf(reader!.pid!) - r0 + (s.user + s.system) / 1e6 < 0.02 || performance.now() > deadline) return;
  }
}

/** CPU seconds (user + system) of `pid` so far. */
function cpuOf(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch { return 0; }
}

/** The processes the flows path runs (for the CPU split in the log): the event tools in the node namespace and the reader. */
function flowPids(): { name: string; pid: number }[] {
  const out: { name: string; pid: number }[] = [];
  for (const pid of readFileSync('/proc/self/task/' + process.pid + '/children', 'utf8').split(' ').filter(Boolean).map(Number)) {
    try { out.push({ name: readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), pid }); } catch { /* gone */ }
  }
  return out;
}

/**
 * CPU seconds used so far by everything the load and the flows path run: this process and its
 * children it already reaped (wrk, killed or exited tools: cutime/cstime), and the live children
 * with their own children (nginx master and worker, the reader, the event tools). Clock ticks.
 */
function totalCpu(): number {
  const f = readFileSync('/proc/self/stat', 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  let sum = (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / 100;
  const walk = (pid: number): void => {
    sum += cpuOf(pid);
    try { for (const c of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean)) walk(Number(c)); } catch { /* gone */ }
  };
  for (const p of flowPids()) walk(p.pid);
  return sum;
}

async function readerCount(): Promise<{ flows: number; dropped: number }> {
  return new Promise((resolve) => { reader!.once('message', (m) => resolve(m as { flows: number; dropped: number })); reader!.send('count'); });
}

/** NEW → line latency of `count` connections at `rate`/s from `client` to a ClusterIP (flows on). */
async function lineLatency(client: string, count: number, rate: number): Promise<number[]> {
  const made = JSON.parse(await inNsAsync(client, [process.execPath, join(HERE, 'connect-stamp.mjs'), TARGETS[0].clusterIP, '80', String(count), String(rate)])) as [number, number][];
  await new Promise((r) => setTimeout(r, 500));
  const got = new Map<number, number[]>();
  for (const l of readFileSync(stampFile, 'utf8').split('\n')) {
    const [port, at] = l.split(' ').map(Number);
    if (port) (got.get(port!) ?? got.set(port!, []).get(port!)!).push(at!);
  }
  const lat: number[] = [];
  let missing = 0;
  for (const [port, at] of made) {
    const rec = got.get(port)?.find((x) => x >= at - 1);
    if (rec === undefined) missing++; else lat.push(rec - at);
  }
  if (missing) console.error(`${missing} of ${made.length} stamped connections had no line`);
  return lat;
}

try {
  for (const t of TARGETS) {
    const s = svcObj('default', t.name, t.clusterIP);
    s.spec!.ports = [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }];
    await api.client.create(R.services, 'default', s);
    await api.client.create(R.endpointslices, 'default', sliceObj('default', t.name, [t.podIp]));
  }
  fx.setup();
  for (const [i, t] of TARGETS.entries()) {
    const pod = fx.addClient();
    if (pod.ip !== t.podIp) throw new Error(`backend got ${pod.ip}, expected ${t.podIp}`);
    backends.push(await NginxBackend.start(pod.ns, 8080, { cpu: i }));
  }
  const clients = TARGETS.map(() => fx.addClient().ns);
  const stamper = fx.addClient().ns;
  const proxy = await startProxy({ client: api.client, nodeName: 'bench', netns: fx.nodeNs, mode: 'nftables', serviceCIDR: '10.96.0.0/12', podCIDR: '10.244.0.0/16' });
  await new Promise((r) => setTimeout(r, 200));
  await proxy.whenIdle();
  const load = (path: string) => Promise.all(TARGETS.map((t, i) => wrk(clients[i]!, i, `http://${t.clusterIP}:80${path}`))).then((r) => r[0]! + r[1]!);
  await load(WELCOME_PAGE_PATH); // warm-up

  // 1. Requests/s with flows -f running against without.
  const off: number[] = []; const on: number[] = [];
  const cpuOff: number[] = []; const cpuOn: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const withFlows of round % 2 ? [true, false] : [false, true]) {
      if (withFlows) { await flowsOn(); await settle(); }
      const cpu0 = totalCpu();
      const rate = await load(WELCOME_PAGE_PATH);
      (withFlows ? on : off).push(rate);
      (withFlows ? cpuOn : cpuOff).push((totalCpu() - cpu0) / (rate * WRK_SECONDS));
      if (withFlows) await flowsOff();
    }
  }
  // Where the CPU goes with flows on: each flow process and this process (collector, hub, stream).
  await flowsOn();
  await settle();
  const pids = flowPids();
  const before = pids.map((p) => cpuOf(p.pid));
  const self0 = process.cpuUsage();
  const rate = await load(WELCOME_PAGE_PATH);
  const self = process.cpuUsage(self0);
  console.error(`CPU during one ${WRK_SECONDS} s load with flows on (${Math.round(rate)} req/s): ` + pids.map((p, i) => `${p.name} ${(cpuOf(p.pid) - before[i]!).toFixed(2)} s`).join(', ')
    + `, bench process (collector, hub, API stream) ${((self.user + self.system) / 1e6).toFixed(2)} s`);
  await flowsOff();
  const ratios = on.map((x, i) => x / off[i]!);
  console.error(`req/s without flows ${off.map(Math.round).join(' ')}; with flows -f ${on.map(Math.round).join(' ')}; ratios ${ratios.map((r) => r.toFixed(3)).join(' ')}`);
  const cpuRatios = cpuOn.map((x, i) => x / cpuOff[i]!);
  console.error(`CPU per request (wrk + nginx + flow processes + bench process) without flows ${cpuOff.map((x) => (x * 1e6).toFixed(1)).join(' ')} us; with ${cpuOn.map((x) => (x * 1e6).toFixed(1)).join(' ')} us; ratios ${cpuRatios.map((r) => r.toFixed(3)).join(' ')}; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  report({ figure: `requests/s through ClusterIP with flows -f running / without, nginx welcome page, one request per connection (median of ${ROUNDS} rounds)`, value: percentile(ratios, 50), unit: 'ratio', baseline: { name: 'without flows, req/s (two wrk, both ClusterIPs)', value: Math.round(percentile(off, 50)) }, target: '>= 0.95' });
  report({ figure: `CPU per request (wrk + nginx + flow processes + bench process) with flows -f running / without (median of ${ROUNDS} rounds)`, value: percentile(cpuRatios, 50), unit: 'ratio', baseline: { name: 'without flows, CPU us per request', value: Number((percentile(cpuOff, 50) * 1e6).toFixed(1)) } });

  // 2. NEW event → line, idle and with 1500 other new connections a second (below the rate limit,
  // so every one is shown), and what showing them costs in CPU.
  await flowsOn();
  const idle = await lineLatency(stamper, 300, 100);
  const pids2 = flowPids();
  const cpu0 = pids2.map((p) => cpuOf(p.pid));
  const self1 = process.cpuUsage();
  const [busy] = await Promise.all([lineLatency(stamper, 300, 100),
    inNsAsync(clients[1]!, [process.execPath, join(HERE, 'connect-stamp.mjs'), TARGETS[1].clusterIP, '80', '4500', '1500'])]);
  const selfCpu = process.cpuUsage(self1);
  const flowCpu = pids2.reduce((a, p, i) => a + (p.name === 'nginx' ? 0 : cpuOf(p.pid) - cpu0[i]!), 0) + (selfCpu.user + selfCpu.system) / 1e6;
  report({ figure: 'flows -f: NEW event → line p99, 100 new connections/s, otherwise idle', value: percentile(idle, 99), unit: 'ms', baseline: { name: 'p50 ms', value: Number(percentile(idle, 50).toFixed(2)) }, target: '< 100 ms' });
  report({ figure: 'flows -f: NEW event → line p99 with 1600 new connections/s, all shown', value: percentile(busy, 99), unit: 'ms', baseline: { name: 'p50 ms', value: Number(percentile(busy, 50).toFixed(2)) }, target: '< 100 ms' });
  report({ figure: 'flows -f: CPU per shown connection (conntrack tool + collector and stream + reader process)', value: (flowCpu / 4800) * 1e6, unit: 'us', baseline: { name: 'CPU cores used at 1600 connections/s', value: Number((flowCpu / 3).toFixed(3)) } });
  console.error(`NEW → line idle p50 ${percentile(idle, 50).toFixed(2)} p99 ${percentile(idle, 99).toFixed(2)} max ${Math.max(...idle).toFixed(2)} ms (${idle.length}); at 1600/s p50 ${percentile(busy, 50).toFixed(2)} p99 ${percentile(busy, 99).toFixed(2)} max ${Math.max(...busy).toFixed(2)} ms (${busy.length}); flows CPU ${flowCpu.toFixed(2)} s for ~4800 connections`);

  // 3. A burst: every connection the kernel counted is shown or counted as lost.
  await hub!.reconcile();
  const s0 = hub!.stats().nodes[0]!;
  const r0 = await readerCount();
  const t0 = performance.now();
  await load(TINY_ANSWER_PATH);
  const secs = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 2500));
  await hub!.reconcile();
  await new Promise((r) => setTimeout(r, 1200));
  await hub!.reconcile();
  const s1 = hub!.stats().nodes[0]!;
  const r1 = await readerCount();
  const kernel = s1.kernelNew - s0.kernelNew; const seen = s1.seenNew - s0.seenNew; const lost = s1.lost - s0.lost;
  const lines = r1.flows - r0.flows; const slow = r1.dropped - r0.dropped;
  console.error(`burst: ${kernel} connections in ${secs.toFixed(1)} s (${Math.round(kernel / secs)}/s): shown ${seen}, counted as not shown ${lost} (${s1.sheds - s0.sheds} sheds, ${s1.overruns ?? 0} overruns); reader got ${lines} lines, ${slow} counted as dropped for it`);
  report({ figure: 'flows: new connections/s in the burst (one request per connection, 2-byte answer)', value: kernel / secs, unit: 'conn/s', target: '10k/s shown or counted' });
  report({ figure: 'flows: connections in the burst shown', value: seen, unit: 'count', baseline: { name: 'counted by the kernel', value: kernel } });
  report({ figure: 'flows: connections the kernel counted in the burst that were neither shown nor counted as not shown', value: kernel - seen - lost, unit: 'count', baseline: { name: 'counted as not shown (rate limit / overrun)', value: lost }, target: '0' });
  report({ figure: 'flows -f: lines the reader missed that were not counted as dropped for it', value: seen - lines - slow, unit: 'count', baseline: { name: 'lines received', value: lines }, target: '0' });
  await flowsOff();
  await proxy.stop({ flush: true });
} finally {
  await flowsOff().catch(() => {});
  for (const b of backends) b.stop();
  fx.cleanup();
  await server.close();
  await api.close();
}

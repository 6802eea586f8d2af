/**
 * Crash recovery and idle memory of a whole cluster (issue 13), with the real `clusterip` CLI (as
 * shipped: built by scripts/build.mjs into this bench's temp dir, as bench/cluster does; CIP_BENCH_CLI=tsx runs
 * `node --import tsx src/cli/main.ts`), the real kubectl and kernel (root):
 *
 * 1. Idle RSS of a fresh cluster, 10 s after `up --detach` returned, summed over every process of
 *    the cluster (the daemon, its descendants, every process in a `cip-<id>-*` namespace) and broken
 *    down by role (daemon, DNS server, proxy session, Pod holders, other); PSS beside it.
 *    Baseline: a bare idle `node` process.
 * 2. Crash recovery with 50 Pods: 10 Deployments × 5 nginx replicas, each exposed as a Service.
 *    `kill -9` of the daemon, then `clusterip up --detach`; the clock runs from the kill until every
 *    Service answers through its ClusterIP (curl from inside the node namespace) and the API shows
 *    all 50 Pods Running and Ready again. Three rounds, p50 and max. Meanwhile a loop requests the
 *    Services round robin from inside the node namespace and counts failures (downtime).
 *    Baseline (same run): the same recovery by `clusterip down` + `up` (Pods recreated), once.
 *
 * Traffic is only sent from inside the cluster's node namespace. Everything is removed at the end
 * (`down --purge`), also on failure or after the 170 s watchdog.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import { runOk } from '../../src/sys/command.js';
import { inNetns, listNetns } from '../../src/sys/netns.js';
import { report } from '../report.js';
import { clusterId, readRecord } from '../../src/cluster/state.js';
import { topologyNames } from '../../src/cluster/topology.js';
import { kubectlRunner } from '../../test/harness/kubectl.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), `cipbr-${randomBytes(2).toString('hex')}-`));
const DEPLOYMENTS = 10;
const REPLICAS = 5;
const ROUNDS = 3;
const form: 'dist' | 'tsx' = process.env.CIP_BENCH_CLI === 'tsx' ? 'tsx' : 'dist';
let cliArgv = ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts')];
let pkgRoot: string | undefined;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const r1 = (v: number): number => Math.round(v * 10) / 10;
function out(figure: string, value: number, unit: string, extra: { baseline?: { name: string; value: number; unit?: string }; target?: string; anchor?: string; [k: string]: unknown } = {}): void {
  report({ figure, value, unit, cli: form === 'dist' ? 'node dist/cli/main.js (built by the bench)' : 'node --import tsx src/cli/main.ts', ...extra });
}
function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** Builds the package into `<work>/pkg/dist` with scripts/build.mjs (never the shared dist/), laid out as installed. */
async function buildPackage(): Promise<string> {
  pkgRoot = join(work, 'pkg');
  mkdirSync(pkgRoot);
  symlinkSync(join(ROOT, 'node_modules'), join(pkgRoot, 'node_modules'));
  symlinkSync(join(ROOT, 'src'), join(pkgRoot, 'src'));
  copyFileSync(join(ROOT, 'package.json'), join(pkgRoot, 'package.json'));
  await runOk([process.execPath, join(ROOT, 'scripts', 'build.mjs'), '--outdir', join(pkgRoot, 'dist')], { timeoutMs: 120_000 });
  const main = join(pkgRoot, 'dist', 'cli', 'main.js');
  if (!existsSync(main)) throw new Error(`the build did not produce ${main}`);
  return main;
}

function cli(args: string[], timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  return new Promise((res) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [...cliArgv, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = ''; let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    child.on('close', (code) => { clearTimeout(timer); res({ code: code ?? -1, stdout, stderr, ms: performance.now() - t0 }); });
  });
}

// ---------- processes and memory ----------

function status(pid: number, field: string): number {
  try { return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0); } catch { return 0; }
}
function pss(pid: number): number {
  try { return Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0); } catch { return 0; }
}
function cmdline(pid: number): string {
  try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim(); } catch { return ''; }
}
function alive(pid: number): boolean {
  try { const s = readFileSync(`/proc/${pid}/stat`, 'utf8'); return s.slice(s.lastIndexOf(')') + 2)[0] !== 'Z'; } catch { return false; }
}
/** The daemon, its descendants, and every process in the cluster's namespaces. */
async function clusterPids(id: string, daemon: number | undefined): Promise<Set<number>> {
  const pids = new Set<number>();
  if (daemon && alive(daemon)) {
    pids.add(daemon);
    const parent = new Map<number, number>();
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try { const s = readFileSync(`/proc/${d}/stat`, 'utf8'); parent.set(Number(d), Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1])); } catch { /* gone */ }
    }
    for (let grew = true; grew;) {
      grew = false;
      for (const [p, pp] of parent) if (pids.has(pp) && !pids.has(p)) { pids.add(p); grew = true; }
    }
  }
  for (const ns of (await listNetns()).filter((n) => n.startsWith(`cip-${id}-`))) {
    for (const p of (await runOk(['ip', 'netns', 'pids', ns]).catch(() => '')).split('\n').map(Number)) if (p > 1) pids.add(p);
  }
  return pids;
}
function role(pid: number, daemon: number): string {
  const c = cmdline(pid);
  if (pid === daemon) return 'daemon';
  if (/dns\/main\.(js|ts)/.test(c)) return 'DNS server (kube-dns Pod)';
  if (/^nft -i|iptables-restore/.test(c)) return 'proxy session (nft -i)';
  if (/^sleep infinity/.test(c)) return 'Pod sandbox holders';
  return `other: ${c.slice(0, 40)}`;
}

// ---------- cluster lifecycle ----------

interface Cluster { name: string; id: string; stateDir: string; kubeconfig: string; home: string; downed: boolean }
const clusters: Cluster[] = [];

async function up(c: Cluster): Promise<{ ms: number; readyMs?: number; steps: Map<string, number> }> {
  const r = await cli(['up', '--name', c.name, '--state-dir', c.stateDir, '--api-port', '0', '--kubeconfig', c.kubeconfig, '--detach'], 60_000);
  if (r.code !== 0) throw new Error(`clusterip up failed (${r.code}): ${r.stdout}\n${r.stderr}`);
  const ready = /is ready in (\d+) ms/.exec(r.stdout);
  const steps = new Map<string, number>();
  for (const line of r.stdout.split('\n')) {
    const m = /^\s*✓ (.*?) \((\d+) ms[,)]/.exec(line);
    if (m) steps.set(m[1]!.replaceAll(`${c.name}-node`, '<node>'), Number(m[2]));
  }
  return { ms: r.ms, readyMs: ready ? Number(ready[1]) : undefined, steps };
}
async function down(c: Cluster, purge: boolean): Promise<void> {
  const r = await cli(['down', '--name', c.name, '--state-dir', c.stateDir, ...(purge ? ['--purge'] : [])], 30_000);
  if (purge) c.downed = true;
  if (r.code !== 0) throw new Error(`clusterip down failed: ${r.stdout}${r.stderr}`);
}
let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const c of clusters) if (!c.downed) await down(c, true).catch((e: Error) => console.error(e.message));
    if (pkgRoot) for (const l of ['node_modules', 'src']) { try { unlinkSync(join(pkgRoot, l)); } catch { /* not made */ } }
    rmSync(work, { recursive: true, force: true });
  })();
  return cleaning;
}
const watchdog = setTimeout(() => { console.error('recovery.bench: over 170 s, cleaning up'); void cleanup().finally(() => process.exit(3)); }, 170_000);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => { void cleanup().finally(() => process.exit(130)); });

async function newCluster(tag: string): Promise<Cluster> {
  const existing = await listNetns();
  let name: string;
  do name = `br-${randomBytes(3).toString('hex')}-${tag}`; while (existing.some((n) => n.startsWith(`cip-${clusterId(name)}-`)));
  const dir = mkdtempSync(join(work, `${name}-`));
  mkdirSync(join(dir, 'home'));
  const c: Cluster = { name, id: clusterId(name), stateDir: join(dir, 'state'), kubeconfig: join(dir, 'kubeconfig'), home: join(dir, 'home'), downed: false };
  clusters.push(c);
  return c;
}

/** The nginx page through `ip` from inside node 0's namespace (curl, 1 s limit). */
async function serves(c: Cluster, ip: string): Promise<boolean> {
  const body = await inNetns(topologyNames(c.id).node(0), 'curl', ['-s', '--max-time', '1', `http://${ip}/`], { timeoutMs: 3000 }).catch(() => '');
  return body.includes('Welcome to nginx!');
}

/** Polls until every Service serves and the API shows every Pod Running and Ready; returns when (performance.now()). */
async function untilServing(c: Cluster, ips: string[], pods: number, deadlineMs: number): Promise<number> {
  const k = kubectlRunner(c.home, c.kubeconfig);
  const pending = new Set(ips);
  let podsOk = false;
  const podsReady = async (): Promise<boolean> => {
    const r = await k(['get', 'pods', '-A', '-o', 'json'], { timeoutMs: 5000 });
    if (r.code !== 0) return false;
    const items = (JSON.parse(r.stdout) as { items: Pod[] }).items;
    return items.length >= pods && items.every((p) => p.status?.phase === 'Running' && p.status.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'));
  };
  for (;;) {
    // Every check of a round at once, so the measurement adds one round's latency, not a sum.
    const [ok] = await Promise.all([
      podsOk ? Promise.resolve(true) : podsReady(),
      ...[...pending].map(async (ip) => { if (await serves(c, ip)) pending.delete(ip); }),
    ]);
    podsOk = ok as boolean;
    if (pending.size === 0 && podsOk) return performance.now();
    if (performance.now() > deadlineMs) throw new Error(`not serving after the deadline: ${pending.size} Services, Pods ready: ${podsOk}`);
    await sleep(20);
  }
}

/** Requests the Services round robin from the node namespace until stopped; counts failures. */
function trafficLoop(c: Cluster, ips: string[]): { stop(): Promise<{ sent: number; failed: number; failedAt: number[] }> } {
  let stopped = false;
  let sent = 0; const failedAt: number[] = [];
  const loop = (async () => {
    for (let i = 0; !stopped; i++) {
      sent++;
      const t = performance.now();
      if (!(await serves(c, ips[i % ips.length]!))) failedAt.push(t, performance.now() - t);
    }
  })();
  return { stop: async () => { stopped = true; await loop; return { sent, failed: failedAt.length / 2, failedAt }; } };
}

// ---------- the bench ----------

try {
  if (form === 'dist') cliArgv = [await buildPackage()];

  // Baseline: a bare idle Node.js process.
  const bare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await sleep(1500);
  const bareRss = status(bare.pid!, 'VmRSS');
  bare.kill('SIGKILL');

  // 1. Idle RSS of a fresh cluster.
  const a = await newCluster('idle');
  await up(a);
  await sleep(10_000);
  const daemon = readRecord(a.stateDir)!.pid!;
  const byRole = new Map<string, { rss: number; pss: number; n: number }>();
  let rssSum = 0; let pssSum = 0;
  for (const pid of await clusterPids(a.id, daemon)) {
    const rs = status(pid, 'VmRSS'); const ps = pss(pid);
    const k = role(pid, daemon);
    const e = byRole.get(k) ?? { rss: 0, pss: 0, n: 0 };
    e.rss += rs; e.pss += ps; e.n++;
    byRole.set(k, e);
    rssSum += rs; pssSum += ps;
  }
  out('idle cluster RSS, all processes (10 s after up)', rssSum / 1024, 'MB', {
    baseline: { name: 'bare idle `node` process RSS', value: r1(bareRss / 1024), unit: 'MB' }, target: '< 150 MB',
    anchor: 'k0s controller 510 MB idle; k3s agent 275 MB', pssMB: r1(pssSum / 1024),
  });
  for (const [k, e] of [...byRole].sort((x, y) => y[1].rss - x[1].rss)) {
    out(`idle cluster RSS: ${k}${e.n > 1 ? ` (${e.n} processes)` : ''}`, e.rss / 1024, 'MB', { pssMB: r1(e.pss / 1024) });
  }
  await down(a, true);

  // 2. Crash recovery with 50 Pods.
  const b = await newCluster('rec');
  await up(b);
  const k = kubectlRunner(b.home, b.kubeconfig);
  const must = async (args: string[]): Promise<string> => {
    const r = await k(args, { timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  for (let d = 0; d < DEPLOYMENTS; d++) {
    await must(['create', 'deployment', `web${d}`, '--image=nginx', `--replicas=${REPLICAS}`]);
    await must(['expose', 'deployment', `web${d}`, '--port=80']);
  }
  const svcs = (JSON.parse(await must(['get', 'svc', '-o', 'json'])) as { items: Service[] }).items.filter((s) => s.metadata!.name!.startsWith('web'));
  const ips = svcs.map((s) => s.spec!.clusterIP!);
  const PODS = DEPLOYMENTS * REPLICAS + 1; // + the DNS Pod
  await untilServing(b, ips, PODS, performance.now() + 120_000);

  const recovery: number[] = []; const upMs: number[] = []; const daemonMs: number[] = []; let sent = 0; let failed = 0;
  const failedAfterKill: string[] = [];
  const stepRuns = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round++) {
    const pid = readRecord(b.stateDir)!.pid!;
    const traffic = trafficLoop(b, ips);
    await sleep(300);
    const t0 = performance.now();
    process.kill(pid, 'SIGKILL');
    while (alive(pid)) await sleep(2);
    const u = await up(b);
    const t1 = await untilServing(b, ips, PODS, t0 + 60_000);
    await sleep(300);
    const tr = await traffic.stop();
    sent += tr.sent; failed += tr.failed;
    for (let f = 0; f < tr.failedAt.length; f += 2) failedAfterKill.push(`${Math.round(tr.failedAt[f]! - t0)} ms after the kill, took ${Math.round(tr.failedAt[f + 1]!)} ms`);
    recovery.push(t1 - t0); upMs.push(u.ms);
    if (u.readyMs !== undefined) daemonMs.push(u.readyMs);
    for (const [k, v] of u.steps) stepRuns.set(k, [...(stepRuns.get(k) ?? []), v]);
  }
  const anchor = 'kubelet/k3s: a restarted node agent adopts running containers';
  out(`crash recovery (${PODS} Pods, ${DEPLOYMENTS} Services): kill -9 + up → every Service serves, p50 of ${ROUNDS}`, pct(recovery, 50), 'ms', { target: '< 2 s', anchor, runs: recovery.map(Math.round) });
  out(`crash recovery (${PODS} Pods, ${DEPLOYMENTS} Services): kill -9 + up → every Service serves, max of ${ROUNDS}`, Math.max(...recovery), 'ms', { target: '< 2 s' });
  out('crash recovery: `up --detach` wall time (CLI start included), p50', pct(upMs, 50), 'ms', { runs: upMs.map(Math.round) });
  if (daemonMs.length) out('crash recovery: the daemon\'s own start, "Starting cluster" → "ready" (adoption included), p50', pct(daemonMs, 50), 'ms', { runs: daemonMs });
  for (const [k, v] of stepRuns) out(`crash recovery step p50: ✓ ${k}`, pct(v, 50), 'ms', { runs: v });
  out('crash recovery: requests to the Services that failed while the daemon was down and restarting', failed, 'requests', { sent, failures: failedAfterKill, note: 'curl from the node namespace, round robin, 1 s limit' });

  // Baseline: the only recovery before adoption — down, then up (every Pod recreated).
  const t0 = performance.now();
  await down(b, false);
  await up(b);
  const t1 = await untilServing(b, ips, PODS, t0 + 120_000);
  out(`baseline: down + up (Pods recreated) → every Service serves (${PODS} Pods)`, t1 - t0, 'ms', {
    note: 'same cluster, same run; recovery by adoption above is compared against this',
  });
  await down(b, true);
} catch (e) {
  console.error(`recovery.bench failed: ${(e as Error).stack ?? e}`);
  process.exitCode = 1;
} finally {
  clearTimeout(watchdog);
  await cleanup();
}

/**
 * Whole-cluster figures of issue 8, measured with the real `clusterip` CLI (by default as shipped:
 * the package bin `dist/cli/main.js`, compiled by this bench into its temp dir; CIP_BENCH_CLI=tsx runs
 * it as the e2e harness does, `node --import tsx src/cli/main.ts`), the real kubectl and the real
 * kernel (root). When `up` fails as is, that is reported as a FAILED figure and the bench retries with
 * labelled workarounds for the bugs it found (see README.md), so the other figures still get measured:
 *
 * 1. `clusterip up --detach` → node Ready and DNS answering: wall time over 5 cold runs (fresh name,
 *    fresh state dir, API port 0, own kubeconfig each run), p50 and max; plus the per-step timings
 *    the CLI prints (lines starting with ✓) and the daemon's own "ready in N ms".
 * 2. Seed 004 Task 1 manifest (XX=01, namespace student-01) applied with kubectl → the nginx page
 *    fetched through the ClusterIP from 3 distinct Pods. The client is curl inside the node's
 *    network namespace (cip-<id>-n0, created by the cluster); which Pod answered is read from that
 *    namespace's conntrack table (reply source of the new TIME_WAIT entry = the Pod IP chosen by DNAT).
 * 3. Idle RSS of every process of the cluster (daemon, its descendants, every process inside the
 *    cluster's network namespaces), 10 s after `up` returned.
 * 4. `clusterip down --purge` wall time (every run), then a leak check: no namespace `cip-<id>-*`,
 *    daemon and all cluster processes gone, state dir removed.
 * Baselines measured in the same run: `node -e 0` start-up, `ip netns add`+`ip netns del`, idle RSS
 * of a bare Node.js process.
 *
 * Traffic is only ever sent from inside a namespace the cluster created. Every cluster this bench
 * starts is taken down with `clusterip down --purge` in `finally` (also on failure, timeout, SIGINT).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { clusterId, readRecord } from '../../src/cluster/state.js';
import { runOk, type CommandOptions } from '../../src/sys/command.js';
import { inNetns, listNetns } from '../../src/sys/netns.js';
import { topologyNames } from '../../src/cluster/topology.js';
import { kubectlRunner, type KubectlRunner } from '../../test/harness/kubectl.js';
import { checkSeed004AgainstDocument, seed004Manifest } from '../../test/fixtures/seed004.js';
import { report } from '../report.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const run = (cmd: string, args: string[], opts?: CommandOptions): Promise<string> => runOk([cmd, ...args], opts);
const RUNS = 10;
/** The whole bench must end well within 3 minutes; past this, the remaining steps are skipped. */
const BUDGET_MS = 150_000;
const HARD_KILL_MS = 175_000;
const t00 = performance.now();
const tag = randomBytes(2).toString('hex');
const work = mkdtempSync(join(tmpdir(), `cipbc-${tag}-`));

// ---------- helpers ----------

interface Proc { code: number; stdout: string; stderr: string; ms: number }

/**
 * How the CLI is started. Default: as shipped — the package's bin `dist/cli/main.js` (what
 * `npx clusterip` runs after `npm ci`), compiled by this bench into a private package root under its
 * temp dir (never into the shared dist/: the image catalog prefers dist/dns/main.js when it exists, so
 * a stale shared dist/ would change every other engineer's clusters). CIP_BENCH_CLI=tsx runs
 * `node --import tsx src/cli/main.ts` instead, as the e2e harness does.
 */
let CLI_FORM: 'tsx' | 'dist' = process.env.CIP_BENCH_CLI === 'tsx' ? 'tsx' : 'dist';
let cliArgv: string[] = ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts')];
let pkgRoot: string | undefined;
const CLI_LABEL = (): string => (CLI_FORM === 'dist' ? 'node dist/cli/main.js (as shipped, built by the bench)' : 'node --import tsx src/cli/main.ts');

/**
 * Builds the package as `npm ci` does (scripts/build.mjs: the esbuild bundles) into
 * `<work>/pkg/dist`, beside symlinks to the real node_modules and src (for the .mjs image assets)
 * and a copy of package.json (ESM), so the built code finds its root exactly as an installed
 * package does.
 */
async function buildPackage(): Promise<string> {
  pkgRoot = join(work, 'pkg');
  mkdirSync(pkgRoot);
  symlinkSync(join(ROOT, 'node_modules'), join(pkgRoot, 'node_modules'));
  symlinkSync(join(ROOT, 'src'), join(pkgRoot, 'src'));
  copyFileSync(join(ROOT, 'package.json'), join(pkgRoot, 'package.json'));
  await run(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), '--outdir', join(pkgRoot, 'dist')], { timeoutMs: 120_000 });
  const main = join(pkgRoot, 'dist', 'cli', 'main.js');
  if (!existsSync(main)) throw new Error(`the build did not produce ${main}`);
  return main;
}

/** Runs the clusterip CLI (see CLI_FORM). */
function cli(args: string[], timeoutMs = 60_000): Promise<Proc> {
  return new Promise((res) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [...cliArgv, ...args], {
      cwd: ROOT, env: process.env, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = ''; let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    child.on('close', (code) => { clearTimeout(timer); res({ code: code ?? -1, stdout, stderr, ms: performance.now() - t0 }); });
  });
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
const r1 = (v: number): number => Math.round(v * 10) / 10;
let failed = false;
/** One row (bench/report.ts), noting which form of the CLI was measured. */
function out(figure: string, value: number | null, unit: string, baseline?: { name: string; value: number; unit?: string }, anchor?: string, target?: string, extra?: Record<string, unknown>): void {
  report({ figure, value: value === null ? null : r1(value), unit, baseline, anchor, target, cli: CLI_LABEL(), ...extra });
}
function fail(figure: string, unit: string, err: unknown, anchor?: string, target?: string): void {
  failed = true;
  const msg = (err as Error)?.message ?? String(err);
  report({ figure: `${figure} (FAILED: ${msg.split('\n')[0]!.slice(0, 200)})`, value: null, unit, anchor, target, cli: CLI_LABEL(), error: msg.slice(0, 2000) });
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const overBudget = (): boolean => performance.now() - t00 > BUDGET_MS;

function rssKB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch { return 0; }
}
function pssKB(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch { return 0; }
}
function comm(pid: number): string {
  try { return readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { return '?'; }
}
/** The first arguments of a process, short (for the per-process listing on stderr). */
function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).slice(0, 4)
      .map((a) => a.replace(/^.*\/(?=[^/]+$)/, '')).join(' ').slice(0, 60);
  } catch { return '?'; }
}
/** The scheduler state letter of a process ('R', 'S', 'Z', ...), or undefined when it is gone. */
function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0];
  } catch { return undefined; }
}
/** A live process: exists and is not a zombie (a zombie holds nothing but its pid until reaped). */
function alive(pid: number): boolean {
  const st = procState(pid);
  return st !== undefined && st !== 'Z';
}
/** pid → ppid for every process on the machine. */
function parents(): Map<number, number> {
  const m = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      // Field 4 (ppid) follows the ")" that ends the command name (which may contain spaces).
      const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      m.set(Number(d), Number(after[1]));
    } catch { /* gone */ }
  }
  return m;
}
/** Every process of cluster `id`: the daemon, its descendants, and every process in its namespaces. */
async function clusterPids(id: string, daemonPid: number | undefined): Promise<Set<number>> {
  const pids = new Set<number>();
  if (daemonPid && alive(daemonPid)) {
    pids.add(daemonPid);
    const pp = parents();
    let grew = true;
    while (grew) {
      grew = false;
      for (const [pid, ppid] of pp) if (pids.has(ppid) && !pids.has(pid)) { pids.add(pid); grew = true; }
    }
  }
  for (const ns of await listNetns()) {
    if (!ns.startsWith(`cip-${id}-`)) continue;
    const list = await run('ip', ['netns', 'pids', ns]).catch(() => '');
    for (const p of list.split('\n').map(Number).filter((p) => p > 1)) pids.add(p);
  }
  return pids;
}

/** A cluster name whose namespace prefix `cip-<id>-` is not in use by anything on the machine. */
async function freshName(i: number): Promise<string> {
  const existing = await listNetns();
  for (;;) {
    const name = `bc-${randomBytes(3).toString('hex')}-${i}`;
    const id = clusterId(name);
    if (!existing.some((ns) => ns.startsWith(`cip-${id}-`)) && !started.some((s) => clusterId(s.name) === id)) return name;
  }
}

// ---------- state for cleanup ----------

interface Started { name: string; stateDir: string; kubeconfig: string; downed: boolean; id: string; pids: Set<number> }
const started: Started[] = [];
const kubectls: KubectlRunner[] = [];
let cleaning: Promise<string[]> | undefined;

/** `down --purge` every cluster not yet taken down; returns leak descriptions. */
function cleanupAll(): Promise<string[]> {
  cleaning ??= (async () => {
    for (const k of kubectls) k.killAll();
    const leaks: string[] = [];
    for (const s of started) {
      if (!s.downed) {
        s.downed = true;
        const r = await cli(['down', '--name', s.name, '--state-dir', s.stateDir, '--purge'], 30_000);
        if (r.code !== 0) leaks.push(`down ${s.name} exited ${r.code}: ${r.stderr.trim()}`);
      }
      leaks.push(...await leftovers(s));
    }
    // Unlink the symlinks to the real node_modules and src first, so nothing can follow them.
    if (pkgRoot) for (const l of ['node_modules', 'src']) { try { unlinkSync(join(pkgRoot, l)); } catch { /* not made */ } }
    rmSync(work, { recursive: true, force: true });
    return leaks;
  })();
  return cleaning;
}

/** What cluster `s` left behind after down: namespaces, processes, state dir. */
async function leftovers(s: Started): Promise<string[]> {
  const l: string[] = [];
  const ns = (await listNetns()).filter((n) => n.startsWith(`cip-${s.id}-`));
  if (ns.length) l.push(`${s.name}: network namespaces left: ${ns.join(', ')}`);
  const procs = [...s.pids].filter(alive);
  if (procs.length) l.push(`${s.name}: processes left: ${procs.map((p) => `${p} (${comm(p)})`).join(', ')}`);
  if (existsSync(s.stateDir)) l.push(`${s.name}: state dir left: ${s.stateDir}`);
  return l;
}

const hardKill = setTimeout(() => {
  console.error(`cluster.bench: over ${HARD_KILL_MS / 1000} s, cleaning up and exiting`);
  void cleanupAll().finally(() => process.exit(3));
}, HARD_KILL_MS);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => { void cleanupAll().finally(() => process.exit(130)); });
}

// ---------- the bench ----------

/**
 * How `up` is run. The as-is variant is the product; the others emulate fixes for bugs this bench
 * found (see README.md) so the remaining figures can still be measured, and are labelled as such.
 */
interface Variant { mode: 'nftables' | 'iptables'; nodeRoute: boolean; label: string }
const VARIANTS: Variant[] = [
  { mode: 'nftables', nodeRoute: false, label: '' },
  { mode: 'nftables', nodeRoute: true, label: ' [WORKAROUND: bench adds `route local 10.96.0.0/12 dev lo` in node netns]' },
  { mode: 'iptables', nodeRoute: true, label: ' [WORKAROUND: --proxy-mode iptables + bench adds `route local 10.96.0.0/12 dev lo` in node netns]' },
];
const SERVICE_CIDR = '10.96.0.0/12';
/** A cold `up` slower than this counts as failed (the target is 2 s). */
const UP_LIMIT_MS = 10_000;

/**
 * Emulates the proposed fix of the missing Service-CIDR route in the node namespace (without it the
 * node's own traffic to a ClusterIP fails with "network unreachable" before the nat OUTPUT hook can
 * DNAT it, so `up`'s DNS check from the node never succeeds): as soon as the node namespace exists,
 * add `local SERVICE_CIDR dev lo` there (inside the cluster's own namespace only). Stops when `done`
 * is set.
 */
async function addNodeRoute(id: string, done: { v: boolean }): Promise<void> {
  const ns = topologyNames(id).node(0);
  while (!done.v) {
    const ok = await run('ip', ['-n', ns, 'route', 'replace', 'local', SERVICE_CIDR, 'dev', 'lo']).then(() => true, () => false);
    if (ok) return;
    await sleep(25);
  }
}

/** Starts cluster `i` with the real CLI; returns the wall time and the ✓ step lines. */
async function up(i: number, v: Variant): Promise<{ s: Started; ms: number; steps: Map<string, number>; readyMs?: number }> {
  const name = await freshName(i);
  const dir = mkdtempSync(join(work, `${name}-`));
  const s: Started = { name, stateDir: join(dir, 'state'), kubeconfig: join(dir, 'kubeconfig'), downed: false, id: clusterId(name), pids: new Set() };
  started.push(s);
  const done = { v: false };
  const route = v.nodeRoute ? addNodeRoute(s.id, done) : Promise.resolve();
  const r = await cli(['up', '--name', name, '--state-dir', s.stateDir, '--api-port', '0', '--kubeconfig', s.kubeconfig,
    '--proxy-mode', v.mode, '--detach'], UP_LIMIT_MS);
  done.v = true;
  await route;
  if (r.code !== 0) {
    // Evidence for the usual cause (the daemon may still be running: its own wait is 60 s).
    const routeGet = await run('ip', ['-n', topologyNames(s.id).node(0), 'route', 'get', '10.96.0.10'])
      .then((o) => o.trim(), (e: Error) => e.message.replace(/^.*failed \(exit \d+\): /, '').trim());
    const all = `${r.stdout}\n${r.stderr}\nnode netns: ip route get 10.96.0.10 → ${routeGet}`;
    const why = all.split('\n').find((l) => /error|failed|unreachable/i.test(l))?.trim();
    throw new Error(`clusterip up ${r.code === -1 ? `not ready after ${UP_LIMIT_MS} ms` : `exited ${r.code}`}` +
      `${why ? `; first error: ${why}` : ''}\n${all}`);
  }
  const steps = new Map<string, number>();
  for (const line of r.stdout.split('\n')) {
    const m = /^\s*✓ (.*) \((\d+) ms\)\s*$/.exec(line);
    if (m) steps.set(m[1]!.replaceAll(`${name}-node`, '<node>'), Number(m[2]));
  }
  console.error(`run ${i}: ${Math.round(r.ms)} ms; ${[...steps].map(([k, v]) => `${k.replace(/^node <node> /, '')} ${v}`).join(', ')}`);
  const ready = /is ready in (\d+) ms/.exec(r.stdout);
  return { s, ms: r.ms, steps, readyMs: ready ? Number(ready[1]) : undefined };
}

/** Takes cluster `s` down with the real CLI; returns the wall time and what was left. */
async function down(s: Started): Promise<{ ms: number; internalMs?: number; exitedMs?: number; reapedMs?: number; leaks: string[] }> {
  const rec = readRecord(s.stateDir);
  for (const p of await clusterPids(s.id, rec?.pid)) s.pids.add(p);
  s.downed = true;
  // Watch the daemon while `down` runs: when it has exited (zombie) and when it is reaped (gone).
  const t0 = performance.now();
  let exitedMs: number | undefined; let reapedMs: number | undefined;
  let watching = !!rec?.pid;
  const watcher = (async () => {
    while (watching && rec?.pid) {
      const st = procState(rec.pid);
      if (st === 'Z' && exitedMs === undefined) exitedMs = performance.now() - t0;
      if (st === undefined) { exitedMs ??= performance.now() - t0; reapedMs = performance.now() - t0; return; }
      await sleep(5);
    }
  })();
  const r = await cli(['down', '--name', s.name, '--state-dir', s.stateDir, '--purge'], 30_000);
  watching = false;
  await watcher;
  const leaks = await leftovers(s);
  if (r.code !== 0) leaks.unshift(`down exited ${r.code}: ${r.stderr.trim()}`);
  const internal = /\((\d+) ms\)\s*$/m.exec(r.stdout);
  return { ms: r.ms, internalMs: internal ? Number(internal[1]) : undefined, exitedMs, reapedMs, leaks };
}

/** Seed 004 applied → nginx page through the ClusterIP from 3 distinct Pods. Returns ms and the Pod IPs. */
async function seed004(s: Started): Promise<{ ms: number; pods: string[]; requests: number; ok: number; split: Record<string, number> }> {
  checkSeed004AgainstDocument();
  const home = join(work, `home-${s.name}`);
  const kubectl = kubectlRunner(home, s.kubeconfig);
  kubectls.push(kubectl);
  const k = async (args: string[], input?: string): Promise<string> => {
    const r = await kubectl(args, { input, timeoutMs: 20_000 });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
    return r.stdout;
  };
  await k(['create', 'namespace', 'student-01']);
  // Warm kubectl's discovery cache so the timed apply is what a user sees on a second command.
  await k(['api-resources', '-o', 'name']);
  const manifest = join(work, `nginx-clusterip-${s.name}.yaml`);
  writeFileSync(manifest, seed004Manifest('01'));
  const node0 = topologyNames(s.id).node(0);

  const t0 = performance.now();
  const applied = await k(['apply', '-f', manifest]);
  const applyMs = performance.now() - t0;
  if (!/service\/nginx-service-01 created/.test(applied)) throw new Error(`unexpected apply output: ${applied}`);
  const ip = (await k(['get', 'svc', 'nginx-service-01', '-n', 'student-01', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip)) throw new Error(`no ClusterIP: ${JSON.stringify(ip)}`);
  const ipMs = performance.now() - t0;
  let firstMs: number | undefined;
  const seen = new Set<string>(); // conntrack entries already attributed (orig sport)
  const pods = new Set<string>();
  let requests = 0; let ok = 0; let lastErr = '';
  const deadline = Date.now() + 30_000;
  while (pods.size < 3) {
    if (Date.now() > deadline || overBudget()) {
      throw new Error(`after ${Math.round(performance.now() - t0)} ms and ${requests} requests (${ok} answered): ` +
        `${pods.size} distinct Pods answered through ${ip} [${[...pods].join(', ')}]; last error: ${lastErr}`);
    }
    requests++;
    // curl, not busybox wget: this busybox (1.35) wget segfaults with -T, and without -T it reports a
    // refused connection only after ~1 s, which would quantize the figure to whole seconds.
    const page = await inNetns(node0, 'curl', ['-sS', '--max-time', '2', `http://${ip}/`], { timeoutMs: 3000 })
      .catch((e: Error) => { lastErr = e.message; return ''; });
    if (!page.includes('Welcome to nginx!')) { await sleep(20); continue; }
    ok++;
    firstMs ??= performance.now() - t0;
    // The new TIME_WAIT entry for the ClusterIP is this request; its reply source is the Pod DNAT chose.
    const ct = await inNetns(node0, 'conntrack', ['-L', '-p', 'tcp', '--orig-dst', ip, '--orig-port-dst', '80'], { timeoutMs: 3000 }).catch(() => '');
    for (const line of ct.split('\n')) {
      if (!/\bTIME_WAIT\b/.test(line)) continue;
      const sport = /sport=(\d+)/.exec(line)?.[1];
      const replySrc = [...line.matchAll(/src=(\S+)/g)][1]?.[1];
      if (!sport || !replySrc || seen.has(sport)) continue;
      seen.add(sport);
      pods.add(replySrc);
    }
  }
  const ms = performance.now() - t0;
  // The answering addresses must be the Service's endpoints (3 Pod IPs).
  const eps = await k(['get', 'endpointslices', '-n', 'student-01', '-l', 'kubernetes.io/service-name=nginx-service-01',
    '-o', 'jsonpath={.items[*].endpoints[*].addresses[*]}']);
  const epIPs = new Set(eps.trim().split(/\s+/));
  const stray = [...pods].filter((p) => !epIPs.has(p));
  if (stray.length) throw new Error(`answers came from ${stray.join(', ')}, not among the endpoints ${[...epIPs].join(', ')}`);
  return { ms, pods: [...pods], requests, ok, split: { kubectlApplyMs: r1(applyMs), kubectlGetSvcDoneMs: r1(ipMs), firstPageMs: r1(firstMs ?? ms) } };
}

async function baselines(): Promise<{ nodeStart: number; netns: number; nodeRssMB: number }> {
  const ns: number[] = [];
  const nd: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await run(process.execPath, ['-e', '0']);
    nd.push(performance.now() - t0);
    const name = `cipbc-${tag}-b${i}`;
    const t1 = performance.now();
    await run('ip', ['netns', 'add', name]);
    await run('ip', ['netns', 'del', name]);
    ns.push(performance.now() - t1);
  }
  // A bare, idle Node.js process: what one runtime costs before any code.
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  await sleep(500);
  const rss = rssKB(child.pid!) / 1024;
  child.kill('SIGKILL');
  return { nodeStart: pct(nd, 50), netns: pct(ns, 50), nodeRssMB: rss };
}

const UP_TARGET = 'p50 < 1.0 s, max < 1.5 s (10 runs)';
const UP_ANCHOR = 'time to DNS answering (minikube time-to-k8s): k3d 19.9 s, kind 33.0 s, minikube 50.8 s';
let exitCode = 0;
try {
  if (CLI_FORM === 'dist') {
    const t0 = performance.now();
    try {
      cliArgv = [await buildPackage()];
      console.error(`built the package (tsc) in ${Math.round(performance.now() - t0)} ms: ${cliArgv[0]}`);
    } catch (e) {
      console.error(`cluster.bench: could not build the package, falling back to tsx: ${(e as Error).message}`);
      CLI_FORM = 'tsx';
    }
  }
  const base = await baselines();
  // CLI start-up: `clusterip --help` against `node -e 0`, interleaved, 10 of each.
  {
    const help: number[] = []; const bare: number[] = [];
    for (let i = 0; i < 10; i++) {
      const h = await cli(['--help']);
      if (h.code !== 0) throw new Error(`clusterip --help exited ${h.code}: ${h.stderr}`);
      help.push(h.ms);
      const t0 = performance.now();
      await run(process.execPath, ['-e', '0']);
      bare.push(performance.now() - t0);
    }
    out('clusterip --help wall time p50 (CLI start-up)', pct(help, 50), 'ms', { name: '`node -e 0` p50 (same run, interleaved)', value: r1(pct(bare, 50)), unit: 'ms' },
      'was ≈ 260 ms (tsc output, ~200 files) against ≈ 60 ms for node -e 0', 'close to node -e 0', { runs: help.map(r1), nodeRuns: bare.map(r1) });
    out('clusterip --help p50 minus `node -e 0` p50', pct(help, 50) - pct(bare, 50), 'ms', undefined, undefined, '< 50 ms');
  }
  const bNode = { name: '`node -e 0` start-up p50', value: r1(base.nodeStart), unit: 'ms' };
  const bNetns = { name: '`ip netns add` + `ip netns del` p50', value: r1(base.netns), unit: 'ms' };
  const bRss = { name: 'bare idle `node` process RSS', value: r1(base.nodeRssMB), unit: 'MB' };

  const upMs: number[] = [];
  const readyMs: number[] = [];
  const downMs: number[] = [];
  const downInternalMs: number[] = [];
  const downExitedMs: number[] = [];
  const downReapedMs: number[] = [];
  const allLeaks: string[] = [];
  const steps = new Map<string, number[]>();
  let upError: unknown;
  /** `count`: a down of a cluster that came up (a failed up's down also kills a daemon still starting). */
  const takeDown = async (s: Started, i: number, count = true): Promise<void> => {
    const d = await down(s);
    if (count) {
      downMs.push(d.ms);
      if (d.internalMs !== undefined) downInternalMs.push(d.internalMs);
      if (d.exitedMs !== undefined) downExitedMs.push(d.exitedMs);
      if (d.reapedMs !== undefined) downReapedMs.push(d.reapedMs);
    }
    allLeaks.push(...d.leaks);
    console.error(`run ${i}: down ${Math.round(d.ms)} ms${d.leaks.length ? `; LEFT: ${d.leaks.join('; ')}` : ''}`);
  };

  // Probe: the product as is first; when `up` fails, report it and fall back to labelled workarounds.
  let variant: Variant | undefined;
  let first: Awaited<ReturnType<typeof up>> | undefined;
  for (const v of VARIANTS) {
    if (overBudget()) break;
    try {
      first = await up(0, v);
      variant = v;
      break;
    } catch (e) {
      fail(`clusterip up --detach (--proxy-mode ${v.mode}) → node Ready + DNS answering${v.label}`, 'ms', e, UP_ANCHOR, UP_TARGET);
      console.error(`variant ${v.mode}${v.label} failed: ${(e as Error).message.split('\n')[0]}`);
      await takeDown(started[started.length - 1]!, 0, false);
    }
  }
  const L = variant?.label ?? '';
  if (!variant) {
    const why = new Error('no cluster came up (see the FAILED up figures)');
    fail('seed 004 applied → nginx page via ClusterIP from 3 distinct Pods', 'ms', why, undefined, '< 2 s');
    fail('idle cluster RSS, all processes (10 s after up)', 'MB', why, undefined, '< 250 MB');
    fail('clusterip down --purge', 'ms', why, undefined, '< 2 s, nothing left');
  }
  for (let i = 0; variant && i < RUNS && !overBudget(); i++) {
    let u: Awaited<ReturnType<typeof up>>;
    try {
      u = i === 0 ? first! : await up(i, variant);
    } catch (e) { upError = e; break; }
    upMs.push(u.ms);
    if (u.readyMs !== undefined) readyMs.push(u.readyMs);
    for (const [k, v] of u.steps) steps.set(k, [...(steps.get(k) ?? []), v]);
    console.error(`run ${i}: up ${Math.round(u.ms)} ms (${u.s.name}, id ${u.s.id})`);

    if (i === RUNS - 1) {
      // 3. Idle RSS, 10 s after up returned.
      const fig3 = `idle cluster RSS, all processes (10 s after up)${L}`;
      try {
        await sleep(10_000);
        const rec = readRecord(u.s.stateDir);
        const pids = await clusterPids(u.s.id, rec?.pid);
        let rss = 0; let pss = 0;
        const parts: string[] = [];
        for (const p of pids) {
          const kb = rssKB(p); rss += kb; pss += pssKB(p);
          parts.push(`[${cmdline(p)}] ${r1(kb / 1024)} MB`);
          u.s.pids.add(p);
        }
        console.error(`idle cluster processes: ${parts.join('; ')}`);
        out(fig3, rss / 1024, 'MB', bRss, 'k0s controller 510 MB idle; k3s server ≈ 1.6 GB with a workload', '< 250 MB',
          { processes: pids.size, pssMB: r1(pss / 1024), daemonRssMB: r1(rssKB(rec?.pid ?? 0) / 1024) });
      } catch (e) { fail(fig3, 'MB', e, undefined, '< 250 MB'); }

      // 2. Seed 004 → traffic from 3 Pods through the ClusterIP.
      const fig2 = `seed 004 applied → nginx page via ClusterIP from 3 distinct Pods${L}`;
      const anchor2 = 'kube-proxy nftables network programming p50 1.52 s (gce-100, PR #124272), after Pods are up';
      try {
        const r = await seed004(u.s);
        out(fig2, r.ms, 'ms', bNetns, anchor2, '< 2 s', { pods: r.pods, requests: r.requests, answered: r.ok, ...r.split });
      } catch (e) { fail(fig2, 'ms', e, anchor2, '< 2 s'); }
    }
    await takeDown(u.s, i);
  }
  if (first && !first.s.downed) await takeDown(first.s, 0);

  if (upMs.length) {
    out(`clusterip up --detach → node Ready + DNS answering, cold, p50 (${upMs.length} runs)${L}`, pct(upMs, 50), 'ms', bNode, UP_ANCHOR, UP_TARGET, { runs: upMs.map(r1) });
    out(`clusterip up --detach → node Ready + DNS answering, cold, max (${upMs.length} runs)${L}`, Math.max(...upMs), 'ms', bNode, UP_ANCHOR, UP_TARGET);
    if (readyMs.length) out('clusterip up: daemon-internal "ready in" p50 (excludes CLI and daemon process start)', pct(readyMs, 50), 'ms', bNode, undefined, undefined, { runs: readyMs });
    for (const [k, v] of steps) out(`clusterip up step p50: ✓ ${k}`, pct(v, 50), 'ms', undefined, undefined, undefined, { runs: v });
  }
  if (upError) fail(`clusterip up --detach → node Ready + DNS answering, run ${upMs.length}${L}`, 'ms', upError, UP_ANCHOR, UP_TARGET);
  if (downMs.length) {
    const leakNote = allLeaks.length ? { leftBehind: allLeaks } : { leftBehind: 'nothing (namespaces, processes, state dir checked)' };
    out(`clusterip down --purge p50 (${downMs.length} runs)`, pct(downMs, 50), 'ms', bNetns, undefined, '< 2 s, nothing left', { runs: downMs.map(r1), ...leakNote });
    out(`clusterip down --purge max (${downMs.length} runs)`, Math.max(...downMs), 'ms', bNetns, undefined, '< 2 s, nothing left', leakNote);
    if (downInternalMs.length) out('clusterip down: CLI-reported time p50 (excludes CLI process start)', pct(downInternalMs, 50), 'ms', bNode, undefined, undefined, { runs: downInternalMs });
    if (downExitedMs.length) out('clusterip down: daemon exited (zombie) p50, from down start', pct(downExitedMs, 50), 'ms', bNode, undefined, undefined, { runs: downExitedMs.map(r1) });
    if (downReapedMs.length) out('clusterip down: daemon reaped by PID 1 (pid gone) p50, from down start', pct(downReapedMs, 50), 'ms', bNode, undefined, undefined, { runs: downReapedMs.map(r1), pid1: cmdline(1) });
    if (allLeaks.length) fail('clusterip down leaves nothing behind', '', new Error(allLeaks.join('; ')));
  }
  if (failed) exitCode = 1;
} catch (e) {
  console.error(`cluster.bench failed: ${(e as Error).stack ?? e}`);
  exitCode = 1;
} finally {
  const leaks = await cleanupAll();
  clearTimeout(hardKill);
  if (leaks.length) {
    console.error(`cluster.bench: left behind after cleanup: ${leaks.join('; ')}`);
    exitCode = 1;
  }
  console.error(`cluster.bench: ${((performance.now() - t00) / 1000).toFixed(1)} s`);
}
process.exit(exitCode);

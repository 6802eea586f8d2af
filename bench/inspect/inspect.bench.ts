/**
 * Figures of issue 16 (`clusterip explain` / `clusterip diagnose`), against a real cluster started
 * with the real CLI (`clusterip up --detach`, test/harness/up.ts: unique name, private state dir, API
 * port 0), the real kernel and real Pods (root):
 *
 * 1. explain, a Service with 10 endpoints (an nginx Deployment, 10 replicas): p50 / p99 over 40 runs
 *    of `explainService` — what the CLI and the web view call — with the API read over the unix
 *    socket (HttpClient), the node's nft table, every Pod's sockets and the DNS answers read live.
 * 2. the same with 1k Services on the node (1000 more Services selecting the same 10 Pods: 10k
 *    endpoint elements in the kernel), 30 runs.
 * 3. diagnose of the healthy Service (probe Pod placed, probes run, probe removed): p50 / max of 8.
 * 4. diagnose of a failing one (selector typo: no endpoints): p50 / max of 8.
 * 5. the CLI as shipped (`node dist/cli/main.js`, compiled by this bench into its temp dir) for
 *    explain and diagnose: process wall time, p50 of 5.
 * Baselines in the same run: `ip netns exec <node> true` (one process in the node namespace) and
 * `nft list table ip clusterip` (the largest single read), p50; the probe Pod's own placement time.
 *
 * Everything the bench creates is removed in `finally`: the cluster (`clusterip down --purge` and the
 * harness's leak check), the temp dirs. Traffic only ever comes from namespaces the cluster made.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Service } from 'kubernetes-types/core/v1.js';
import { R } from '../../src/api/resources.js';
import { run } from '../../src/sys/command.js';
import { report } from '../report.js';
import { HttpClient } from '../../src/client/http.js';
import { clusterViewFromRecord } from '../../src/cli/inspectcommon.js';
import { diagnoseService } from '../../src/inspect/diagnose.js';
import { explainService } from '../../src/inspect/explain.js';
import { runCommand } from '../../src/inspect/exec.js';
import { upCluster } from '../../test/harness/up.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'cip-inspectbench-'));
const hooks: (() => Promise<void>)[] = [];

function bench(figure: string, value: number, unit: string, extra: { baseline?: { name: string; value: number }; anchor?: string; target?: string } = {}): void {
  report({ figure, value, unit, ...extra });
}
function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
async function times(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * CPU time used so far, ms (user + system): this process with the children it waited for (nft, ss,
 * dig, the probe helpers...) and the cluster daemon with its own (API server, node agent placing and
 * removing the probe; not its long-lived children such as the proxy's `nft -i` session). Less at the mercy of other work on the machine than wall time: the figure to
 * compare between runs on a shared machine. From /proc/<pid>/stat (clock ticks of 10 ms: USER_HZ 100).
 */
function cpuMs(daemonPid: number): number {
  const ticks = (pid: string): number => {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]); // utime stime cutime cstime
  };
  return (ticks('self') + ticks(String(daemonPid))) * 10;
}

/** Builds the package as `npm ci` does (scripts/build.mjs) into the bench's temp dir (never the shared dist/); returns its CLI. */
async function builtCli(): Promise<string> {
  const pkg = join(work, 'pkg');
  mkdirSync(pkg);
  symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
  symlinkSync(join(ROOT, 'src'), join(pkg, 'src'));
  copyFileSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  const r = await run([process.execPath, join(ROOT, 'scripts', 'build.mjs'), '--outdir', join(pkg, 'dist')], { timeoutMs: 120_000 });
  const main = join(pkg, 'dist', 'cli', 'main.js');
  if (!existsSync(main)) throw new Error(`scripts/build.mjs produced no dist/cli/main.js: ${r.stderr.slice(0, 500)}`);
  return main;
}

function cliWall(main: string, args: string[]): Promise<{ ms: number; code: number }> {
  return new Promise((res) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'ignore', 'ignore'] });
    child.on('close', (code) => res({ ms: performance.now() - t0, code: code ?? -1 }));
  });
}

async function main(): Promise<void> {
  const c = await upCluster({ after: (fn: () => Promise<void>) => { hooks.push(fn); } } as never);
  const view = clusterViewFromRecord(c.record, c.stateDir);
  const daemon = c.record.pid;
  if (!daemon) throw new Error('the cluster record names no daemon pid');
  const client = new HttpClient({ socketPath: c.record.unixSocket, timeoutMs: 30_000 });
  hooks.push(async () => client.close());
  const node = view.nodes[0]!.netns;
  const ok = async (args: string[], input?: string): Promise<string> => {
    const r = await c.kubectl(args, { input, timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  await ok(['create', 'namespace', 'bench']);
  await ok(['create', 'deployment', 'web', '-n', 'bench', '--image=nginx:1.27', '--replicas=10', '--port=80']);
  await ok(['expose', 'deployment', 'web', '-n', 'bench', '--port=80']);
  await ok(['create', 'service', 'clusterip', 'typo', '-n', 'bench', '--tcp=80:80']);
  await ok(['patch', 'svc', 'typo', '-n', 'bench', '--type=merge', '-p', '{"spec":{"selector":{"app":"wbe"}}}']);
  await ok(['rollout', 'status', 'deployment/web', '-n', 'bench', '--timeout=90s']);
  for (let i = 0; i < 100; i++) {
    const eps = await ok(['get', 'endpoints', 'web', '-n', 'bench', '-o', 'jsonpath={.subsets[*].addresses[*].ip}']);
    if (eps.trim().split(/\s+/).length === 10) break;
    await sleep(100);
  }

  const floorExec = pct(await times(20, () => runCommand(['ip', 'netns', 'exec', node, 'true'])), 50);
  const floorNft = pct(await times(20, () => runCommand(['ip', 'netns', 'exec', node, 'nft', 'list', 'table', 'ip', 'clusterip'])), 50);
  const check = await explainService(client, view, 'bench', 'web');
  if (check.pods.length !== 10 || check.nodes[0]!.ports[0]!.endpoints.length !== 10) throw new Error(`explain saw ${check.pods.length} Pods / ${check.nodes[0]!.ports[0]!.endpoints.length} endpoints, not 10`);
  let cpu0 = cpuMs(daemon);
  const e10 = await times(40, () => explainService(client, view, 'bench', 'web'));
  const e10Cpu = (cpuMs(daemon) - cpu0) / 40;
  bench('explain svc, 10 endpoints, p50', pct(e10, 50), 'ms', { baseline: { name: '`ip netns exec <node> true` p50, ms', value: floorExec } });
  bench('explain svc, 10 endpoints, p99 (40 runs)', pct(e10, 99), 'ms', { baseline: { name: '`nft list table ip clusterip` p50, ms', value: floorNft }, target: '< 200 ms' });
  bench('explain svc, 10 endpoints, CPU per call (this process + children + cluster daemon), mean of 40', e10Cpu, 'ms');

  cpu0 = cpuMs(daemon);
  const healthy = await times(8, async () => {
    const d = await diagnoseService(client, view, 'bench', 'web');
    if (d.result !== 'pass') throw new Error(`healthy Service diagnosed ${d.result}: ${d.findings.filter((f) => f.verdict !== 'pass').map((f) => f.code).join(', ')}`);
    placed.push(d.probe?.placedMs ?? NaN);
  });
  bench('diagnose svc, healthy, 10 endpoints, incl. probe Pod + probes + removal, p50', pct(healthy, 50), 'ms', { baseline: { name: 'probe Pod create → running p50, ms', value: pct(placed, 50) } });
  const healthyCpu = (cpuMs(daemon) - cpu0) / 8;
  bench('diagnose svc, healthy, 10 endpoints, max (8 runs)', Math.max(...healthy), 'ms', { target: '< 1000 ms' });
  bench('diagnose svc, healthy, CPU per call (this process + children + cluster daemon), mean of 8', healthyCpu, 'ms');
  const failing = await times(8, async () => {
    const d = await diagnoseService(client, view, 'bench', 'typo');
    if (!d.findings.some((f) => f.code === 'SelectorMatchesNothing')) throw new Error('the typo was not found');
  });
  bench('diagnose svc, failing (selector typo), p50', pct(failing, 50), 'ms');
  bench('diagnose svc, failing (selector typo), max (8 runs)', Math.max(...failing), 'ms', { target: '< 2000 ms' });

  const main = await builtCli();
  const base = ['--name', c.name, '--state-dir', c.stateDir];
  const cliExplain = await times(5, async () => { const r = await cliWall(main, ['explain', ...base, 'svc/web', '-n', 'bench']); if (r.code !== 0) throw new Error(`explain exit ${r.code}`); });
  const nodeStart = pct(await times(5, () => runCommand([process.execPath, '-e', '0'])), 50);
  bench('CLI `clusterip explain svc/web` (node dist/cli/main.js) wall, p50', pct(cliExplain, 50), 'ms', { baseline: { name: '`node -e 0` p50, ms', value: nodeStart } });
  const cliDiag = await times(5, async () => { const r = await cliWall(main, ['diagnose', ...base, 'svc/web', '-n', 'bench']); if (r.code !== 0) throw new Error(`diagnose exit ${r.code}`); });
  bench('CLI `clusterip diagnose svc/web` (healthy, 10 endpoints) wall, p50', pct(cliDiag, 50), 'ms', { baseline: { name: '`node -e 0` p50, ms', value: nodeStart } });

  // 1k Services on the node, all selecting the 10 Pods: 10k endpoint elements in the kernel.
  const t0 = performance.now();
  const template = (i: number): Service => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: `s${i}`, namespace: 'bench' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 80 }] } });
  for (let i = 0; i < 1000; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => client.create(R.services, 'bench', template(i + j))));
  for (;;) {
    const r = await runCommand(['ip', 'netns', 'exec', node, 'nft', 'list', 'map', 'ip', 'clusterip', 'service-endpoints-tcp']);
    if ((r.stdout.match(/ : 10\.244\./g) ?? []).length >= 10_010) break;
    if (performance.now() - t0 > 120_000) throw new Error('1k Services not programmed within 120 s');
    await sleep(500);
  }
  const floorNft1k = pct(await times(10, () => runCommand(['ip', 'netns', 'exec', node, 'nft', 'list', 'table', 'ip', 'clusterip'])), 50);
  cpu0 = cpuMs(daemon);
  const e1k = await times(30, () => explainService(client, view, 'bench', 'web'));
  const e1kCpu = (cpuMs(daemon) - cpu0) / 30;
  bench('explain svc, 10 endpoints, 1k Services (10k endpoint elements) on the node, p50', pct(e1k, 50), 'ms', { baseline: { name: '`nft list table ip clusterip` at 1k Services p50, ms', value: floorNft1k } });
  bench('explain svc, 10 endpoints, 1k Services on the node, p99 (30 runs)', pct(e1k, 99), 'ms', { target: '< 500 ms' });
  bench('explain svc, 10 endpoints, 1k Services on the node, CPU per call (this process + children + cluster daemon), mean of 30', e1kCpu, 'ms');
}

const placed: number[] = [];
const watchdog = setTimeout(() => { console.error('inspect bench: watchdog (10 min)'); process.exit(1); }, 600_000);
watchdog.unref();
try {
  await main();
} finally {
  for (const h of hooks.reverse()) await h().catch((e: unknown) => console.error(`cleanup: ${(e as Error).message}`));
  rmSync(work, { recursive: true, force: true });
}

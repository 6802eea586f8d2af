/**
 * Issue 22's join and cross-machine figures, and issue 14's in-cluster API figure, in one run on
 * "machines" modelled as network namespaces (test/harness/machines.ts), with the real CLI as shipped
 * (dist/cli/main.js, built by this bench into its temp dir), real Pods, real kernel:
 *
 * 1. Join → Ready: `clusterip join --detach` on machine 2 until it returns (the node is Ready), for
 *    5 fresh nodes (new name, new state dir), p50 and max; with the daemon's own "Ready in N ms".
 *    Baseline: `clusterip --help` (the CLI's own start-up). Target < 3 s.
 * 2. Cross-machine Pod → ClusterIP requests/s ÷ same-node: nginx on machine 2's node behind a
 *    Service; wrk (keep-alive, 2 threads, 16 connections, 4 s) from a Pod on the same node and from a
 *    Pod on machine 3 (VXLAN), alternated 3 times, medians. Target ≥ 0.8.
 * 3. In-cluster API call: sequential GETs over one keep-alive HTTPS connection from a Pod on the API
 *    server's node to https://10.96.0.1 (the kubernetes Service), p99 of 8 alternated rounds of
 *    1,000 calls (median), against the same calls from the node namespace to the API server's own
 *    in-cluster address (10.244.0.1:6443).
 *    Target p99 ≤ 1.5×. (Also from a Pod on another machine, over VXLAN, for information.)
 *
 * Traffic is sent only from inside namespaces the clusters made. Everything is removed at the end.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { TestContext } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { podNetnsName } from '../../src/node/podnames.js';
import { run, runOk } from '../../src/sys/command.js';
import { createMachines } from '../../test/harness/machines.js';
import type { KubectlRunner } from '../../test/harness/kubectl.js';
import { report } from '../report.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), `cipmm-${randomBytes(2).toString('hex')}-`));
const cleanups: (() => Promise<void>)[] = [];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The package as `npm ci` builds it, in a private root (never the shared dist/). */
async function buildPackage(): Promise<string> {
  const pkg = join(work, 'pkg');
  mkdirSync(pkg);
  symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
  symlinkSync(join(ROOT, 'src'), join(pkg, 'src'));
  copyFileSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  await runOk([process.execPath, join(ROOT, 'scripts', 'build.mjs'), '--outdir', join(pkg, 'dist')], { timeoutMs: 180_000 });
  const main = join(pkg, 'dist', 'cli', 'main.js');
  if (!existsSync(main)) throw new Error(`the build did not produce ${main}`);
  return main;
}

async function until<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined | false>): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

async function pods(k: KubectlRunner): Promise<Map<string, Pod>> {
  const r = await k(['get', 'pods', '-o', 'json']);
  return new Map((JSON.parse(r.stdout) as { items: Pod[] }).items.map((p) => [p.metadata!.name!, p]));
}
const ready = (p: Pod | undefined): boolean => !!p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

async function main(): Promise<void> {
  const cli = [process.execPath, await buildPackage()];
  // The harness registers its cleanup like a test's t.after; here it runs at the end of the bench.
  const after = ((fn: () => Promise<void>) => { cleanups.push(fn); }) as unknown as TestContext['after'];
  const ms = await createMachines({ after }, 3, { cli });
  const [m1, m2, m3] = ms.list as [typeof ms.list[0], typeof ms.list[0], typeof ms.list[0]];
  const server = await ms.up(m1, ['--advertise-address', m1.ip, '--nodes', '2']);
  const k = server.kubectl;
  const [, , , url, , token] = server.record().joinCommand!.split(' ') as string[];

  // ---- 1. join → Ready ----
  const help: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await m2.cli(['--help']);
    help.push(performance.now() - t0);
  }
  const walls: number[] = [];
  const own: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const r = await ms.tryJoin(m2, ['--server', url!, '--token', token!, '--node-name', `b${i}`]);
    const wall = performance.now() - t0;
    if (r.code !== 0) throw new Error(`join ${i} failed:\n${r.stdout}\n${r.stderr}`);
    walls.push(wall);
    own.push(Number(/is Ready in (\d+) ms/.exec(r.stdout)?.[1] ?? NaN));
    await m2.cli(['down', '--name', r.name, '--state-dir', r.stateDir, '--purge']);
  }
  report({
    figure: 'clusterip join --detach on another machine until the node is Ready (wall, p50 of 5 fresh nodes)', value: median(walls), unit: 'ms',
    baseline: { name: 'clusterip --help (CLI start-up), p50', value: median(help), unit: 'ms' }, target: '< 3000 ms',
    max: Math.max(...walls), runs: walls.map(Math.round), daemonReadyMs: own, cli: 'node dist/cli/main.js (built by the bench)',
  });

  // ---- 2. cross-machine Pod → ClusterIP requests/s ----
  const n2 = await ms.join(m2, ['--server', url!, '--token', token!, '--node-name', 'm2']);
  const n3 = await ms.join(m3, ['--server', url!, '--token', token!, '--node-name', 'm3']);
  const busybox = (name: string, node: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] } });
  const objs = [
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', labels: { app: 'web' } }, spec: { nodeName: 'm2', containers: [{ name: 'nginx', image: 'nginx' }] } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } },
    busybox('same', 'm2'), busybox('cross', 'm3'), busybox('onserver', `${server.name}-node-0`),
    // The same comparison between two nodes of one machine (direct routes over its underlay, no VXLAN).
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web0', labels: { app: 'web0' } }, spec: { nodeName: `${server.name}-node-0`, containers: [{ name: 'nginx', image: 'nginx' }] } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web0' }, spec: { selector: { app: 'web0' }, ports: [{ port: 80 }] } },
    busybox('underlay', `${server.name}-node-1`),
  ];
  const a = await k(['apply', '-f', '-'], { input: objs.map((o) => JSON.stringify(o)).join('\n') });
  if (a.code !== 0) throw new Error(a.stderr);
  const ps = await until('the bench Pods Ready', 90_000, async () => {
    const p = await pods(k);
    return ['web', 'same', 'cross', 'onserver', 'web0', 'underlay'].every((n) => ready(p.get(n))) ? p : undefined;
  });
  const netnsOf = (pod: string, prefix: string) => podNetnsName(prefix, ps.get(pod)!.metadata!.uid!);
  const ns = {
    same: netnsOf('same', `cip-${n2.record().id}`), cross: netnsOf('cross', `cip-${n3.record().id}`),
    onserver: netnsOf('onserver', `cip-${server.record().id}`), underlay: netnsOf('underlay', `cip-${server.record().id}`),
  };
  const svcIP = (await k(['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).stdout.trim();
  const svc0IP = (await k(['get', 'svc', 'web0', '-o', 'jsonpath={.spec.clusterIP}'])).stdout.trim();
  await until('nginx answering through the ClusterIP from both clients', 30_000, async () =>
    (await run(['ip', 'netns', 'exec', ns.same, 'curl', '-sf', '-m', '2', `http://${svcIP}/`])).code === 0 &&
    (await run(['ip', 'netns', 'exec', ns.cross, 'curl', '-sf', '-m', '2', `http://${svcIP}/`])).code === 0);
  const wrk = async (netns: string, ip = svcIP): Promise<number> => {
    const out = await runOk(['ip', 'netns', 'exec', netns, 'wrk', '-t2', '-c16', '-d4s', `http://${ip}/`], { timeoutMs: 30_000 });
    return Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  };
  await until('nginx web0 answering', 30_000, async () => (await run(['ip', 'netns', 'exec', ns.underlay, 'curl', '-sf', '-m', '2', `http://${svc0IP}/`])).code === 0);
  const same: number[] = [];
  const cross: number[] = [];
  const same0: number[] = [];
  const underlay: number[] = [];
  for (let i = 0; i < 3; i++) {
    same.push(await wrk(ns.same)); cross.push(await wrk(ns.cross));
    same0.push(await wrk(ns.onserver, svc0IP)); underlay.push(await wrk(ns.underlay, svc0IP));
  }
  report({
    figure: 'Pod → ClusterIP requests/s across machines over VXLAN ÷ same node (nginx, wrk -t2 -c16 -d4s, medians of 3)', value: median(cross) / median(same), unit: 'ratio',
    baseline: { name: 'same-node requests/s', value: median(same), unit: 'req/s' }, target: '≥ 0.8',
    crossMachineRps: cross.map(Math.round), sameNodeRps: same.map(Math.round),
  });
  report({
    figure: 'For comparison: Pod → ClusterIP requests/s between two nodes of one machine (direct routes, no VXLAN) ÷ same node', value: median(underlay) / median(same0), unit: 'ratio',
    baseline: { name: 'same-node requests/s', value: median(same0), unit: 'req/s' },
    crossNodeRps: underlay.map(Math.round), sameNodeRps: same0.map(Math.round),
  });

  // ---- 3. in-cluster API call through 10.96.0.1 ----
  const caFile = join(server.stateDir, 'pki', 'ca.crt');
  const tokenFile = join(server.stateDir, 'pki', 'admin.token');
  const client = join(ROOT, 'bench', 'multimachine', 'api-client.mjs');
  const api = async (netns: string, target: string, n = 1000): Promise<{ p50: number; p99: number }> =>
    JSON.parse(await runOk(['ip', 'netns', 'exec', netns, process.execPath, client, target, 'kubernetes.default.svc', caFile, tokenFile, String(n)], { timeoutMs: 120_000 })) as { p50: number; p99: number };
  const nodeNs = `cip-${server.record().id}-n0`;
  // Short rounds, alternated: the other sessions on this machine come in bursts, and a burst should
  // land on both paths alike rather than on one path's single long round.
  const viaService: { p50: number; p99: number }[] = [];
  const direct: { p50: number; p99: number }[] = [];
  for (let i = 0; i < 8; i++) {
    viaService.push(await api(ns.onserver, 'https://10.96.0.1:443'));
    direct.push(await api(nodeNs, 'https://10.244.0.1:6443'));
  }
  const crossApi = await api(ns.cross, 'https://10.96.0.1:443', 2000);
  const p99s = viaService.map((x) => x.p99);
  const d99 = direct.map((x) => x.p99);
  report({
    figure: 'In-cluster API call from a Pod through 10.96.0.1 (keep-alive GET), p99 (median of 8 alternated rounds of 1,000 calls)', value: median(p99s), unit: 'ms',
    baseline: { name: 'the same calls from the node namespace to the API server\'s own address 10.244.0.1:6443, p99', value: median(d99), unit: 'ms' },
    target: '≤ 1.5× the baseline', ratio: median(p99s) / median(d99),
    p50: median(viaService.map((x) => x.p50)), baselineP50: median(direct.map((x) => x.p50)),
    roundsP99: p99s.map((x) => Math.round(x * 100) / 100), baselineRoundsP99: d99.map((x) => Math.round(x * 100) / 100),
    fromAnotherMachineOverVxlan: crossApi,
  });
  writeFileSync(join(work, 'done'), '');
}

const hard = setTimeout(() => { console.error('multimachine bench: over 9 minutes, giving up'); process.exit(2); }, 540_000);
main().then(async () => {
  for (const c of cleanups.reverse()) await c().catch((e: unknown) => console.error(`cleanup: ${(e as Error).message}`));
  rmSync(work, { recursive: true, force: true });
  clearTimeout(hard);
}, async (e: unknown) => {
  console.error(e);
  for (const c of cleanups.reverse()) await c().catch((err: unknown) => console.error(`cleanup: ${(err as Error).message}`));
  rmSync(work, { recursive: true, force: true });
  clearTimeout(hard);
  process.exitCode = 1;
});

/**
 * Network programming latency, full-sync cost and proxy memory, both backends in the same run.
 *
 * For S Services × 10 endpoints (S = 1k, 10k): the bench process holds the API (in-process core,
 * in-memory storage) and serves it over HTTP on a unix socket; the proxy runs in a child process
 * (proxy-child.ts, bundled JS as deployed) that reads the API through that socket, as the cluster
 * DNS process does. Per mode:
 * - full sync: from startProxy to the first transaction accepted by the kernel (lists included);
 * - RSS: VmRSS of the child after the full sync and a GC, with the same process before the proxy
 *   started as baseline (Node runtime + code);
 * - network programming latency: 200 times (or until a time budget is spent), replace one endpoint
 *   of a random Service through the API and time from the write to the moment the proxy reports
 *   the transaction containing the new endpoint as accepted by the kernel (the rules are live);
 *   the last change is then looked up in the kernel (`nft list table` / `iptables-save`);
 * - nftables at 10k, a diagnostic full sync with the machine's free memory pre-touched (see
 *   fullSyncWarmMemory);
 * - iptables only, the kernel's floor (after the proxy stopped, rules left in place): the latency
 *   of the smallest rule-adding transaction through a long-lived iptables-restore, with the nat
 *   OUTPUT jump and without it; and the proxy's full-sync transaction replayed alone into an empty
 *   namespace, its CPU time split into iptables-restore's own (user) and the kernel's (sys).
 * Rules-only: the node namespace is a bare scratch namespace.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { R } from '../../src/api/resources.js';
import { startApiServer } from '../../src/apiserver/http/server.js';
import { ensurePki } from '../../src/apiserver/pki/pki.js';
import type { ProxyMode } from '../../src/proxy/proxy.js';
import { mustRunInNetns, netnsSpawn, runInNetns } from '../../src/proxy/exec.js';
import { IptablesRestoreSession } from '../../src/proxy/iptables/session.js';
import { childCommand } from '../child-command.js';
import { epIp, makeTestApi, percentile, scratchNetns, sliceObj, svcIp, svcObj } from './common.js';
import { report } from '../report.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const CHANGES = 200;
/** Time budget for one change loop (iptables at 10k Services costs more per change). */
const CHANGE_BUDGET_MS = 30_000;
/** Rounds of 50 changes per side in the NodePort comparison (alternated). */
const NODEPORT_ROUNDS = 40;

const tmp = mkdtempSync(join(tmpdir(), 'cip-progbench-'));
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

const childCmd = childCommand(join(HERE, 'proxy-child.ts'), tmp);

/** VmRSS and VmHWM (peak) of a process in MiB. */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

interface Child { proc: ChildProcess; next<T>(phase: string): Promise<T> }

function startChild(socket: string, ns: string, mode: ProxyMode, fullTextFile?: string): Child {
  const proc = spawn(process.execPath, ['--expose-gc', ...childCmd, socket, ns, mode, ...(fullTextFile ? [fullTextFile] : [])], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  const next = <T>(phase: string): Promise<T> => new Promise((resolve, reject) => {
    const onMsg = (m: { phase: string }): void => {
      if (m.phase !== phase) return;
      proc.off('message', onMsg);
      proc.off('exit', onExit);
      resolve(m as T);
    };
    const onExit = (code: number | null): void => { proc.off('message', onMsg); reject(new Error(`proxy child exited (${code}) waiting for ${phase}`)); };
    proc.on('message', onMsg);
    proc.once('exit', onExit);
  });
  return { proc, next };
}

async function stopChild(c: Child): Promise<void> {
  if (c.proc.exitCode !== null || c.proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => c.proc.once('exit', () => r()));
  c.proc.send('stop');
  const timer = setTimeout(() => c.proc.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Whether the kernel sends `clusterIP` to `endpointIP`:8080. iptables: the Service's KUBE-SVC
 * chain found through KUBE-SERVICES (`iptables -S <chain>` reads one chain; iptables-save would
 * take minutes at 10k Services).
 */
async function liveInKernel(ns: string, mode: ProxyMode, clusterIP: string, endpointIP: string): Promise<boolean> {
  if (mode === 'nftables') {
    const r = await runInNetns(ns, ['nft', 'list', 'map', 'ip', 'clusterip', 'service-endpoints-tcp']);
    return r.stdout.includes(`${clusterIP} . tcp . 80 . `) && r.stdout.includes(`${endpointIP} . 8080`);
  }
  const services = await runInNetns(ns, ['iptables', '-w', '-t', 'nat', '-S', 'KUBE-SERVICES']);
  const chain = new RegExp(`-d ${clusterIP.replaceAll('.', '\\.')}/32 .* -j (KUBE-SVC-\\S+)`).exec(services.stdout)?.[1];
  if (!chain) return false;
  const svc = await runInNetns(ns, ['iptables', '-w', '-t', 'nat', '-S', chain]);
  return svc.stdout.includes(`${endpointIP}:8080`);
}

/**
 * Every iptables-nft transaction that adds a rule makes the kernel re-validate the whole nat table:
 * it walks every chain reachable from each base chain that jumps into KUBE-SERVICES (PREROUTING
 * and OUTPUT), whatever the transaction changed. The smallest such transaction — one rule in a
 * chain nothing jumps to — through the same kind of long-lived iptables-restore the proxy uses is
 * the floor under any incremental sync in this namespace. Measured as deployed, then without the
 * nat OUTPUT jump (one walk instead of two), to show where the floor comes from.
 */
async function iptablesKernelFloor(ns: string, label: string): Promise<void> {
  const session = new IptablesRestoreSession(netnsSpawn(ns));
  const rounds = async (): Promise<number[]> => {
    const ms: number[] = [];
    for (let i = 0; i < 60; i++) {
      const t = performance.now();
      await session.run(`*nat\n:KUBE-FLOOR - [0:0]\n-A KUBE-FLOOR -m comment --comment "round ${i}" -j RETURN\nCOMMIT\n`);
      if (i >= 10) ms.push(performance.now() - t); // the first rounds warm the process
      // Spaced like the endpoint changes above: the kernel frees a transaction's old rules after it.
      await new Promise((r) => setTimeout(r, 20));
    }
    return ms;
  };
  try {
    const both = await rounds();
    report({ figure: `iptables: kernel floor, smallest rule-adding transaction (one rule, unreferenced chain) through a long-lived iptables-restore, p99, ${label}`, value: percentile(both, 99), unit: 'ms', baseline: { name: 'p50', value: Number(percentile(both, 50).toFixed(2)) } });
    const jumps = (await mustRunInNetns(ns, ['iptables', '-w', '-t', 'nat', '-S', 'OUTPUT'])).split('\n').filter((l) => l.endsWith('-j KUBE-SERVICES'));
    for (const rule of jumps) await mustRunInNetns(ns, ['sh', '-c', `iptables -w -t nat ${rule.replace(/^-A /, '-D ')}`]);
    session.recycle();
    const one = await rounds();
    report({ figure: `iptables: kernel floor as above without the nat OUTPUT jump (diagnostic: one base chain walks the graph instead of two), p99, ${label}`, value: percentile(one, 99), unit: 'ms', baseline: { name: 'p50', value: Number(percentile(one, 50).toFixed(2)) } });
    console.error(`iptables ${label}: floor p50 ${percentile(both, 50).toFixed(2)} ms / p99 ${percentile(both, 99).toFixed(2)} ms; without the OUTPUT jump p50 ${percentile(one, 50).toFixed(2)} ms / p99 ${percentile(one, 99).toFixed(2)} ms`);
  } finally {
    await session.close();
  }
}

/**
 * The proxy's full-sync transaction replayed alone by `iptables-restore` into a fresh namespace
 * whose built-in chains already jump into KUBE-SERVICES (as the proxy sets them up), with the
 * CPU time of iptables-restore split into user (parsing, iptables-nft's caches) and sys (the
 * kernel building and validating the rules). `times` (a shell builtin) reports the child's CPU.
 */
async function iptablesFullSyncSplit(textFile: string, label: string): Promise<void> {
  const { ns, remove } = scratchNetns();
  try {
    await mustRunInNetns(ns, ['iptables-restore', '--noflush'], '*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-POSTROUTING - [0:0]\nCOMMIT\n');
    for (const [chain, target] of [['PREROUTING', 'KUBE-SERVICES'], ['OUTPUT', 'KUBE-SERVICES'], ['POSTROUTING', 'KUBE-POSTROUTING']]) {
      await mustRunInNetns(ns, ['iptables', '-w', '-t', 'nat', '-I', chain!, ...(target === 'KUBE-SERVICES' ? ['-d', '10.96.0.0/12'] : []), '-j', target!]);
    }
    const t = performance.now();
    const out = await mustRunInNetns(ns, ['sh', '-c', `iptables-restore --noflush -w < '${textFile}' && times`]);
    const wall = performance.now() - t;
    // `times`: the shell's user/sys, then its children's: "0m9.280s 0m4.440s".
    const m = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(out.trim());
    if (!m) throw new Error(`times printed ${JSON.stringify(out)}`);
    const user = (Number(m[1]) * 60 + Number(m[2])) * 1000;
    const sys = (Number(m[3]) * 60 + Number(m[4])) * 1000;
    report({ figure: `iptables: full-sync transaction replayed alone, kernel CPU time (sys), ${label}`, value: sys, unit: 'ms', baseline: { name: 'iptables-restore own CPU time (user), ms', value: Math.round(user) } });
    console.error(`iptables ${label}: full-sync text replayed alone: wall ${wall.toFixed(0)} ms, user ${user.toFixed(0)} ms, sys ${sys.toFixed(0)} ms`);
  } finally {
    remove();
  }
}

/**
 * This VM's host takes back guest memory that sits free, and the first touch of such a page costs
 * about three times a warm one (allocating 800 MB: 1.0 s of kernel time cold, 0.35 s warm). A full
 * sync allocates a few hundred MB (nft alone ~320 MB at 10k Services), so the figure above depends
 * on how warm the machine's free memory is. Diagnostic: the same full sync into a fresh namespace,
 * right after a helper process touched and freed 1.2 GB.
 */
async function fullSyncWarmMemory(mode: ProxyMode, services: number, socket: string, label: string): Promise<void> {
  const { ns, remove } = scratchNetns();
  const child = startChild(socket, ns, mode);
  try {
    await child.next('loaded');
    execFileSync(process.execPath, ['-e', 'Buffer.alloc(1200 << 20, 1)']); // filled with 1s: every page touched
    child.proc.send('start');
    const { fullMs, fullSyncMs } = await child.next<{ fullMs: number; fullSyncMs: number }>('synced');
    report({ figure: `${mode}: full sync, ${label}, free memory pre-touched (diagnostic for this VM, see method)`, value: fullMs, unit: 'ms' });
    console.error(`${mode} ${label}: full sync with free memory pre-touched ${fullMs.toFixed(0)} ms (sync itself ${fullSyncMs} ms)`);
  } finally {
    await stopChild(child);
    remove();
  }
}

async function runMode(mode: ProxyMode, services: number, socket: string, run: number): Promise<void> {
  const { ns, remove } = scratchNetns();
  const fullTextFile = mode === 'iptables' ? join(tmp, `full-${services}.iptables`) : undefined;
  const child = startChild(socket, ns, mode, fullTextFile);
  const label = `${services / 1000}k Services x 10 endpoints`;
  try {
    await child.next('loaded');
    await new Promise((r) => setTimeout(r, 300));
    const before = memoryOf(child.proc.pid!);
    child.proc.send('start');
    const { fullMs, fullSyncMs } = await child.next<{ fullMs: number; fullSyncMs: number }>('synced');
    await new Promise((r) => setTimeout(r, 300));
    const mem = memoryOf(child.proc.pid!);
    report({ figure: `${mode}: full sync, ${label} (proxy start to rules live)`, value: fullMs, unit: 'ms', anchor: 'kubernetes#135639: nftables full sync of 5k Services / 250k endpoints took 2m13s..13m15s',
      target: services >= 10_000 ? '< 3000 ms' : undefined });
    report({ figure: `${mode}: proxy process RSS after full sync, ${label}`, value: mem.rss, unit: 'MB', baseline: { name: 'same process before the proxy started (Node + code)', value: Number(before.rss.toFixed(1)) },
      target: services >= 10_000 ? '< 250 MB' : undefined });
    console.error(`${mode} ${label}: full sync ${fullMs.toFixed(0)} ms (of which the sync itself — plan + kernel — ${fullSyncMs} ms, the rest listing over HTTP); proxy RSS ${mem.rss.toFixed(1)} MB (peak ${mem.hwm.toFixed(1)} MB, before start ${before.rss.toFixed(1)} MB)`);

    child.proc.send({ changes: CHANGES, services, budgetMs: CHANGE_BUDGET_MS, run });
    const r = await child.next<{ latencies: number[]; syncMs: number[]; lastSvc: number; lastIp: string }>('changed');
    if (!await liveInKernel(ns, mode, svcIp(r.lastSvc), r.lastIp)) throw new Error(`${mode}: last change (s${r.lastSvc} -> ${r.lastIp}) not found in the kernel`);
    const n = r.latencies.length;
    const capped = n < CHANGES ? `, ${n} changes (the ${CHANGE_BUDGET_MS / 1000} s budget ended the run)` : `, ${n} changes`;
    report({ figure: `${mode}: network programming latency p99, endpoint change, ${label}${capped}`, value: percentile(r.latencies, 99), unit: 'ms', baseline: { name: 'p50', value: Number(percentile(r.latencies, 50).toFixed(2)) },
      anchor: 'kube-proxy nftables gce-100: p50 1.52 s, p99 6.82 s (PR #124272); default minSyncPeriod 1 s',
      target: services >= 10_000 ? '< 200 ms' : '< 30 ms' });
    console.error(`${mode} ${label}: ${n} changes, latency p50 ${percentile(r.latencies, 50).toFixed(2)} ms, p99 ${percentile(r.latencies, 99).toFixed(2)} ms, max ${Math.max(...r.latencies).toFixed(2)} ms; `
      + `sync (tracker fold + plan + kernel) p50 ${percentile(r.syncMs, 50)} ms, max ${Math.max(...r.syncMs)} ms (ms clock)`);
    await stopChild(child);
    if (mode === 'iptables') {
      await iptablesKernelFloor(ns, label);
      await iptablesFullSyncSplit(fullTextFile!, label);
    }
  } finally {
    await stopChild(child);
    remove(); // deleting the namespace drops every rule in it
  }
}

/**
 * Network programming with NodePort Services added: two APIs side by side — 1k ClusterIP Services,
 * and the same 1k plus 1k NodePort Services — each with a proxy child in its own namespace, both
 * synced and idle; then change loops alternate between them (40 rounds × 50 changes each), so
 * both see the same machine load over the run (this VM's load moves p99 by 2× between minutes),
 * and the pooled p99s are compared. The compared changes hit the same 1k ClusterIP Services on
 * both sides: what the NodePort Services cost everyone else. Changes of the NodePort Services
 * themselves (two maps to update: the ClusterIP's endpoints and the NodePort's) are measured
 * after, on the second side, and reported on their own.
 */
async function nodePortComparison(mode: ProxyMode, services: number, nodePorts: number): Promise<void> {
  const sides: { label: string; api: Awaited<ReturnType<typeof makeTestApi>>; server?: Awaited<ReturnType<typeof startApiServer>>; ns?: ReturnType<typeof scratchNetns>; child?: Child; total: number; latencies: number[]; syncMs: number[]; gcMs: number[] }[] = [
    { label: 'without', api: await makeTestApi(), total: services, latencies: [], syncMs: [], gcMs: [] },
    { label: 'with', api: await makeTestApi(), total: services + nodePorts, latencies: [], syncMs: [], gcMs: [] },
  ];
  try {
    for (const [k, side] of sides.entries()) {
      for (let i = 0; i < side.total; i++) {
        const s = svcObj('default', `s${i}`, svcIp(i));
        if (i >= services) s.spec = { ...s.spec!, type: 'NodePort', externalTrafficPolicy: 'Cluster' };
        await side.api.client.create(R.services, 'default', s);
        await side.api.client.create(R.endpointslices, 'default', sliceObj('default', `s${i}`, Array.from({ length: 10 }, (_, j) => epIp(i, j))));
      }
      const socket = join(tmp, `api-np-${k}.sock`);
      side.server = await startApiServer({ client: side.api.client, pki: await ensurePki(join(tmp, `pki-np-${k}`)), listen: null, unixSocket: socket, log: () => {} });
      side.ns = scratchNetns();
      side.child = startChild(socket, side.ns.ns, mode);
      await side.child.next('loaded');
      side.child.proc.send('start');
      await side.child.next('synced');
    }
    // 40 rounds × 50: 2000 changes a side, so the p99 is the 20th-slowest change. With 200 (the 2nd
    // slowest) the ratio of the p99s of identical code swung 0.79–1.38 between runs on the loaded VM.
    for (let round = 0; round < NODEPORT_ROUNDS; round++) {
      for (const side of round % 2 ? [...sides].reverse() : sides) {
        side.child!.proc.send({ changes: 50, services, budgetMs: CHANGE_BUDGET_MS, run: 10 + round });
        const r = await side.child!.next<{ latencies: number[]; syncMs: number[]; gcMs: number[] }>('changed');
        side.latencies.push(...r.latencies);
        side.syncMs.push(...r.syncMs);
        side.gcMs.push(...r.gcMs);
      }
    }
    const [plain, np] = sides.map((x) => x.latencies);
    const label = `${services / 1000}k ClusterIP Services`;
    sides[1]!.child!.proc.send({ changes: 200, services: nodePorts, from: services, budgetMs: CHANGE_BUDGET_MS, run: 9 });
    const own = await sides[1]!.child!.next<{ latencies: number[] }>('changed');
    report({ figure: `${mode}: network programming p99, endpoint change of a NodePort Service (${own.latencies.length} changes; ${label} + ${nodePorts / 1000}k NodePort Services)`, value: percentile(own.latencies, 99), unit: 'ms', baseline: { name: 'p50', value: Number(percentile(own.latencies, 50).toFixed(2)) } });
    report({ figure: `${mode}: network programming p99, endpoint change of a ClusterIP Service, ${label} + ${nodePorts / 1000}k NodePort Services (${np!.length} changes, alternated with the run without)`, value: percentile(np!, 99), unit: 'ms', baseline: { name: 'p50', value: Number(percentile(np!, 50).toFixed(2)) } });
    report({ figure: `${mode}: network programming p99 with ${nodePorts / 1000}k NodePort Services added / without, ${label} (same run, alternated)`, value: percentile(np!, 99) / percentile(plain!, 99), unit: 'ratio',
      baseline: { name: 'p99 without the NodePort Services (ms)', value: Number(percentile(plain!, 99).toFixed(2)) }, target: mode === 'nftables' ? '<= 1.10' : undefined });
    report({ figure: `${mode}: network programming p50 with ${nodePorts / 1000}k NodePort Services added / without, ${label} (same run, alternated)`, value: percentile(np!, 50) / percentile(plain!, 50), unit: 'ratio',
      baseline: { name: 'p50 without the NodePort Services (ms)', value: Number(percentile(plain!, 50).toFixed(2)) } });
    const syncs = sides.map((x) => `sync p50 ${percentile(x.syncMs, 50)} / p90 ${percentile(x.syncMs, 90)} / max ${Math.max(...x.syncMs)} ms; `
      + `proxy process GC: ${x.gcMs.length} pauses, ${x.gcMs.reduce((a, b) => a + b, 0).toFixed(0)} ms, max ${Math.max(0, ...x.gcMs).toFixed(1)} ms`);
    console.error(`${mode} ${label}: without NodePorts p50 ${percentile(plain!, 50).toFixed(2)} / p99 ${percentile(plain!, 99).toFixed(2)} ms (${syncs[0]}); with ${nodePorts} NodePort Services p50 ${percentile(np!, 50).toFixed(2)} / p99 ${percentile(np!, 99).toFixed(2)} ms (${syncs[1]})`);
  } finally {
    for (const side of sides) {
      if (side.child) await stopChild(side.child);
      side.ns?.remove();
      await side.server?.close();
      await side.api.close();
    }
  }
}

for (const services of (process.env.BENCH_SIZES ?? '1000,10000').split(',').map(Number)) {
  const api = await makeTestApi();
  const pki = await ensurePki(join(tmp, `pki-${services}`));
  const socket = join(tmp, `api-${services}.sock`);
  const server = await startApiServer({ client: api.client, pki, listen: null, unixSocket: socket, log: () => {} });
  try {
    for (let i = 0; i < services; i++) {
      await api.client.create(R.services, 'default', svcObj('default', `s${i}`, svcIp(i)));
      await api.client.create(R.endpointslices, 'default', sliceObj('default', `s${i}`, Array.from({ length: 10 }, (_, j) => epIp(i, j))));
    }
    const modes = (process.env.BENCH_MODES ?? 'nftables,iptables').split(',') as ProxyMode[];
    for (const [run, mode] of modes.entries()) await runMode(mode, services, socket, run);
    if (services >= 10_000 && modes.includes('nftables')) await fullSyncWarmMemory('nftables', services, socket, `${services / 1000}k Services x 10 endpoints`);
    // BENCH_NODEPORTS=0 skips; the comparison runs at 1k Services (the figure).
    const nodePorts = Number(process.env.BENCH_NODEPORTS ?? 1000);
    if (nodePorts > 0 && services === 1000) for (const mode of modes) await nodePortComparison(mode, services, nodePorts);
  } finally {
    await server.close();
    await api.close();
  }
}

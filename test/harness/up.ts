/**
 * Harness for whole-product end-to-end tests: a fresh `clusterip up --detach` (the real CLI, real
 * kernel, real Pods) with a unique name, a private state dir, API port 0 and its own kubeconfig;
 * `clusterip down --purge` in t.after, also when the test fails, then a leak check.
 */
import type { TestContext } from 'node:test';
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { readRecord, type ClusterRecord } from '../../src/cluster/state.js';
import { listNetns, inNetns } from '../../src/sys/netns.js';
import { topologyNames } from '../../src/cluster/topology.js';
import { kubectlRunner, type KubectlRunner } from './kubectl.js';
import { netnsInode, processesInNetns, processesMentioning } from '../../src/node/testing/harness.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

export interface UpCluster {
  name: string;
  dir: string;
  stateDir: string;
  record: ClusterRecord;
  kubectl: KubectlRunner;
  /** Runs the clusterip CLI (e.g. ['outside', '--', 'wget', ...]). */
  cli(args: string[], opts?: { timeoutMs?: number }): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Runs a command inside node 0's network namespace (never on the host). */
  onNode(cmd: string, args: string[]): Promise<string>;
  file(name: string, content: string): Promise<string>;
  /** `clusterip down` (objects kept) then `clusterip up` again with the same name and state. */
  restart(): Promise<void>;
  /**
   * `clusterip up` again with the same flags and no `down` first (after the daemon was killed);
   * resolves with the new cluster record once the CLI says the cluster is ready.
   */
  upAgain(): Promise<ClusterRecord>;
  down(): Promise<void>;
}

export function runCli(args: string[], opts: { timeoutMs?: number; env?: Record<string, string>; uid?: number; gid?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), ...args], {
      cwd: ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'], uid: opts.uid, gid: opts.gid,
    });
    let stdout = ''; let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    child.on('close', (code) => { clearTimeout(timer); res({ code: code ?? -1, stdout, stderr }); });
  });
}

/** Starts a cluster with the real CLI; everything is removed in t.after. */
export async function upCluster(t: Pick<TestContext, 'after'>, opts: { nodes?: number; proxyMode?: string; extraArgs?: string[] } = {}): Promise<UpCluster> {
  const name = `e2e-${randomBytes(3).toString('hex')}`;
  const dir = await mkdtemp(join(tmpdir(), `cip-${name}-`));
  const stateDir = join(dir, 'state');
  const kubeconfig = join(dir, 'kubeconfig');
  const home = join(dir, 'home');
  await mkdir(home, { recursive: true });
  const kubectl = kubectlRunner(home, kubeconfig);
  const base = ['--name', name, '--state-dir', stateDir];
  let downed = false;
  const down = async (): Promise<void> => {
    if (downed) return;
    downed = true;
    kubectl.killAll();
    // Every namespace the cluster has now (nodes, Pods, underlay): after `down`, no process may be
    // left in any of them, whatever its command line (a daemonized container escapes its group).
    const prefix = `cip-${record?.id ?? 'none'}-`;
    const inodes = new Set((await listNetns()).filter((n) => n.startsWith(prefix)).map(netnsInode).filter((i): i is number => i !== undefined));
    // For debugging a failed run: CIP_E2E_LOG_DIR=<dir> keeps each cluster's daemon log there.
    if (process.env.CIP_E2E_LOG_DIR) await copyFile(join(stateDir, 'daemon.log'), join(process.env.CIP_E2E_LOG_DIR, `${name}.log`)).catch(() => undefined);
    await runCli(['down', ...base, '--purge']);
    const left = (await listNetns()).filter((n) => n.startsWith(prefix));
    const leftProcs = (): number[] => [...new Set([...processesInNetns(inodes, prefix), ...processesMentioning(dir)])];
    // A process SIGKILLed by `down` a moment ago may still be on its way out: give it 2 s.
    let procs = leftProcs();
    for (let i = 0; procs.length > 0 && i < 40; i++) {
      await new Promise((r) => setTimeout(r, 50));
      procs = leftProcs();
    }
    for (const p of procs) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
    await rm(dir, { recursive: true, force: true });
    if (left.length) throw new Error(`clusterip down left network namespaces behind: ${left.join(', ')}`);
    const groups = `/sys/fs/cgroup/cpuacct/clusterip/${prefix.slice(0, -1)}`;
    if (existsSync(groups)) throw new Error(`clusterip down left cpuacct groups behind: ${groups}`);
    if (procs.length) throw new Error(`clusterip down left processes behind: ${procs.join(', ')}`);
  };
  let record: ClusterRecord | undefined;
  t.after(down);
  const args = ['up', ...base, '--api-port', '0', '--kubeconfig', kubeconfig, '--detach'];
  if (opts.nodes) args.push('--nodes', String(opts.nodes));
  if (opts.proxyMode) args.push('--proxy-mode', opts.proxyMode);
  if (opts.extraArgs) args.push(...opts.extraArgs);
  // Tests never reach a public registry: only the catalog, unless a test asks for images itself;
  // and a test's pulls go to a store of its own, removed with it.
  if (!args.includes('--images')) args.push('--images', 'catalog');
  if (!args.includes('--image-store')) args.push('--image-store', join(dir, 'images'));
  const start = async (): Promise<void> => {
    const r = await runCli(args, { timeoutMs: 90_000 });
    if (r.code !== 0) throw new Error(`clusterip up failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    record = readRecord(stateDir)!;
  };
  await start();
  const names = topologyNames(record!.id);
  return {
    name, dir, stateDir, record: record!, kubectl, down,
    upAgain: async () => { await start(); return record!; },
    restart: async () => {
      const d = await runCli(['down', ...base]);
      if (d.code !== 0) throw new Error(`clusterip down failed: ${d.stdout}${d.stderr}`);
      await start();
    },
    cli: (a, o) => runCli([...a.slice(0, 1), ...base, ...a.slice(1)], o),
    onNode: (cmd, a) => inNetns(names.node(0), cmd, a),
    file: async (n, content) => { const p = join(dir, n); await writeFile(p, content); return p; },
  };
}

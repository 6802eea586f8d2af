/**
 * "Machines" for multi-machine tests on one host: each machine is a network namespace this harness
 * creates (`cip-m<hex>-m<i>`, address 192.168.77.<i>/24 on `eth0`), joined to the others only by a
 * bridge in an underlay namespace (`cip-m<hex>-u`) — what a LAN is to real hosts. Each machine runs
 * its own clusterip processes (started with `nsenter --net`, so they see only that machine's
 * network: their listeners, the embedded etcd and the overlay's UDP socket live there), with its own
 * state root (machine index) and state directories: the machines share no files. Nothing is added
 * to the host's own namespace.
 *
 * Everything is removed in t.after, also when the test fails: `clusterip down --purge` for every
 * cluster and node started, then the machine namespaces, then a leak check (no namespace of any of
 * them left, no process left inside any).
 */
import type { TestContext } from 'node:test';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { readRecord, type ClusterRecord } from '../../src/cluster/state.js';
import { run, runOk } from '../../src/sys/command.js';
import { listNetns } from '../../src/sys/netns.js';
import { netnsInode } from '../../src/node/testing/harness.js';
import { kubectlRunner, type KubectlRunner } from './kubectl.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

export interface CliResult { code: number; stdout: string; stderr: string }

/** One machine. */
export interface Machine {
  readonly index: number;
  readonly netns: string;
  /** Its address on the underlay. */
  readonly ip: string;
  /** This machine's state root (machine index) and a place for its state directories. */
  readonly root: string;
  /** Runs the clusterip CLI on this machine. */
  cli(args: string[], opts?: { timeoutMs?: number }): Promise<CliResult>;
  /** Runs a command on this machine (inside its namespace). */
  exec(argv: string[], opts?: { timeoutMs?: number }): Promise<CliResult>;
}

/** A cluster (`up`) or node (`join`) started on a machine. */
export interface Started {
  machine: Machine;
  name: string;
  stateDir: string;
  record(): ClusterRecord;
}

export interface Machines {
  readonly list: readonly Machine[];
  /** Short random tag of this run (in every name it makes). */
  readonly tag: string;
  dir: string;
  /** `clusterip up --detach` on machine `m` with `args`; returns the server and a kubectl that runs on that machine. */
  up(m: Machine, args: string[]): Promise<Started & { kubectl: KubectlRunner; kubeconfig: string }>;
  /** `clusterip join --detach` on machine `m`; rejects with the CLI's output when it fails (see `tryJoin`). */
  join(m: Machine, args: string[]): Promise<Started>;
  /** `clusterip join` that may fail: the CLI's result, with the local name used. */
  tryJoin(m: Machine, args: string[]): Promise<CliResult & { name: string; stateDir: string }>;
  /** SIGKILLs the daemon of `s` (a machine's process dying with it, as far as the cluster can tell). */
  kill(s: Started): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const readdirSyncSafe = (d: string): string[] => { try { return readdirSync(d); } catch { return []; } };

function runIn(netns: string, argv: string[], env: Record<string, string>, timeoutMs: number): Promise<CliResult> {
  return new Promise((res) => {
    const child = spawn('nsenter', [`--net=/run/netns/${netns}`, '--', ...argv], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = ''; let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    child.on('close', (code) => { clearTimeout(timer); res({ code: code ?? -1, stdout, stderr }); });
  });
}

/**
 * Creates `count` machines (1-based: machine 1 is 192.168.77.1). `cli` is how the clusterip CLI is
 * started (default `node --import tsx src/cli/main.ts`, as the e2e harness does; benches pass the
 * built `dist/cli/main.js`).
 */
export async function createMachines(t: Pick<TestContext, 'after'>, count: number, opts: { cli?: string[] } = {}): Promise<Machines> {
  const cliArgv = opts.cli ?? [process.execPath, '--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts')];
  const tag = randomBytes(3).toString('hex');
  const prefix = `cip-m${tag}`;
  const dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
  const started: Started[] = [];
  const underlay = `${prefix}-u`;
  const list: Machine[] = [];
  let inodes = new Set<number>();

  t.after(async () => {
    // Processes inside the machines' namespaces and every namespace the clusters made.
    const ids = started.map((s) => { try { return s.record().id; } catch { return undefined; } }).filter((x): x is string => !!x);
    const theirs = (await listNetns()).filter((n) => ids.some((id) => n.startsWith(`cip-${id}-`)) || n.startsWith(prefix));
    inodes = new Set(theirs.map(netnsInode).filter((i): i is number => i !== undefined));
    for (const s of [...started].reverse()) {
      await s.machine.cli(['down', '--name', s.name, '--state-dir', s.stateDir, '--purge'], { timeoutMs: 60_000 });
    }
    const left = (await listNetns()).filter((n) => ids.some((id) => n.startsWith(`cip-${id}-`)));
    for (const m of list) for (const pid of (await run(['ip', 'netns', 'pids', m.netns])).stdout.split('\n').map(Number).filter((p) => p > 1)) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    for (const n of [...list.map((m) => m.netns), underlay]) await run(['ip', 'netns', 'delete', n]);
    // Inodes of freed namespaces are reused: one that another test's namespace now has is not ours.
    const mine = (n: string): boolean => n.startsWith(prefix) || ids.some((id) => n.startsWith(`cip-${id}-`));
    const leftIn = (): number[] => {
      const still = new Set(inodes);
      for (const n of readdirSyncSafe('/run/netns')) if (!mine(n)) { const i = netnsInode(n); if (i !== undefined) still.delete(i); }
      const out: number[] = [];
      for (const d of readdirSyncSafe('/proc')) {
        if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
        try {
          const m = /^net:\[(\d+)\]$/.exec(readlinkSync(`/proc/${d}/ns/net`));
          if (m && still.has(Number(m[1]))) out.push(Number(d));
        } catch { /* gone */ }
      }
      return out;
    };
    let procs = leftIn();
    for (let i = 0; procs.length > 0 && i < 40; i++) { await sleep(50); procs = leftIn(); }
    const described = procs.map((p) => { try { return `${p} (${readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ').trim().slice(0, 120)})`; } catch { return String(p); } });
    for (const p of procs) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
    await rm(dir, { recursive: true, force: true });
    if (left.length) throw new Error(`clusterip down left network namespaces behind: ${left.join(', ')}`);
    const groups = ids.map((id) => `/sys/fs/cgroup/cpuacct/clusterip/cip-${id}`).filter((g) => existsSync(g));
    if (groups.length) throw new Error(`clusterip down left cpuacct groups behind: ${groups.join(', ')}`);
    if (procs.length) throw new Error(`processes were left in the clusters' namespaces: ${described.join(', ')}`);
  });

  await runOk(['ip', 'netns', 'add', underlay]);
  await runOk(['ip', '-n', underlay, '-batch', '-'], { input: 'link set lo up\nlink add br0 type bridge\nlink set br0 up\n' });
  for (let i = 1; i <= count; i++) {
    const netns = `${prefix}-m${i}`;
    const ip = `192.168.77.${i}`;
    await runOk(['ip', 'netns', 'add', netns]);
    await runOk(['ip', '-n', underlay, 'link', 'add', `m${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
    await runOk(['ip', '-n', underlay, 'link', 'set', `m${i}`, 'master', 'br0', 'up']);
    await runOk(['ip', '-n', netns, '-batch', '-'], { input: `link set lo up\naddr add ${ip}/24 dev eth0\nlink set eth0 up\n` });
    const root = join(dir, `m${i}`);
    await mkdir(root, { recursive: true });
    const env = { CLUSTERIP_STATE_ROOT: root };
    list.push({
      index: i, netns, ip, root,
      cli: (args, o) => runIn(netns, [...cliArgv, ...args], env, o?.timeoutMs ?? 90_000),
      exec: (argv, o) => runIn(netns, argv, env, o?.timeoutMs ?? 30_000),
    });
  }

  const track = (machine: Machine, name: string, stateDir: string): Started => {
    const s: Started = { machine, name, stateDir, record: () => readRecord(stateDir)! };
    started.push(s);
    return s;
  };
  // A counter, not a random suffix: one random byte let a good join reuse the name (and state dir)
  // of a refused one now and then, so 'a refused join left a namespace' failed on the good one's.
  let joins = 0;
  const tryJoin = async (m: Machine, args: string[]) => {
    const name = `j${tag}${m.index}x${++joins}`;
    const stateDir = join(m.root, name);
    track(m, name, stateDir);
    const r = await m.cli(['join', '--name', name, '--state-dir', stateDir, '--detach', ...args]);
    return { ...r, name, stateDir };
  };
  return {
    list, tag, dir,
    async up(m, args) {
      const name = `s${tag}${m.index}`;
      const stateDir = join(m.root, name);
      const kubeconfig = join(m.root, `${name}.kubeconfig`);
      const home = join(m.root, `${name}-home`);
      await mkdir(home, { recursive: true });
      const s = track(m, name, stateDir);
      const r = await m.cli(['up', '--name', name, '--state-dir', stateDir, '--api-port', '0', '--kubeconfig', kubeconfig, '--detach', ...args]);
      if (r.code !== 0) throw new Error(`clusterip up on machine ${m.index} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
      return { ...s, kubeconfig, kubectl: kubectlRunner(home, kubeconfig, { netns: m.netns }) };
    },
    async join(m, args) {
      const r = await tryJoin(m, args);
      if (r.code !== 0) throw new Error(`clusterip join on machine ${m.index} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
      return started.find((s) => s.name === r.name)!;
    },
    tryJoin,
    async kill(s) {
      const pid = s.record().pid!;
      process.kill(pid, 'SIGKILL');
      // Gone, or a zombie waiting to be reaped by whoever adopted it (it runs nothing any more).
      const dead = (): boolean => {
        try { return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').startsWith('Z'); } catch { return true; }
      };
      for (let i = 0; i < 100 && !dead(); i++) await sleep(20);
    },
  };
}

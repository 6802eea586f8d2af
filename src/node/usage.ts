/**
 * Resource accounting of a node's containers. A container's processes are the session its main
 * process leads (the runtime starts each container in its own session).
 *
 * CPU: each container is placed, on first sight, in a cgroup v1 `cpuacct` group of its own
 * (`/sys/fs/cgroup/cpuacct/clusterip/<id>/<node>/<pod uid>-<container>-<pid>`; cpuacct only counts,
 * it limits nothing), whose `cpuacct.usage` counts every process the container ever runs —
 * including short-lived children that a parent ignoring SIGCHLD never waits for (busybox nc -e,
 * httpd workers), whose time /proc would lose. The CPU time spent before placement is taken from
 * /proc (utime + stime + cutime + cstime of the session). Where cpuacct is not available, /proc
 * alone is used. Memory: the sum of the session's resident sets (no memory cgroups are touched).
 * The node's figures are the machine's (/proc/stat, /proc/meminfo), as a kubelet reports its
 * machine: every clusterip node shares one. Counters are kept monotonic per container instance.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import type { ContainerUsage, NodeUsageSample, PodUsage } from '../api/usage.js';

/**
 * sysconf(_SC_CLK_TCK) and sysconf(_SC_PAGESIZE), as `getconf` prints them. The kernel hands both to
 * every process in its auxiliary vector (AT_CLKTCK = 17, AT_PAGESZ = 6; pairs of native words in
 * /proc/self/auxv), which is where sysconf reads them; reading it here spares two `getconf`
 * processes, run synchronously when this module was loaded — on `clusterip up`'s path (bench/cluster).
 * `getconf` stays the fallback for a vector this cannot read.
 */
function sysconf(type: number, name: string, fallback: number): number {
  try {
    const auxv = readFileSync('/proc/self/auxv');
    if (auxv.length % 16 === 0) {
      const read = (o: number): bigint => (endianness() === 'LE' ? auxv.readBigUInt64LE(o) : auxv.readBigUInt64BE(o));
      for (let o = 0; o + 16 <= auxv.length; o += 16) {
        const t = read(o);
        if (t === 0n) break;
        if (t === BigInt(type)) return Number(read(o + 8)) || fallback;
      }
    }
  } catch { /* no /proc/self/auxv: ask getconf */ }
  try { return Number(execFileSync('getconf', [name], { encoding: 'utf8' }).trim()) || fallback; } catch { return fallback; }
}
let clkTck: number | undefined;
let page: number | undefined;
/** Clock ticks per second (USER_HZ) of /proc figures; asked for once, on first use. */
export const clockTicks = (): number => (clkTck ??= sysconf(17, 'CLK_TCK', 100));
/** Bytes per page of /proc figures. */
export const pageSize = (): number => (page ??= sysconf(6, 'PAGESIZE', 4096));

/** One process as /proc/<pid>/stat shows it. */
export interface ProcStat {
  pid: number;
  session: number;
  /** utime + stime + cutime + cstime, in clock ticks. */
  ticks: number;
  /** Resident set in pages. */
  rss: number;
  /** Start time after boot, in clock ticks. */
  start: number;
}

/** Parses /proc/<pid>/stat (the command name may contain spaces and parentheses). */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const pid = Number(text.slice(0, text.indexOf(' ')));
  const f = text.slice(close + 2).split(' ');
  // f[0] is field 3 (state): field N is f[N - 3].
  const n = (i: number): number => Number(f[i - 3]);
  return { pid, session: n(6), ticks: n(14) + n(15) + n(16) + n(17), rss: n(24), start: n(22) };
}

/** Every process's stat, grouped by session id. */
export function scanSessions(): Map<number, ProcStat[]> {
  const out = new Map<number, ProcStat[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let s: ProcStat | undefined;
    try { s = parseProcStat(readFileSync(`/proc/${d}/stat`, 'utf8')); } catch { continue; }
    if (!s) continue;
    const list = out.get(s.session) ?? [];
    list.push(s);
    out.set(s.session, list);
  }
  return out;
}

/** The machine's CPU time in use (non-idle, core-seconds since boot) and memory working set. */
export function machineUsage(): { cpuSeconds: number; memoryBytes: number } {
  let cpuSeconds = 0, memoryBytes = 0;
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
    cpuSeconds = (cpu.slice(0, 8).reduce((a, b) => a + b, 0) - (cpu[3] ?? 0) - (cpu[4] ?? 0)) / clockTicks();
  } catch { /* leave 0 */ }
  try {
    const mi = readFileSync('/proc/meminfo', 'utf8');
    const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(mi)?.[1] ?? 0) * 1024;
    memoryBytes = kb('MemTotal') - kb('MemAvailable');
  } catch { /* leave 0 */ }
  return { cpuSeconds, memoryBytes };
}

/**
 * A running container as the agent knows it: its main process leads the container's session. A
 * runtime that keeps a container in cgroups of its own (the OCI runtime) gives its counters as
 * `stats`; such a container is then neither scanned nor moved into a cpuacct group of ours.
 */
export interface ContainerProcess { name: string; pid: number; stats?: { cpuNanos: number; memoryWorkingSetBytes: number } }

/** Where cgroup v1's cpuacct hierarchy is mounted (absent on cgroup-v2-only machines). */
const CPUACCT_ROOT = '/sys/fs/cgroup/cpuacct';

/**
 * Removes the cpuacct groups of every node of a cluster (`idPrefix`, e.g. `cip-1a2b3c4d`) that are
 * empty — what a killed daemon's agents could not remove (`clusterip down` and a new `up` call it).
 * Groups that still hold processes stay.
 */
export function removeUsageGroups(idPrefix: string): boolean {
  const top = join(CPUACCT_ROOT, 'clusterip', idPrefix);
  if (!existsSync(top)) return true;
  const remove = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) remove(join(dir, e.name));
    try { rmdirSync(dir); } catch { /* not empty: processes still there */ }
  };
  try { remove(top); } catch { /* gone meanwhile */ }
  return !existsSync(top);
}

/** Turns scans into container usage, keeping each container instance's CPU counter monotonic. */
export class UsageAccountant {
  private readonly last = new Map<string, number>();
  /** Per container instance: its cpuacct group and the /proc ticks it had spent before joining it. */
  private readonly groups = new Map<string, { dir: string; before: number }>();
  private bootTime = 0;
  private readonly base?: string;

  /** `scope` names this agent's cpuacct groups (`<id prefix>/<node>`); without it, /proc alone. */
  constructor(scope?: string) {
    try { this.bootTime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1] ?? 0); } catch { this.bootTime = 0; }
    if (scope && existsSync(join(CPUACCT_ROOT, 'cpuacct.usage'))) {
      this.base = join(CPUACCT_ROOT, 'clusterip', scope);
      try {
        mkdirSync(this.base, { recursive: true });
        // Groups an earlier agent left: the empty ones go (a live container's is found again by name).
        for (const d of readdirSync(this.base)) { try { rmdirSync(join(this.base, d)); } catch { /* in use */ } }
      } catch {
        this.base = undefined;
      }
    }
  }

  /** The container's cpuacct group, made and joined by its session on first sight; undefined without cpuacct. */
  private groupOf(key: string, name: string, procs: readonly ProcStat[], ticks: number): { dir: string; before: number } | undefined {
    if (!this.base) return undefined;
    let g = this.groups.get(key);
    if (g) return g;
    const dir = join(this.base, name.replace(/[^A-Za-z0-9_.-]/g, '_'));
    try {
      const fresh = !existsSync(dir);
      mkdirSync(dir, { recursive: true });
      for (const p of procs) { try { writeFileSync(join(dir, 'cgroup.procs'), String(p.pid)); } catch { /* exited meanwhile */ } }
      // A group found again (agent restart) has counted everything since it was made.
      g = { dir, before: fresh ? ticks : 0 };
      this.groups.set(key, g);
      return g;
    } catch {
      return undefined;
    }
  }

  /** Removes every group of this agent (they are empty once its containers are gone). */
  close(): void {
    for (const g of this.groups.values()) { try { rmdirSync(g.dir); } catch { /* still in use */ } }
    this.groups.clear();
    if (this.base) {
      // This node's group, then the cluster's once its last node is done.
      try { rmdirSync(this.base); rmdirSync(join(this.base, '..')); } catch { /* not empty */ }
    }
  }

  /** The usage of `pods`' containers from one scan (`sessions`, from `scanSessions`). */
  sample(node: string, pods: readonly { namespace: string; name: string; uid: string; containers: readonly ContainerProcess[] }[], sessions = scanSessions()): NodeUsageSample {
    const out: PodUsage[] = [];
    const seen = new Set<string>();
    for (const p of pods) {
      const containers: ContainerUsage[] = [];
      for (const c of p.containers) {
        if (c.stats) {
          let start: number | undefined;
          try { start = parseProcStat(readFileSync(`/proc/${c.pid}/stat`, 'utf8'))?.start; } catch { continue; }
          containers.push({
            name: c.name, cpuSeconds: Math.round(c.stats.cpuNanos / 1e3) / 1e6, memoryBytes: c.stats.memoryWorkingSetBytes,
            ...(this.bootTime && start !== undefined ? { startTime: this.bootTime + start / clockTicks() } : {}),
          });
          continue;
        }
        const procs = sessions.get(c.pid) ?? [];
        const leader = procs.find((x) => x.pid === c.pid);
        if (!leader) continue;
        const key = `${p.uid}/${c.name}/${c.pid}/${leader.start}`;
        seen.add(key);
        const procTicks = procs.reduce((a, x) => a + x.ticks, 0);
        const g = this.groupOf(key, `${p.uid.slice(0, 8)}-${c.name}-${c.pid}`, procs, procTicks);
        let ticks = procTicks;
        if (g) {
          try { ticks = g.before + Number(readFileSync(join(g.dir, 'cpuacct.usage'), 'utf8')) / 1e9 * clockTicks(); } catch { /* /proc figure */ }
        }
        ticks = Math.max(this.last.get(key) ?? 0, ticks);
        this.last.set(key, ticks);
        containers.push({
          name: c.name, cpuSeconds: Math.round((ticks / clockTicks()) * 1e6) / 1e6, memoryBytes: procs.reduce((a, x) => a + x.rss, 0) * pageSize(),
          ...(this.bootTime ? { startTime: this.bootTime + leader.start / clockTicks() } : {}),
        });
      }
      if (containers.length) out.push({ namespace: p.namespace, name: p.name, containers });
    }
    for (const k of [...this.last.keys()]) if (!seen.has(k)) this.last.delete(k);
    for (const [k, g] of [...this.groups]) {
      if (seen.has(k)) continue;
      try { rmdirSync(g.dir); this.groups.delete(k); } catch { /* processes still leaving: next time */ }
    }
    return { node, at: Date.now(), ...machineUsage(), pods: out };
  }
}

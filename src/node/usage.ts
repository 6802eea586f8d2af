/**
 * Resource accounting of a node's containers from /proc (cgroups here are hybrid v1 with no
 * per-container groups, so the kernel's per-process accounting is the source): a container's
 * processes are the session its main process leads (the runtime starts each container in its own
 * session), its CPU time the utime + stime of those processes plus the cutime + cstime of the
 * children they have reaped (so work done by short-lived children, such as httpd's per-request
 * workers, counts), its memory the sum of their resident sets. The node's figures are the machine's
 * (/proc/stat, /proc/meminfo), as a kubelet reports its machine: every clusterip node shares one.
 *
 * Counters are kept monotonic per container instance: a process that dies unreaped by the session
 * takes its time with it, and a counter must never go back.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import type { ContainerUsage, NodeUsageSample, PodUsage } from '../api/usage.js';

const CLK_TCK = ((): number => {
  try { return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { return 100; }
})();
const PAGE = ((): number => {
  try { return Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim()) || 4096; } catch { return 4096; }
})();

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
    cpuSeconds = (cpu.slice(0, 8).reduce((a, b) => a + b, 0) - (cpu[3] ?? 0) - (cpu[4] ?? 0)) / CLK_TCK;
  } catch { /* leave 0 */ }
  try {
    const mi = readFileSync('/proc/meminfo', 'utf8');
    const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(mi)?.[1] ?? 0) * 1024;
    memoryBytes = kb('MemTotal') - kb('MemAvailable');
  } catch { /* leave 0 */ }
  return { cpuSeconds, memoryBytes };
}

/** A running container as the agent knows it: its main process leads the container's session. */
export interface ContainerProcess { name: string; pid: number }

/** Turns scans into container usage, keeping each container instance's CPU counter monotonic. */
export class UsageAccountant {
  private readonly last = new Map<string, number>();
  private bootTime = 0;

  constructor() {
    try { this.bootTime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1] ?? 0); } catch { this.bootTime = 0; }
  }

  /** The usage of `pods`' containers from one scan (`sessions`, from `scanSessions`). */
  sample(node: string, pods: readonly { namespace: string; name: string; uid: string; containers: readonly ContainerProcess[] }[], sessions = scanSessions()): NodeUsageSample {
    const out: PodUsage[] = [];
    const seen = new Set<string>();
    for (const p of pods) {
      const containers: ContainerUsage[] = [];
      for (const c of p.containers) {
        const procs = sessions.get(c.pid) ?? [];
        const leader = procs.find((x) => x.pid === c.pid);
        if (!leader) continue;
        const key = `${p.uid}/${c.name}/${c.pid}/${leader.start}`;
        seen.add(key);
        const ticks = Math.max(this.last.get(key) ?? 0, procs.reduce((a, x) => a + x.ticks, 0));
        this.last.set(key, ticks);
        containers.push({
          name: c.name, cpuSeconds: ticks / CLK_TCK, memoryBytes: procs.reduce((a, x) => a + x.rss, 0) * PAGE,
          ...(this.bootTime ? { startTime: this.bootTime + leader.start / CLK_TCK } : {}),
        });
      }
      if (containers.length) out.push({ namespace: p.namespace, name: p.name, containers });
    }
    for (const k of [...this.last.keys()]) if (!seen.has(k)) this.last.delete(k);
    return { node, at: Date.now(), ...machineUsage(), pods: out };
  }
}

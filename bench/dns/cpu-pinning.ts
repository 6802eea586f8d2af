/**
 * CPU pinning for the DNS bench: the server under test (ours or unbound) gets one CPU, the load
 * generator (dnsperf) and the bench driver another, so on a 2-core machine the two sides share
 * nothing but the kernel and a latency figure is not decided by how the scheduler happened to
 * place dnsperf next to the server. Both servers get the same CPU, so the comparison stays fair.
 *
 * Pinning is done with `taskset -c` (util-linux) wrapping the command: taskset sets the affinity
 * and execs, so the pid is the program's own and every thread it starts later (Node's GC helpers,
 * libuv's pool) inherits the mask.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface CpuPlan {
  /** CPU of the server under test; undefined when pinning is off. */
  server?: number;
  /** CPU of dnsperf and the bench driver; undefined when pinning is off. */
  load?: number;
  /** Why pinning is off, or how it is laid out (for the log and the BENCH details). */
  note: string;
}

/** CPUs this process may run on, from /proc/self/status (`Cpus_allowed_list: 0-1,4`). */
function allowedCpus(): number[] {
  const list = /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '';
  const cpus: number[] = [];
  for (const part of list.split(',').filter(Boolean)) {
    const [lo, hi] = part.split('-').map(Number);
    for (let c = lo; c <= (hi ?? lo); c++) cpus.push(c);
  }
  return cpus;
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Server on the last allowed CPU, load on the first. Off (and said so) with fewer than two CPUs,
 * without taskset, or when DNS_BENCH_NO_PIN=1 (to compare with the unpinned layout).
 */
export function planCpus(): CpuPlan {
  if (process.env.DNS_BENCH_NO_PIN === '1') return { note: 'not pinned (DNS_BENCH_NO_PIN=1)' };
  const cpus = allowedCpus();
  if (cpus.length < 2) return { note: `not pinned (only CPU ${cpus.join(',')} allowed)` };
  if (!hasTaskset()) return { note: 'not pinned (taskset not installed)' };
  const server = cpus[cpus.length - 1];
  const load = cpus[0];
  return { server, load, note: `server (ours and unbound alike) on CPU ${server}, dnsperf and the bench driver on CPU ${load}` };
}

/** `command args` wrapped in `taskset -c cpu` (unchanged when cpu is undefined). */
export function pinned(cpu: number | undefined, command: string, args: string[]): { command: string; args: string[] } {
  return cpu === undefined ? { command, args } : { command: 'taskset', args: ['-c', String(cpu), command, ...args] };
}

/** Moves every thread of this process (the bench driver) onto `cpu`. */
export function pinSelf(cpu: number | undefined): void {
  if (cpu !== undefined) execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)], { stdio: 'ignore' });
}

/**
 * Fails unless every thread of `pid` may run only on `cpu`: the figures are labelled as pinned,
 * so a layout that did not take effect must not pass silently.
 */
export function assertPinned(pid: number, cpu: number | undefined, who: string): void {
  if (cpu === undefined) return;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let status: string;
    try {
      status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
    } catch {
      continue; // the thread ended since the listing
    }
    const allowed = /^Cpus_allowed_list:\s*(\S+)/m.exec(status)?.[1];
    if (allowed !== String(cpu)) throw new Error(`${who} (pid ${pid}, thread ${tid}) may run on CPUs ${allowed}, want only ${cpu}`);
  }
}

/**
 * Telling whether a process is still the one we recorded. A pid alone can lie: after a crash the
 * kernel may give the pid to an unrelated process. A pid plus its start time (jiffies since boot,
 * /proc/<pid>/stat field 22) plus the boot id names one process for ever, so a record of a dead
 * process never passes for a live one and `down` never signals a stranger.
 */
import { readFileSync } from 'node:fs';

/** One process, for ever: pid, start time and the boot it ran in. */
export interface ProcessIdentity {
  pid: number;
  /** Start time in clock ticks since boot (/proc/<pid>/stat field 22). */
  startTime: string;
  /** /proc/sys/kernel/random/boot_id of the boot the process ran in. */
  bootId: string;
}

function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces: state is [0].
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** This boot's id (changes at every reboot). */
export function bootId(): string {
  return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
}

/**
 * True when `pid` is a live process. A zombie (exited, not yet reaped by its parent or PID 1) is
 * not: it will never do anything again, though `kill(pid, 0)` still succeeds on it.
 */
export function pidAlive(pid: number | undefined): boolean {
  if (!pid || !Number.isInteger(pid) || pid <= 0) return false;
  const f = statFields(pid);
  return f !== undefined && f[0] !== 'Z';
}

/** The start time of `pid` (clock ticks since boot), or undefined when there is no such process. */
export function pidStartTime(pid: number): string | undefined {
  return statFields(pid)?.[19];
}

/** The parent of `pid` (/proc/<pid>/stat field 4), or undefined when there is no such process. */
export function parentPid(pid: number): number | undefined {
  const f = statFields(pid)?.[1];
  return f === undefined ? undefined : Number(f);
}

/** The identity of live process `pid` (default: this process), or undefined when it is gone. */
export function processIdentity(pid: number = process.pid): ProcessIdentity | undefined {
  const f = statFields(pid);
  if (!f || f[0] === 'Z') return undefined;
  return { pid, startTime: f[19]!, bootId: bootId() };
}

/** True when the recorded process still runs: same pid, same start time, same boot, not a zombie. */
export function isRunning(id: Partial<ProcessIdentity> | undefined): boolean {
  if (!id?.pid || !id.startTime || !id.bootId) return false;
  const now = processIdentity(id.pid);
  return now !== undefined && now.startTime === id.startTime && now.bootId === id.bootId;
}

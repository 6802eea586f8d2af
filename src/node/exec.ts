/**
 * Runs the kernel tools (ip, nsenter, unshare) the agent drives. Every network-touching command the
 * agent runs names a project-created namespace (`ip netns exec <ns> ...` / `ip -n <ns> ...`); this
 * helper only spawns, it never decides where traffic goes.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { NodeError } from './errors.js';

/** Result of one finished command. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs argv to completion; never throws for a non-zero exit (see `runOk`). */
export function run(argv: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs) timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', (err) => { if (timer) clearTimeout(timer); resolve({ code: 127, stdout, stderr: stderr + String(err) }); });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 + 9 : 1), stdout, stderr });
    });
    child.stdin.on('error', () => { /* the command may not read stdin */ });
    child.stdin.end(opts.input ?? '');
  });
}

/** Runs argv and throws NodeError('CommandFailed') with its stderr when it exits non-zero. */
export async function runOk(argv: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  const r = await run(argv, opts);
  if (r.code !== 0) throw new NodeError('CommandFailed', `${argv.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** True when a process with this pid exists (and is not a zombie we could not reap). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // A zombie still answers kill(0); treat it as gone.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z';
  } catch {
    return false;
  }
}

/** Process start time (jiffies since boot) from /proc, used to tell a re-used pid from ours. */
export function pidStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

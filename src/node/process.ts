/**
 * One container process: started with `nsenter -t <holder> -n -u -m` so it lives in the Pod's
 * network, UTS and mount namespaces, in its own session (so the whole tree can be signalled through
 * its process group), detached from the agent so it survives an agent restart. stdout and stderr go
 * straight to the container's log file; stdin (when the spec asks for it) is a FIFO the agent and
 * `attach` write to (with stdinOnce, the agent holds its last writer until the first attach ends);
 * a TTY container runs under `script`, which gives it a real pseudo-terminal.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { NodeError } from './errors.js';
import { pidAlive } from './exec.js';
import { nsenterArgs, type SandboxRecord } from './sandbox.js';

/** What to start. */
export interface ProcessSpec {
  argv: string[];
  env: Record<string, string>;
  workingDir?: string;
  logPath: string;
  /** FIFO path for stdin (spec.stdin); absent → /dev/null. */
  stdinFifo?: string;
  /**
   * spec.stdinOnce: the container reads the FIFO's read end only and the agent holds the one
   * lasting writer (`ContainerProcess.stdinHold`), so closing that writer after the first attach
   * gives the container EOF, as the kubelet's runtime does.
   */
  stdinOnce?: boolean;
  tty?: boolean;
}

/** A started (or adopted) container process. */
export interface ContainerProcess {
  pid: number;
  /** Present when this agent started it (so the exit code is known). */
  child?: ChildProcess;
  /** stdinOnce: the agent's write end of the stdin FIFO (close it to give the container EOF). */
  stdinHold?: number;
}

/** Quotes argv for `sh -c` (used to hand a command to `script`). */
export function shellQuote(argv: string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/**
 * Opens a container's stdin FIFO (made if missing): with `once` (stdinOnce) the container gets the
 * read end only and the agent keeps the one lasting writer (`hold`; closing it gives the container
 * EOF); otherwise the container's end is O_RDWR, so its stdin never sees EOF (it holds a writer
 * itself) and stays open across attaches and agent restarts. Opening never blocks either way.
 */
export function openStdin(fifo: string, once: boolean): { fd: number; hold?: number } {
  if (!fs.existsSync(fifo) && !spawnSyncMkfifo(fifo)) throw new NodeError('CONTAINER_START_FAILED', `mkfifo ${fifo} failed`);
  if (!once) return { fd: fs.openSync(fifo, fs.constants.O_RDWR) };
  const hold = fs.openSync(fifo, fs.constants.O_RDWR);
  return { fd: fs.openSync(fifo, fs.constants.O_RDONLY), hold };
}

/** Starts the process; `onExit` gets (exitCode, signal number or undefined). */
export function startProcess(sb: SandboxRecord, spec: ProcessSpec, onExit: (code: number, signal?: number) => void): ContainerProcess {
  if (!spec.argv.length) throw new NodeError('CONTAINER_START_FAILED', 'no command specified');
  const log = fs.openSync(spec.logPath, 'a');
  const { fd: stdinFd, hold: stdinHold } = spec.stdinFifo ? openStdin(spec.stdinFifo, !!spec.stdinOnce) : { fd: 'ignore' as const, hold: undefined };
  const argv = spec.tty
    ? ['script', '-qfec', shellQuote(spec.argv), '/dev/null']
    : spec.argv;
  const env = { ...spec.env };
  if (spec.tty) env.SHELL = '/bin/sh';
  let child: ChildProcess;
  try {
    child = spawn('nsenter', [...nsenterArgs(sb, spec.workingDir).slice(1), ...argv], {
      detached: true, stdio: [stdinFd, log, log], env,
    });
  } catch (e) {
    if (stdinHold !== undefined) fs.closeSync(stdinHold);
    throw e;
  } finally {
    fs.closeSync(log);
    if (typeof stdinFd === 'number') fs.closeSync(stdinFd);
  }
  if (!child.pid) {
    if (stdinHold !== undefined) fs.closeSync(stdinHold);
    throw new NodeError('CONTAINER_START_FAILED', `could not start ${spec.argv[0]}`);
  }
  child.unref();
  child.on('exit', (code, signal) => {
    const sig = signal ? osSignal(signal) : undefined;
    onExit(code ?? 128 + (sig ?? 9), sig);
  });
  return { pid: child.pid, child, stdinHold };
}

function osSignal(name: NodeJS.Signals): number {
  return os.constants.signals[name] ?? 9;
}

function spawnSyncMkfifo(p: string): boolean {
  // Node has no mkfifo; coreutils' is always present where the agent runs (it needs util-linux too).
  const r = spawnSync('mkfifo', ['-m', '600', p]);
  return r.status === 0;
}

/** Watches a process this agent did not start (re-adopted after a restart) until it is gone. */
export function watchAdopted(pid: number, onExit: (code: number) => void, intervalMs = 500): () => void {
  const t = setInterval(() => {
    if (!pidAlive(pid)) { clearInterval(t); onExit(137); }
  }, intervalMs);
  t.unref();
  return () => clearInterval(t);
}

/** Signals the process group (the container's whole tree), then the pid itself. */
export function signalTree(pid: number, sig: NodeJS.Signals): void {
  try { process.kill(-pid, sig); } catch { /* no group */ }
  try { process.kill(pid, sig); } catch { /* gone */ }
}

/**
 * Graceful stop: SIGTERM, then SIGKILL at the deadline if still alive. `grace` is a duration in ms,
 * or a function giving the deadline (epoch ms) so a later force-stop can pull it in. Resolves once
 * the process is gone (kill -9 is final, so the wait after it is short).
 */
export async function stopProcess(pid: number, grace: number | (() => number)): Promise<void> {
  if (!pidAlive(pid)) return;
  const fixed = typeof grace === 'number' ? Date.now() + grace : 0;
  const deadline = typeof grace === 'number' ? () => fixed : grace;
  signalTree(pid, deadline() <= Date.now() ? 'SIGKILL' : 'SIGTERM');
  while (pidAlive(pid) && Date.now() < deadline()) await new Promise((r) => setTimeout(r, 20));
  if (pidAlive(pid)) signalTree(pid, 'SIGKILL');
  const hard = Date.now() + 2000;
  while (pidAlive(pid) && Date.now() < hard) await new Promise((r) => setTimeout(r, 10));
}

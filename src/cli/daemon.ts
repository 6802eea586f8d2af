/**
 * The life of a daemon the CLI runs (`up`: a cluster, `join`: a node of another machine): the
 * detached start that waits for its report, the checks that it does not run already, and the run
 * itself — state-dir lock, machine index, signals, start, ready, stop — one sequence for both.
 */
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Target } from './target.js';
import { lockStateDir, stateDirHolder } from '../cluster/lock.js';
import { entryAlive, readEntry, registerRunning, registerStarting, registerStopped } from '../cluster/machineindex.js';
import { clusterId, daemonRunning, StateError, type ClusterRecord } from '../cluster/state.js';

/** The file descriptor on which a detached daemon reports to the `up` that started it. */
const NOTIFY_FD = 3;
/** The line that tells the waiting `up` the cluster is ready (a NUL byte never appears in a log line). */
const READY = '\0ready';
/**
 * Node flags of the detached daemon. `--max-semi-space-size=2` (MB), as the DNS server's
 * (src/dns/nodeflags.ts): starting a cluster allocates in bursts, and with the default (16 MB) the
 * young generation grows to fit them and stays committed afterwards — the idle daemon kept 6–11 MB
 * more resident memory (bench/cluster's idle RSS, measured alternately). What the daemon allocates
 * per request is short-lived, so a small young generation only means more, shorter scavenges.
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];

/** Refuses to start a cluster that runs already (by name, by record, by lock holder). */
export function refuseIfRunning(t: Target): void {
  const entry = readEntry(t.name);
  if (entry && entry.stateDir !== t.stateDir && entryAlive(entry) && entry.pid !== process.pid) {
    throw new StateError('CLUSTER_RUNNING', `a cluster named "${t.name}" is already running (pid ${entry.pid}, state dir ${entry.stateDir}); ` +
      `stop it with 'clusterip down --name ${t.name}'`);
  }
  if (t.record && daemonRunning(t.record) && t.record.pid !== process.pid) {
    throw new StateError('CLUSTER_RUNNING', `a cluster named "${t.record.name}" is already running (pid ${t.record.pid}, API ${t.record.apiURL}); ` +
      `stop it with 'clusterip down --name ${t.record.name}'`);
  }
  const holder = stateDirHolder(t.stateDir);
  if (holder && holder !== process.pid) {
    throw new StateError('STATE_DIR_LOCKED', `state directory ${t.stateDir} is in use by another clusterip daemon (pid ${holder}); ` +
      `stop it with 'clusterip down --state-dir ${t.stateDir}', or choose another --state-dir`);
  }
}

/**
 * Re-runs `command` (up, join) as a detached daemon (output to `<stateDir>/daemon.log`) and waits
 * for its report on a pipe: every progress line is printed here as it comes, and the special ready
 * line ends the wait at once (no polling). A daemon that dies or fails closes the pipe without it.
 */
export async function detach(command: string, argv: string[], t: Target, extraArgs: string[] = []): Promise<number> {
  mkdirSync(t.stateDir, { recursive: true, mode: 0o700 });
  const logPath = join(t.stateDir, 'daemon.log');
  const fd = openSync(logPath, 'w');
  const flags = DAEMON_NODE_FLAGS.filter((f) => !process.execArgv.some((a) => a.startsWith(f.split('=')[0]!)));
  const args = [...process.execArgv, ...flags, process.argv[1]!, command, ...argv.filter((a) => a !== '--detach'),
    ...extraArgs, '--state-dir', t.stateDir, '--name', t.name];
  const child = spawn(process.execPath, args, {
    detached: true, stdio: ['ignore', fd, fd, 'pipe'],
    env: { ...process.env, CLUSTERIP_DAEMON: '1', CLUSTERIP_NOTIFY_FD: String(NOTIFY_FD) },
  });
  closeSync(fd);
  child.unref();
  let ready = false;
  const lines = createInterface({ input: child.stdio[NOTIFY_FD] as Readable });
  for await (const line of lines) {
    if (line === READY) { ready = true; break; }
    if (line.startsWith('error: ')) console.error(line);
    else console.log(line);
  }
  if (ready) return 0;
  console.error(`clusterip ${command} failed; the daemon log is ${logPath}`);
  return 1;
}

/** The reporter to the `up --detach` (or `join --detach`) that started this daemon (or nothing in the foreground). */
export function notifier(): { line(text: string): void; done(ok: boolean): void } {
  const fd = Number(process.env.CLUSTERIP_NOTIFY_FD);
  let open = false;
  if (process.env.CLUSTERIP_DAEMON && Number.isInteger(fd)) {
    try { fstatSync(fd); open = true; } catch { /* not given */ }
  }
  const write = (s: string): void => {
    if (!open) return;
    // The waiting `up` may be gone (Ctrl-C): the daemon goes on regardless.
    try { writeSync(fd, s); } catch { open = false; }
  };
  return {
    line: (text) => write(`${text}\n`),
    done(ok) {
      if (ok) write(`${READY}\n`);
      if (open) { open = false; try { closeSync(fd); } catch { /* gone */ } }
    },
  };
}

/** What a daemon runs: started, waited for, stopped. */
export interface DaemonBody {
  readonly record: ClusterRecord;
  waitReady(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

export interface DaemonSpec<T extends DaemonBody> {
  /** 'cluster' or 'node' (the Ctrl-C hint). */
  what: string;
  /** How it is named in the stop lines: `cluster "x"`, `node "m2"`. */
  label: string;
  /** The first progress line. */
  startingLine: string;
  /** Starts it; `say` prints and reports a progress line. */
  start(say: (line: string) => void): Promise<T>;
  /** The lines said once it is ready (`ms` since the start). */
  readyLines(started: T, ms: number): string[];
}

/**
 * Runs a daemon in this process until SIGINT/SIGTERM: takes the state dir's lock, refuses one that
 * runs already, registers it in the machine index, starts it, reports ready to a waiting `--detach`,
 * and on a signal stops it and leaves nothing behind. Signal handlers come first, so a `down` while
 * it is still starting stops it cleanly too.
 */
export async function runDaemon<T extends DaemonBody>(t: Target, spec: DaemonSpec<T>): Promise<number> {
  const notify = notifier();
  const say = (line: string): void => { console.log(line); notify.line(line); };
  const t0 = performance.now();
  let lock;
  try {
    // Wait briefly: a concurrent `up`'s pre-check may hold the lock for a moment.
    lock = await lockStateDir(t.stateDir, { waitMs: 1000 });
    refuseIfRunning(t);
  } catch (err) {
    lock?.release();
    notify.line(`error: ${(err as Error).message}`);
    notify.done(false);
    throw err;
  }
  registerStarting(t.name, t.stateDir, clusterId(t.name));
  let body: T | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (signal: string): Promise<void> => stopping ??= (async () => {
    console.log(`\n${signal}: stopping ${spec.label}...`);
    try { await body?.stop(); } finally {
      registerStopped(t.name);
      lock.release();
    }
    console.log('stopped; nothing left behind');
    process.exit(0);
  })();
  let pendingSignal: string | undefined;
  const onSignal = (signal: string) => { if (body) void stop(signal); else pendingSignal ??= signal; };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  say(spec.startingLine);
  try {
    body = await spec.start(say);
    if (pendingSignal) { await stop(pendingSignal); return 0; }
    await body.waitReady(60_000);
  } catch (e) {
    // The error is printed once, by main (to the daemon log when detached); the waiting `up` gets it here.
    notify.line(`error: ${(e as Error).message}`);
    notify.done(false);
    // A signal's stop is tearing the body down (which is likely why waitReady failed): let it
    // finish and exit, rather than exit here halfway through its teardown.
    if (stopping) { await stopping; return 0; }
    await body?.stop().catch(() => undefined);
    registerStopped(t.name);
    lock.release();
    throw e;
  }
  registerRunning(t.stateDir, body.record);
  for (const line of spec.readyLines(body, Math.round(performance.now() - t0))) say(line);
  notify.done(true);
  if (pendingSignal) await stop(pendingSignal);
  if (!process.env.CLUSTERIP_DAEMON) console.log(`  (Ctrl-C stops the ${spec.what})`);
  return new Promise<number>(() => { /* runs until a signal */ });
}

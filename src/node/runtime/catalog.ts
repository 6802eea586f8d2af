/**
 * The catalog runtime (the first `ContainerRuntime`): there is no container engine and no image
 * store; an image name maps to a local program through the image catalog (../images/catalog.ts),
 * and a container is that program started with `nsenter -t <holder> -n -u -m` into the Pod's
 * network, UTS and mount namespaces, in its own session (../process.ts). Containers are detached
 * from the agent, so they outlive it; a later agent re-adopts them by pid and /proc start time.
 */
import type { Container } from 'kubernetes-types/core/v1.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mountScript, planMounts } from '../volumes/mounts.js';
import { pidAlive, pidStartTime } from '../exec.js';
import { containerArgv, type ImageCatalog, type ResolvedImage } from '../images/catalog.js';
import { shellQuote, startProcess, stopProcess, watchAdopted, type ContainerProcess } from '../process.js';
import { nsenterArgs, type SandboxRecord } from '../sandbox.js';
import type { ContainerExit, ContainerRecord, ContainerRuntime, ImageInfo, RunningContainer, StartRequest } from './runtime.js';

interface CatalogContainer extends RunningContainer {
  proc: ContainerProcess;
  unwatch?: () => void;
}

export class CatalogRuntime implements ContainerRuntime {
  readonly scheme = 'catalog';
  /** Containers whose exits are no longer reported (released by the worker). */
  private readonly released = new WeakSet<RunningContainer>();

  constructor(private readonly catalog: ImageCatalog) {}

  /** Catalog images are always present (imagePullPolicy has nothing to pull). */
  async pullImage(image: string): Promise<ImageInfo> {
    const img = this.catalog.resolve(image);
    return { ...img, note: `catalog image: runs ${img.entrypoint[0] ?? img.cmd[0] ?? 'a program'} of this machine, not pulled content` };
  }

  async startContainer(req: StartRequest, onExit: (exit: ContainerExit) => void): Promise<RunningContainer> {
    // The worker hands back what pullImage returned: the catalog's own ResolvedImage.
    const img = req.image as ResolvedImage;
    let argv = containerArgv(img, req.command, req.args);
    if (img.prepare) argv = img.prepare(req.containerDir, argv);
    let workingDir = req.container.workingDir;
    let mounted: string | undefined;
    if (req.mounts?.length) {
      // The volumes go into a mount namespace of the container's own (a child of the Pod's), made
      // by `unshare` right before the command (../volumes/mounts.ts). The working directory is
      // entered by that script: it may be inside a volume.
      const rootDir = path.join(req.containerDir, 'rootfs');
      fs.mkdirSync(rootDir, { recursive: true });
      mounted = path.join(req.containerDir, `mounted-${req.attempt}`);
      fs.rmSync(mounted, { force: true });
      argv = ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', mountScript(planMounts(req.mounts), rootDir, workingDir, mounted), 'sh', ...argv];
      workingDir = undefined;
    }
    let started: CatalogContainer | undefined;
    // onExit is reported only once startContainer has returned (the caller holds the container then):
    // an exit while the volumes are being mounted waits for that.
    let returned = false;
    let early: ContainerExit | undefined;
    const report = (exit: ContainerExit): void => {
      // After release() an exit is not reported.
      if (started && !this.released.has(started)) onExit(exit);
    };
    const proc = startProcess(req.sandbox, {
      argv, env: req.env, workingDir, logPath: req.logPath,
      stdinFifo: req.stdin?.fifo, stdinOnce: req.stdin?.once ?? false, tty: req.tty,
    }, (exitCode, signal) => {
      // The container ends with its main process, as in a PID namespace whose init died: what is
      // left of its process group (nginx's workers, a shell's children) goes too, so a restarted
      // instance never finds its port still held by the previous one.
      killGroup(proc.pid);
      const exit = { exitCode, ...(signal ? { signal } : {}) };
      if (returned) report(exit); else early = exit;
    });
    started = {
      id: `${req.sandbox.uid}/${req.container.name}/${req.attempt}`, pid: proc.pid, proc,
      record: { pid: proc.pid, pidStart: pidStartTime(proc.pid) }, stdinHold: proc.stdinHold, exitObservable: true, scheme: this.scheme,
    };
    // Running means its volumes are in place (an exec right after must find them): wait for the
    // mount script's marker, or for the process to end (a failed mount is the container's exit).
    if (mounted) await untilMounted(mounted, proc.pid);
    returned = true;
    if (early) { const exit = early; setImmediate(() => report(exit)); }
    return started;
  }

  adoptContainer(sandbox: SandboxRecord, id: string, record: ContainerRecord, onExit: (exit: ContainerExit) => void): RunningContainer | undefined {
    const { pid, pidStart } = record;
    if (!pid || !pidAlive(pid) || pidStartTime(pid) !== pidStart) {
      // The main process ended while no agent watched: end what is left of the container (an
      // nginx master killed alone leaves its workers holding port 80).
      if (pid) endLeftovers(pid, sandbox);
      return undefined;
    }
    // Not our child: only its disappearance can be seen, not its exit code (reported as 137).
    const c: CatalogContainer = { id, pid, proc: { pid }, record, exitObservable: false, scheme: this.scheme };
    c.unwatch = watchAdopted(pid, (exitCode) => { endLeftovers(pid, sandbox); onExit({ exitCode }); });
    return c;
  }

  async stopContainer(c: RunningContainer, deadline: () => number): Promise<void> {
    await stopProcess(c.pid, deadline);
  }

  release(c: RunningContainer): void {
    const cc = c as CatalogContainer;
    this.released.add(cc);
    cc.unwatch?.();
    cc.proc.child?.removeAllListeners('exit');
  }

  execArgv(sandbox: SandboxRecord, container: Container, command: string[], running?: RunningContainer, opts: { tty?: boolean } = {}): string[] {
    // A TTY: `script` inside the container's namespaces gives the command a real pseudo-terminal.
    const cmd = opts.tty ? ['script', '-qfec', shellQuote(command), '/dev/null'] : command;
    // A container with volumes has a mount namespace (and maybe a root) of its own: enter its
    // main process's namespaces, root and working directory rather than the Pod's.
    if (running && ownMountNamespace(running.pid, sandbox.holderPid)) {
      return ['nsenter', '-t', String(running.pid), '-n', '-u', '-m', '-r', container.workingDir ? `--wd=${container.workingDir}` : '-w', '--', ...cmd];
    }
    return [...nsenterArgs(sandbox, container.workingDir), ...cmd];
  }

  containerEnv(c: RunningContainer): Record<string, string> {
    // exec sees the container's environment (as docker exec / CRI exec do).
    try {
      const raw = fs.readFileSync(`/proc/${c.pid}/environ`, 'utf8');
      const env: Record<string, string> = {};
      for (const kv of raw.split('\0')) { const i = kv.indexOf('='); if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1); }
      return env;
    } catch {
      return {};
    }
  }
}

/** Resolves once `marker` exists, the process is gone, or 10 s passed. */
async function untilMounted(marker: string, pid: number): Promise<void> {
  const end = Date.now() + 10_000;
  while (!fs.existsSync(marker) && pidAlive(pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
}

/** Whether `pid` lives in a mount namespace other than the sandbox holder's. */
function ownMountNamespace(pid: number, holderPid: number): boolean {
  try { return fs.readlinkSync(`/proc/${pid}/ns/mnt`) !== fs.readlinkSync(`/proc/${holderPid}/ns/mnt`); } catch { return false; }
}

/**
 * SIGKILL to what is left of a container's process group after its leader (the main process) is
 * gone. Only the group: the leader's pid itself may already belong to someone else, while a
 * group id cannot be reused as long as the group has members.
 */
function killGroup(pgid: number): void {
  try { process.kill(-pgid, 'SIGKILL'); } catch { /* nothing left */ }
}

/**
 * SIGKILL to the processes left of a container whose main process (`pgid`, its process group
 * leader) ended some time ago: members of that process group inside the sandbox's network
 * namespace. Both are checked because the pid may have been reused since, by a process that is a
 * group leader elsewhere.
 */
function endLeftovers(pgid: number, sandbox: SandboxRecord): void {
  let netns: number;
  try { netns = fs.statSync(`/run/netns/${sandbox.netns}`).ino; } catch { return; }
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) !== pgid) continue;
      if (fs.statSync(`/proc/${d}/ns/net`).ino !== netns) continue;
      process.kill(Number(d), 'SIGKILL');
    } catch { /* gone */ }
  }
}

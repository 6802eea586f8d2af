/**
 * One Pod on this node: builds its sandbox, runs its init containers then its containers with the
 * restart policy and Kubernetes' crash-loop backoff, runs probes, stops everything gracefully on
 * deletion, and reports status. The agent calls `sync(pod)` from its keyed work queue whenever the
 * Pod changes or something of the Pod's own happens (exit, probe flip, backoff timer); `sync` is the
 * only place that acts, so actions for one Pod never interleave.
 *
 * State that must outlive the agent (sandbox record, container pids, restart counts, backoff) is in
 * `<podDir>/state.json`, so a restarted agent re-adopts running Pods instead of restarting them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Container, Pod, PodStatus, Service } from 'kubernetes-types/core/v1.js';
import { isConflict, isNotFound } from '../api/errors.js';
import { R } from '../api/resources.js';
import type { Client } from '../client/client.js';
import { containerEnv, expandVars } from './env.js';
import { pidAlive, pidStartTime, run } from './exec.js';
import { recordPodEvent } from './events.js';
import { containerArgv, type ImageCatalog, type ResolvedImage } from './images/catalog.js';
import { LogTimeRecorder } from './logtimes.js';
import { ProbeWorker, runProbe, type ProbeHelper } from './prober.js';
import { signalTree, startProcess, stopProcess, watchAdopted, type ContainerProcess } from './process.js';
import { createSandbox, destroySandbox, holderAlive, nsenterArgs, type SandboxEnv, type SandboxRecord } from './sandbox.js';
import { podStatus, statusFingerprint, type ContainerView, type PodView, type Termination } from './status.js';

/** What every Pod worker of one agent shares. */
export interface WorkerContext {
  client: Client;
  nodeName: string;
  hostIP: string;
  sandboxEnv: SandboxEnv;
  catalog: ImageCatalog;
  helper: ProbeHelper;
  services(): Service[];
  /** Asks the agent to call sync for this Pod key soon. */
  enqueue(key: string): void;
  /** Crash-loop / image-pull backoff: first delay and cap (Kubernetes: 10 s and 300 s). */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Length of one probe "second" (tests shorten it). */
  probeSecondMs: number;
}

interface ContainerRuntime {
  spec: Container;
  init: boolean;
  view: ContainerView;
  proc?: ContainerProcess;
  pidStart?: string;
  unwatch?: () => void;
  backoffMs: number;
  nextStartAt: number;
  image?: ResolvedImage;
  probes: ProbeWorker[];
  readyProbeOk: boolean;
  /** The stdin FIFO writer kept open by the agent for stdinOnce containers. */
  stdinHold?: number;
  /** Records when the running instance's log lines are written (logs --timestamps). */
  logTimes?: LogTimeRecorder;
  /** Set by liveness/startup failure handling while the kill is under way. */
  killing?: boolean;
}

interface PersistedContainer {
  pid?: number;
  pidStart?: string;
  restartCount: number;
  backoffMs: number;
  nextStartAt: number;
  running?: ContainerView['running'];
  last?: Termination;
  previous?: Termination;
}

/** The files of one container under the Pod dir. */
export function containerLogPath(podDir: string, container: string, restartCount: number): string {
  return path.join(podDir, 'logs', container, `${restartCount}.log`);
}

export class PodWorker {
  readonly key: string;
  readonly uid: string;
  sandbox?: SandboxRecord;
  private sandboxError?: string;
  private sandboxRetryAt = 0;
  private sandboxBackoff = 0;
  private readonly containers = new Map<string, ContainerRuntime>();
  private initialized = false;
  private startTime?: string;
  private lastWritten = '';
  private timers = new Set<NodeJS.Timeout>();
  private terminating?: Promise<void>;
  /** Termination deadline (epoch ms); a later, shorter terminate() call pulls it in. */
  private deadline = Infinity;
  /** The sandbox creation under way, so termination can wait for it and then remove it. */
  private creating?: Promise<SandboxRecord>;
  /** Container instances (`name/restartCount`) something has attached to (see streams.attach). */
  readonly attached = new Set<string>();
  /** True once everything of the Pod is gone. */
  done = false;
  pod: Pod;

  constructor(private readonly ctx: WorkerContext, pod: Pod, readonly dir: string) {
    this.pod = pod;
    this.uid = pod.metadata?.uid ?? '';
    this.key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    fs.mkdirSync(dir, { recursive: true });
    for (const c of pod.spec?.initContainers ?? []) this.containers.set(c.name, this.newRuntime(c, true));
    for (const c of pod.spec?.containers ?? []) this.containers.set(c.name, this.newRuntime(c, false));
    if (!pod.spec?.initContainers?.length) this.initialized = true;
  }

  private newRuntime(c: Container, init: boolean): ContainerRuntime {
    return {
      spec: c, init, backoffMs: 0, nextStartAt: 0, probes: [], readyProbeOk: false,
      view: { name: c.name, image: c.image ?? '', imageID: '', restartCount: 0, ready: false, started: false },
    };
  }

  /** Re-adopts a sandbox and processes recorded by a previous agent. Returns false if not adoptable. */
  adopt(): boolean {
    try {
      const sb = JSON.parse(fs.readFileSync(path.join(this.dir, 'sandbox.json'), 'utf8')) as SandboxRecord;
      if (sb.uid !== this.uid || !holderAlive(sb)) return false;
      this.sandbox = sb;
      const st = JSON.parse(fs.readFileSync(path.join(this.dir, 'state.json'), 'utf8')) as {
        initialized: boolean; startTime?: string; containers: Record<string, PersistedContainer>;
      };
      this.initialized = st.initialized;
      this.startTime = st.startTime;
      for (const [name, pc] of Object.entries(st.containers)) {
        const rt = this.containers.get(name);
        if (!rt) continue;
        rt.view.restartCount = pc.restartCount;
        rt.view.last = pc.last;
        rt.view.previous = pc.previous;
        rt.backoffMs = pc.backoffMs;
        rt.nextStartAt = pc.nextStartAt;
        try { rt.image = this.ctx.catalog.resolve(rt.spec.image ?? ''); rt.view.imageID = rt.image.imageID; } catch { /* resolved again on start */ }
        if (pc.pid && pidAlive(pc.pid) && pidStartTime(pc.pid) === pc.pidStart) {
          rt.proc = { pid: pc.pid };
          rt.pidStart = pc.pidStart;
          rt.view.running = pc.running;
          rt.view.started = !rt.spec.startupProbe;
          rt.unwatch = watchAdopted(pc.pid, (code) => this.onExit(rt, pc.pid!, code));
          this.recordLogTimes(rt, containerLogPath(this.dir, name, rt.view.restartCount));
          this.startProbes(rt);
          if (!rt.spec.readinessProbe && rt.view.started) rt.view.ready = true;
        }
      }
      return true;
    } catch {
      return false;
    }
  }

  private persist(): void {
    const containers: Record<string, PersistedContainer> = {};
    for (const [name, rt] of this.containers) {
      containers[name] = {
        pid: rt.proc?.pid, pidStart: rt.pidStart, restartCount: rt.view.restartCount, backoffMs: rt.backoffMs,
        nextStartAt: rt.nextStartAt, running: rt.view.running, last: rt.view.last, previous: rt.view.previous,
      };
    }
    try {
      fs.writeFileSync(path.join(this.dir, 'state.json.tmp'), JSON.stringify({ initialized: this.initialized, startTime: this.startTime, containers }));
      fs.renameSync(path.join(this.dir, 'state.json.tmp'), path.join(this.dir, 'state.json'));
    } catch { /* the dir is being removed */ }
  }

  private later(ms: number): void {
    const t = setTimeout(() => { this.timers.delete(t); this.ctx.enqueue(this.key); }, Math.max(0, ms));
    this.timers.add(t);
  }

  private event(type: 'Normal' | 'Warning', reason: string, message: string, container?: string): void {
    const fp = container ? `spec.${this.containers.get(container)?.init ? 'initContainers' : 'containers'}{${container}}` : undefined;
    void recordPodEvent(this.ctx.client, this.ctx.nodeName, this.pod, type, reason, message, fp);
  }

  /**
   * The runtime view of a container, for streams. `stdinOpen` is false once a stdinOnce
   * container's stdin has been closed (after its first attach), or when it has no stdin.
   */
  container(name?: string): { spec: Container; view: ContainerView; pid?: number; stdinFifo: string; stdinOpen: boolean } | undefined {
    const rt = name ? this.containers.get(name) : [...this.containers.values()].find((c) => !c.init);
    if (!rt) return undefined;
    const stdinOpen = !!rt.spec.stdin && (!rt.spec.stdinOnce || rt.stdinHold !== undefined);
    return { spec: rt.spec, view: rt.view, pid: rt.proc?.pid, stdinFifo: path.join(this.dir, `stdin-${rt.spec.name}`), stdinOpen };
  }

  /** Makes the write times of everything logged so far readable (pods/log calls it first). */
  flushLogTimes(name: string): void {
    this.containers.get(name)?.logTimes?.flush();
  }

  private recordLogTimes(rt: ContainerRuntime, logPath: string): void {
    rt.logTimes?.stop();
    rt.logTimes = new LogTimeRecorder(logPath);
    rt.logTimes.start();
  }

  private stopLogTimes(rt: ContainerRuntime): void {
    rt.logTimes?.stop();
    rt.logTimes = undefined;
  }

  /**
   * stdinOnce: the first attach has ended, so the container's stdin is closed for good (this
   * container instance; a restart gets a fresh stdin). No-op for other containers.
   */
  closeStdin(name: string): void {
    const rt = this.containers.get(name);
    if (rt?.stdinHold === undefined) return;
    try { fs.closeSync(rt.stdinHold); } catch { /* closed */ }
    rt.stdinHold = undefined;
  }

  /** Names of all containers (init first). */
  containerNames(): string[] {
    return [...this.containers.keys()];
  }

  /** Reconciles the Pod's processes with its spec, then writes status if it changed. */
  async sync(pod: Pod): Promise<void> {
    if (this.done || this.terminating) return;
    this.pod = pod;
    if (pod.metadata?.deletionTimestamp) {
      const grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
      await this.terminate(grace);
      try {
        await this.ctx.client.delete(R.pods, pod.metadata.namespace, pod.metadata.name!, { gracePeriodSeconds: 0, preconditions: { uid: this.uid } });
      } catch (e) {
        if (!isNotFound(e) && !isConflict(e)) throw e;
      }
      return;
    }
    if (!this.startTime) this.startTime = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    if (!this.sandbox) {
      if (Date.now() < this.sandboxRetryAt) { await this.writeStatus(); return; }
      try {
        this.creating = createSandbox(this.ctx.sandboxEnv, pod, this.dir);
        this.sandbox = await this.creating;
        this.sandboxError = undefined;
        if (this.terminating) return; // terminate() waits for `creating` and removes it
        this.persist();
      } catch (e) {
        this.sandboxError = e instanceof Error ? e.message : String(e);
        this.sandboxBackoff = Math.min(this.sandboxBackoff ? this.sandboxBackoff * 2 : this.ctx.backoffBaseMs, this.ctx.backoffMaxMs);
        this.sandboxRetryAt = Date.now() + this.sandboxBackoff;
        this.later(this.sandboxBackoff);
        this.event('Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${this.sandboxError}`);
        for (const rt of this.containers.values()) rt.view.waiting = { reason: 'ContainerCreating' };
        await this.writeStatus();
        return;
      }
    }
    if (!this.initialized) {
      for (const rt of this.containers.values()) {
        if (!rt.init) continue;
        if (rt.view.last?.exitCode === 0 && !rt.proc) continue;
        await this.ensureRunning(rt);
        break;
      }
      const inits = [...this.containers.values()].filter((c) => c.init);
      if (inits.every((c) => c.view.last?.exitCode === 0 && !c.proc)) this.initialized = true;
    }
    if (this.initialized) {
      for (const rt of this.containers.values()) if (!rt.init) await this.ensureRunning(rt);
    }
    this.persist();
    await this.writeStatus();
  }

  private shouldRestart(rt: ContainerRuntime): boolean {
    const policy = this.pod.spec?.restartPolicy ?? 'Always';
    if (rt.init) return rt.view.last!.exitCode !== 0 && policy !== 'Never';
    if (policy === 'Always') return true;
    if (policy === 'OnFailure') return rt.view.last!.exitCode !== 0;
    return false;
  }

  private async ensureRunning(rt: ContainerRuntime): Promise<void> {
    if (rt.proc) return;
    if (rt.view.last && !this.shouldRestart(rt)) { rt.view.waiting = undefined; return; }
    const now = Date.now();
    if (now < rt.nextStartAt) {
      if (rt.view.waiting?.reason === 'ErrImagePull' || rt.view.waiting?.reason === 'ImagePullBackOff') {
        rt.view.waiting = { reason: 'ImagePullBackOff', message: `Back-off pulling image "${rt.spec.image}"` };
      }
      this.later(rt.nextStartAt - now);
      return;
    }
    // Image
    try {
      rt.image = this.ctx.catalog.resolve(rt.spec.image ?? '');
      rt.view.imageID = rt.image.imageID;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      rt.view.waiting = { reason: 'ErrImagePull', message: msg };
      rt.backoffMs = Math.min(rt.backoffMs ? rt.backoffMs * 2 : this.ctx.backoffBaseMs, this.ctx.backoffMaxMs);
      rt.nextStartAt = now + rt.backoffMs;
      this.event('Warning', 'Failed', `Failed to pull image "${rt.spec.image}": ${msg}`, rt.spec.name);
      this.event('Warning', 'Failed', 'Error: ErrImagePull', rt.spec.name);
      // Show ErrImagePull briefly, then ImagePullBackOff until the retry (as the kubelet does).
      this.later(Math.min(1000, rt.backoffMs / 2));
      this.later(rt.backoffMs);
      return;
    }
    if (rt.view.waiting?.reason === 'ImagePullBackOff' || rt.view.waiting?.reason === 'ErrImagePull') rt.backoffMs = 0;
    if (rt.view.last) {
      // A restart: the kubelet's backoff — first restart at once, then base doubling to the cap;
      // a container that ran longer than twice the cap starts its backoff afresh.
      const ranMs = Date.parse(rt.view.last.finishedAt) - Date.parse(rt.view.last.startedAt);
      if (ranMs > 2 * this.ctx.backoffMaxMs) rt.backoffMs = 0;
      if (rt.backoffMs > 0 && now < Date.parse(rt.view.last.finishedAt) + rt.backoffMs) {
        rt.nextStartAt = Date.parse(rt.view.last.finishedAt) + rt.backoffMs;
        rt.view.waiting = {
          reason: 'CrashLoopBackOff',
          message: `back-off ${fmtDuration(rt.backoffMs)} restarting failed container=${rt.spec.name} pod=${this.pod.metadata?.name}_${this.pod.metadata?.namespace}(${this.uid})`,
        };
        this.event('Warning', 'BackOff', `Back-off restarting failed container ${rt.spec.name} in pod ${this.pod.metadata?.name}_${this.pod.metadata?.namespace}(${this.uid})`, rt.spec.name);
        this.later(rt.nextStartAt - now);
        return;
      }
      rt.backoffMs = rt.backoffMs ? Math.min(rt.backoffMs * 2, this.ctx.backoffMaxMs) : this.ctx.backoffBaseMs;
      rt.view.restartCount++;
    }
    this.start(rt);
  }

  private start(rt: ContainerRuntime): void {
    if (this.terminating || this.done) return;
    const sb = this.sandbox!;
    const img = rt.image!;
    const c = rt.spec;
    const env = containerEnv(this.pod, c, {
      podIP: sb.ip, hostIP: this.ctx.hostIP, nodeName: this.ctx.nodeName, services: this.ctx.services(), imageEnv: img.env,
    });
    const expand = (xs?: string[]): string[] | undefined => xs?.map((x) => expandVars(x, env));
    let argv = containerArgv(img, expand(c.command), expand(c.args));
    const cdir = path.join(this.dir, 'containers', c.name);
    fs.mkdirSync(cdir, { recursive: true });
    if (img.prepare) argv = img.prepare(cdir, argv);
    const logPath = containerLogPath(this.dir, c.name, rt.view.restartCount);
    fs.mkdirSync(path.dirname(logPath), { recursive: true });
    if (rt.view.restartCount === 0 && !rt.view.last) {
      this.event('Normal', 'Pulled', `Container image "${c.image}" already present on machine`, c.name);
    }
    const stdinFifo = c.stdin ? path.join(this.dir, `stdin-${c.name}`) : undefined;
    try {
      // The log file exists and is watched before the process can write its first line.
      fs.closeSync(fs.openSync(logPath, 'a'));
      this.recordLogTimes(rt, logPath);
      const startedAt = new Date();
      const proc = startProcess(sb, { argv, env, workingDir: c.workingDir, logPath, stdinFifo, stdinOnce: !!c.stdinOnce, tty: !!c.tty }, (code, sig) => this.onExit(rt, proc.pid, code, sig));
      rt.proc = proc;
      rt.stdinHold = proc.stdinHold;
      rt.pidStart = pidStartTime(proc.pid);
      rt.view.running = { startedAt: startedAt.toISOString().replace(/\.\d+Z$/, 'Z'), containerID: `clusterip://${this.uid}/${c.name}/${rt.view.restartCount}` };
      rt.view.waiting = undefined;
      rt.view.started = !c.startupProbe;
      rt.view.ready = !c.readinessProbe && !c.startupProbe && !rt.init;
      rt.readyProbeOk = false;
      this.event('Normal', 'Created', `Created container ${c.name}`, c.name);
      this.event('Normal', 'Started', `Started container ${c.name}`, c.name);
      this.startProbes(rt);
      if (c.lifecycle?.postStart?.exec?.command) void run([...nsenterArgs(sb), ...c.lifecycle.postStart.exec.command], { timeoutMs: 30_000 });
    } catch (e) {
      this.stopLogTimes(rt);
      const msg = e instanceof Error ? e.message : String(e);
      const t = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      rt.view.previous = rt.view.last;
      rt.view.last = { exitCode: 128, reason: 'StartError', message: msg, startedAt: t, finishedAt: t, containerID: '' };
      this.event('Warning', 'Failed', `Error: ${msg}`, c.name);
      this.later(0);
    }
  }

  private startProbes(rt: ContainerRuntime): void {
    const c = rt.spec;
    const sb = this.sandbox!;
    const attempt = (p: NonNullable<Container['readinessProbe']>) => () => runProbe(p, c, sb, this.ctx.helper);
    const secondMs = this.ctx.probeSecondMs;
    if (c.startupProbe) {
      const w = new ProbeWorker('startup', c.startupProbe, attempt(c.startupProbe), (ok, msg) => {
        if (!ok) { this.event('Warning', 'Unhealthy', `Startup probe failed: ${msg}`, c.name); this.kill(rt, 'failed startup probe'); return; }
        rt.view.started = true;
        rt.view.ready = !c.readinessProbe;
        this.startAfterStartup(rt);
        this.ctx.enqueue(this.key);
      }, secondMs);
      rt.probes.push(w);
      w.start();
    } else {
      this.startAfterStartup(rt);
    }
  }

  private startAfterStartup(rt: ContainerRuntime): void {
    const c = rt.spec;
    const sb = this.sandbox!;
    const secondMs = this.ctx.probeSecondMs;
    if (c.readinessProbe) {
      const p = c.readinessProbe;
      const w = new ProbeWorker('readiness', p, () => runProbe(p, c, sb, this.ctx.helper), (ok, msg) => {
        rt.readyProbeOk = ok;
        rt.view.ready = ok && rt.view.started && !!rt.proc;
        if (!ok) this.event('Warning', 'Unhealthy', `Readiness probe failed: ${msg}`, c.name);
        this.ctx.enqueue(this.key);
      }, secondMs);
      rt.probes.push(w);
      w.start();
    }
    if (c.livenessProbe) {
      const p = c.livenessProbe;
      const w = new ProbeWorker('liveness', p, () => runProbe(p, c, sb, this.ctx.helper), (ok, msg) => {
        if (ok) return;
        this.event('Warning', 'Unhealthy', `Liveness probe failed: ${msg}`, c.name);
        this.kill(rt, 'failed liveness probe');
      }, secondMs);
      rt.probes.push(w);
      w.start();
    }
  }

  private kill(rt: ContainerRuntime, why: string): void {
    if (!rt.proc || rt.killing) return;
    rt.killing = true;
    this.event('Normal', 'Killing', `Container ${rt.spec.name} ${why}, will be restarted`, rt.spec.name);
    const grace = (this.pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000;
    void stopProcess(rt.proc.pid, grace);
  }

  private onExit(rt: ContainerRuntime, pid: number, code: number, signal?: number): void {
    if (rt.proc?.pid !== pid) return;
    rt.unwatch?.();
    rt.unwatch = undefined;
    for (const p of rt.probes) p.stop();
    rt.probes = [];
    rt.proc = undefined;
    rt.killing = false;
    this.closeStdin(rt.spec.name);
    this.stopLogTimes(rt);
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    rt.view.previous = rt.view.last;
    rt.view.last = {
      exitCode: code, reason: code === 0 ? 'Completed' : 'Error', startedAt: rt.view.running?.startedAt ?? now, finishedAt: now,
      containerID: rt.view.running?.containerID ?? '', ...(signal ? { signal } : {}),
    };
    rt.view.running = undefined;
    rt.view.ready = false;
    rt.view.started = false;
    this.persist();
    this.ctx.enqueue(this.key);
  }

  /** Writes status via the status subresource when it differs from what was last written. */
  private async writeStatus(): Promise<void> {
    if (this.done || this.terminating) return;
    const view: PodView = {
      podIP: this.sandbox?.ip, hostIP: this.ctx.hostIP, startTime: this.startTime, sandboxReady: !!this.sandbox,
      sandboxError: this.sandboxError, initialized: this.initialized,
      initContainers: [...this.containers.values()].filter((c) => c.init).map((c) => c.view),
      containers: [...this.containers.values()].filter((c) => !c.init).map((c) => c.view),
    };
    const status = podStatus(this.pod, view, new Date().toISOString().replace(/\.\d+Z$/, 'Z'));
    const fp = statusFingerprint(status);
    if (fp === this.lastWritten) return;
    await this.putStatus(status);
    this.lastWritten = fp;
  }

  private async putStatus(status: PodStatus): Promise<void> {
    const ns = this.pod.metadata?.namespace;
    let base: Pod = this.pod;
    for (let attempt = 0; attempt < 5; attempt++) {
      if (base.metadata?.uid !== this.uid) return;
      try {
        const updated = await this.ctx.client.update<Pod>(R.pods, ns, { ...base, status }, { subresource: 'status' });
        this.pod = updated;
        return;
      } catch (e) {
        if (isNotFound(e)) return;
        if (!isConflict(e)) throw e;
        base = await this.ctx.client.get<Pod>(R.pods, ns, this.pod.metadata!.name!);
      }
    }
  }

  /**
   * Stops the Pod: preStop hooks, SIGTERM, SIGKILL after the grace period, then the sandbox and the
   * Pod's files. Idempotent; a second call waits for the first.
   */
  terminate(graceSeconds: number): Promise<void> {
    this.deadline = Math.min(this.deadline, Date.now() + graceSeconds * 1000);
    if (!this.terminating) this.terminating = this.doTerminate(graceSeconds);
    return this.terminating;
  }

  private async doTerminate(graceSeconds: number): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.creating?.catch(() => undefined);
    const deadlineOf = (): number => this.deadline;
    await Promise.all([...this.containers.values()].map(async (rt) => {
      for (const p of rt.probes) p.stop();
      rt.unwatch?.();
      const proc = rt.proc;
      if (!proc) return;
      const pre = rt.spec.lifecycle?.preStop;
      if (graceSeconds > 0 && pre && this.sandbox) {
        const budget = Math.max(0, deadlineOf() - Date.now());
        if (pre.exec?.command?.length) await run([...nsenterArgs(this.sandbox), ...pre.exec.command], { timeoutMs: budget });
        else if (pre.sleep?.seconds) await new Promise((r) => setTimeout(r, Math.min(budget, pre.sleep!.seconds * 1000)));
      }
      await stopProcess(proc.pid, deadlineOf);
      this.closeStdin(rt.spec.name);
      this.stopLogTimes(rt);
    }));
    if (this.sandbox) await destroySandbox(this.ctx.sandboxEnv, this.sandbox);
    else this.ctx.sandboxEnv.ipam.release(this.uid);
    fs.rmSync(this.dir, { recursive: true, force: true });
    this.done = true;
  }

  /** Stops timers and probes but leaves processes and sandbox running (agent stop with keepPods). */
  detach(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const rt of this.containers.values()) {
      for (const p of rt.probes) p.stop();
      rt.unwatch?.();
      this.stopLogTimes(rt);
      rt.proc?.child?.removeAllListeners('exit');
    }
    this.done = true;
  }
}

function fmtDuration(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 100) / 10}s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return s ? `${m}m${s}s` : `${m}m0s`;
}

/** Kills every process recorded in an orphaned Pod dir, then removes its sandbox. */
export async function cleanupOrphan(env: SandboxEnv, dir: string): Promise<void> {
  try {
    const st = JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8')) as { containers: Record<string, PersistedContainer> };
    for (const pc of Object.values(st.containers)) {
      if (pc.pid && pidAlive(pc.pid) && pidStartTime(pc.pid) === pc.pidStart) signalTree(pc.pid, 'SIGKILL');
    }
  } catch { /* no state */ }
  try {
    const sb = JSON.parse(fs.readFileSync(path.join(dir, 'sandbox.json'), 'utf8')) as SandboxRecord;
    await destroySandbox(env, sb);
  } catch { /* no sandbox */ }
  fs.rmSync(dir, { recursive: true, force: true });
}


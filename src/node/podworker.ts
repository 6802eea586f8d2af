/**
 * One Pod on this node: the executor of `computePodActions` (podactions.ts). The agent calls
 * `sync(pod)` from its keyed work queue whenever the Pod changes or something of the Pod's own
 * happens (a container exit, a probe flip, a backoff timer, the periodic resync); `sync` observes
 * (sandbox, container processes, probe results, backoff state), asks the pure decision function
 * what to do now, carries that out — sandbox, container runtime, Events — and writes status. It is
 * the only place that acts, so actions for one Pod never interleave.
 *
 * Containers run through a `ContainerRuntime` (runtime/runtime.ts): nothing here knows how a
 * container process is made. State that must outlive the agent (sandbox record, container records,
 * restart counts, backoff) is in `<podDir>/state.json`, so a restarted agent re-adopts running
 * Pods instead of restarting them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ConfigMap, Container, EphemeralContainer, Pod, PodStatus, Probe, Secret, Service } from 'kubernetes-types/core/v1.js';
import { isConflict, isNotFound } from '../api/errors.js';
import { R } from '../api/resources.js';
import type { Client } from '../client/client.js';
import { ContainerConfigError, containerEnv, expandVars } from './env.js';
import { run } from './exec.js';
import type { PodEvents } from './events.js';
import { LogTimeRecorder } from './logtimes.js';
import { computePodActions, nextBackoff, type BackoffPolicy, type ContainerAction, type ObservedPod } from './podactions.js';
import { ProbeWorker, runProbe, type NodeProber, type ProbeKind, type ProbeResult } from './prober.js';
import { pullSecretConfigs } from './pullsecrets.js';
import { NodeError } from './errors.js';
import type { ContainerExit, ContainerRuntime, ContainerStats, ImageInfo, RunningContainer } from './runtime/runtime.js';
import { createSandbox, destroySandbox, holderAlive, type SandboxEnv, type SandboxRecord } from './sandbox.js';
import { podStatus, statusFingerprint, type ContainerView, type PodView, type Termination } from './status.js';
import { PodVolumes } from './volumes/podvolumes.js';
import type { TokenManager } from './volumes/tokenmanager.js';
import type { ContainerMount } from './volumes/mounts.js';

/** The time source of the agent (injected so decisions are testable without sleeping). */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const realClock: Clock = { now: () => Date.now() };

/** What every Pod worker of one agent shares. */
export interface WorkerContext {
  client: Client;
  nodeName: string;
  hostIP: string;
  sandboxEnv: SandboxEnv;
  runtime: ContainerRuntime;
  prober: NodeProber;
  /** Events about Pods (repeats aggregated into one Event's count). */
  events: PodEvents;
  services(): Service[];
  /** Asks the agent to call sync for this Pod key soon. */
  enqueue(key: string): void;
  /** Crash-loop, image-pull and sandbox backoff (Kubernetes: 10 s doubling to 300 s). */
  backoff: BackoffPolicy;
  /** Length of one probe "second" (tests shorten it). */
  probeSecondMs: number;
  clock: Clock;
  /** Current ConfigMaps and Secrets (the agent's informers): env valueFrom/envFrom and volumes. */
  configMap?(namespace: string, name: string): ConfigMap | undefined;
  secret?(namespace: string, name: string): Secret | undefined;
  /** ServiceAccount tokens for projected volumes (absent: a token source fails the volume). */
  tokens?: TokenManager;
  /** The node's allocatable resources (downward API limits a container does not set). */
  allocatable?: Record<string, string>;
}

/** The worker's state of one container (init, regular or ephemeral). */
interface ContainerState {
  spec: Container;
  init: boolean;
  /** An ephemeral container (kubectl debug): started once, never restarted, never Ready. */
  ephemeral: boolean;
  /** What status shows. */
  view: ContainerView;
  running?: RunningContainer;
  /** Epoch ms of the running instance's start, and of the last termination (exact; status has seconds). */
  startedAtMs?: number;
  lastTimes?: { startedAtMs: number; finishedAtMs: number };
  /** Crash-loop backoff step (see podactions.ts). */
  backoffMs: number;
  /** Image pull backoff: the step and the earliest next pull. */
  pullBackoffMs: number;
  pullRetryAt: number;
  image?: ImageInfo;
  probes: ProbeWorker[];
  probeFailure?: 'liveness' | 'startup';
  /** A kill of the running instance is under way. */
  killing: boolean;
  /** Records when the running instance's log lines are written (logs --timestamps). */
  logTimes?: LogTimeRecorder;
}

/** The record of one container in state.json. */
interface PersistedContainer {
  /** The running instance: runtime id and what the runtime needs to find it again. */
  id?: string;
  pid?: number;
  pidStart?: string;
  startedAtMs?: number;
  restartCount: number;
  backoffMs: number;
  pullBackoffMs?: number;
  /** Earliest next image pull (epoch ms). */
  nextStartAt: number;
  running?: ContainerView['running'];
  last?: Termination;
  lastTimes?: { startedAtMs: number; finishedAtMs: number };
  previous?: Termination;
  /** The running instance's probe state (kept across an agent restart). */
  ready?: boolean;
  started?: boolean;
}

interface PersistedPod {
  initialized: boolean;
  startTime?: string;
  containers: Record<string, PersistedContainer>;
}

/** The log file of one container instance under the Pod dir. */
export function containerLogPath(podDir: string, container: string, restartCount: number): string {
  return path.join(podDir, 'logs', container, `${restartCount}.log`);
}

/** API time format (seconds). */
function apiTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

export class PodWorker {
  readonly key: string;
  readonly uid: string;
  sandbox?: SandboxRecord;
  private sandboxError?: string;
  private sandboxRetryAt = 0;
  private sandboxBackoff = 0;
  private readonly containers = new Map<string, ContainerState>();
  private initialized = false;
  private startTime?: string;
  private lastWritten = '';
  /** The state.json text last written. */
  private persisted = '';
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
  /** The Pod's volume directories (made before its containers start, refreshed every sync). */
  private readonly volumes: PodVolumes;
  /** The FailedMount messages last reported (reported again only when they change). */
  private volumeFailure = '';
  private volumeRetryMs = 0;
  private readonly warnedVolumes = new Set<string>();
  private tokenTimer?: NodeJS.Timeout;
  /** The CreateContainerConfigError message last reported per container. */
  private readonly configErrors = new Map<string, string>();

  constructor(private readonly ctx: WorkerContext, pod: Pod, readonly dir: string) {
    this.pod = pod;
    this.uid = pod.metadata?.uid ?? '';
    this.key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    fs.mkdirSync(dir, { recursive: true });
    for (const c of pod.spec?.initContainers ?? []) this.containers.set(c.name, this.newState(c, true));
    for (const c of pod.spec?.containers ?? []) this.containers.set(c.name, this.newState(c, false));
    this.addEphemeral(pod);
    if (!pod.spec?.initContainers?.length) this.initialized = true;
    // What the API already shows (a restarted agent adopting a Pod often computes the same status).
    if (pod.status) this.lastWritten = statusFingerprint(pod.status);
    this.volumes = new PodVolumes(dir, {
      configMap: (ns, name) => ctx.configMap?.(ns, name),
      secret: (ns, name) => ctx.secret?.(ns, name),
      token: (p, audience, seconds) => {
        if (!ctx.tokens) return Promise.reject(new Error('no token manager: ServiceAccount tokens are not available on this node'));
        return ctx.tokens.token(p, audience, seconds);
      },
      allocatable: ctx.allocatable,
    });
  }

  /** States for the ephemeral containers of `pod` not known yet (they are only ever added). */
  private addEphemeral(pod: Pod): void {
    for (const ec of pod.spec?.ephemeralContainers ?? []) {
      if (!this.containers.has(ec.name)) this.containers.set(ec.name, this.newState(ec as Container, false, true));
    }
  }

  private newState(c: Container, init: boolean, ephemeral = false): ContainerState {
    return {
      spec: c, init, ephemeral, backoffMs: 0, pullBackoffMs: 0, pullRetryAt: 0, probes: [], killing: false,
      view: { name: c.name, image: c.image ?? '', imageID: '', restartCount: 0, ready: false, started: false },
    };
  }

  private now(): number {
    return this.ctx.clock.now();
  }

  /**
   * Takes over what a previous agent recorded for this Pod (state.json, sandbox.json): restart
   * counts, last terminations and backoff always; the sandbox and its running containers when the
   * sandbox's holder is still alive (the same processes go on, with their readiness). Returns true
   * when the sandbox was adopted. Otherwise the recorded containers are ended and count as
   * terminated (exit 137: nobody saw their real exit), so restartCount goes up when they start again,
   * and the first sync replaces the sandbox under the same names.
   */
  adopt(): boolean {
    let st: PersistedPod | undefined;
    let sb: SandboxRecord | undefined;
    try {
      const text = fs.readFileSync(path.join(this.dir, 'state.json'), 'utf8');
      st = JSON.parse(text) as PersistedPod;
      this.persisted = text;
    } catch { /* none */ }
    try { sb = JSON.parse(fs.readFileSync(path.join(this.dir, 'sandbox.json'), 'utf8')) as SandboxRecord; } catch { /* none */ }
    if (!st) return false;
    const live = sb && sb.uid === this.uid && holderAlive(sb) ? sb : undefined;
    this.sandbox = live;
    this.initialized = st.initialized;
    this.startTime = st.startTime;
    for (const [name, pc] of Object.entries(st.containers)) {
      const cs = this.containers.get(name);
      if (!cs) continue;
      cs.view.restartCount = pc.restartCount;
      cs.view.last = pc.last;
      cs.view.previous = pc.previous;
      cs.lastTimes = pc.lastTimes ?? (pc.last ? { startedAtMs: Date.parse(pc.last.startedAt), finishedAtMs: Date.parse(pc.last.finishedAt) } : undefined);
      cs.backoffMs = pc.backoffMs;
      cs.pullBackoffMs = pc.pullBackoffMs ?? 0;
      cs.pullRetryAt = pc.nextStartAt;
      if (!pc.pid || !pc.running) continue;
      const id = pc.id ?? pc.running.containerID.replace(/^[a-z]+:\/\//, '');
      cs.view.running = pc.running;
      const startedAtMs = pc.startedAtMs ?? Date.parse(pc.running.startedAt);
      const where = live ?? sb;
      const running = where && this.ctx.runtime.adoptContainer(where, id, { pid: pc.pid, pidStart: pc.pidStart }, (exit) => this.onExit(cs, running!, exit.exitCode, exit.signal, exit));
      if (!running || !live) {
        // Gone while no agent watched, or its sandbox is: a termination whose exit code nobody
        // saw (137), so the restart policy applies and restartCount goes up.
        if (running) { this.ctx.runtime.release(running); void this.ctx.runtime.stopContainer(running, () => 0); }
        this.recordExit(cs, 137, undefined, startedAtMs, this.now());
        continue;
      }
      cs.running = running;
      cs.startedAtMs = startedAtMs;
      cs.view.started = pc.started ?? !cs.spec.startupProbe;
      cs.view.ready = pc.ready ?? (!cs.spec.readinessProbe && cs.view.started && !cs.init);
      void this.ctx.runtime.pullImage(cs.spec.image ?? '', { policy: 'Never' }).then((img) => { cs.image = img; cs.view.imageID = img.imageID; }, () => undefined);
      this.recordLogTimes(cs, containerLogPath(this.dir, name, cs.view.restartCount));
      // Probes go on from the recorded results: a Ready container stays Ready (and in its
      // Services' endpoints) unless its readiness probe now fails failureThreshold times.
      if (cs.view.started) this.startAfterStartup(cs, true);
      else this.startProbes(cs);
    }
    return !!live;
  }

  private persist(): void {
    const containers: Record<string, PersistedContainer> = {};
    for (const [name, cs] of this.containers) {
      containers[name] = {
        id: cs.running?.id, pid: cs.running?.record.pid, pidStart: cs.running?.record.pidStart, startedAtMs: cs.startedAtMs,
        restartCount: cs.view.restartCount, backoffMs: cs.backoffMs, pullBackoffMs: cs.pullBackoffMs, nextStartAt: cs.pullRetryAt,
        running: cs.view.running, last: cs.view.last, lastTimes: cs.lastTimes, previous: cs.view.previous,
        ready: cs.view.ready, started: cs.view.started,
      };
    }
    const text = JSON.stringify({ initialized: this.initialized, startTime: this.startTime, containers } satisfies PersistedPod);
    if (text === this.persisted) return; // a resync that changed nothing writes nothing
    try {
      fs.writeFileSync(path.join(this.dir, 'state.json.tmp'), text);
      fs.renameSync(path.join(this.dir, 'state.json.tmp'), path.join(this.dir, 'state.json'));
      this.persisted = text;
    } catch { /* the dir is being removed */ }
  }

  private later(ms: number): void {
    const t = setTimeout(() => { this.timers.delete(t); this.ctx.enqueue(this.key); }, Math.max(0, ms));
    this.timers.add(t);
  }

  private event(type: 'Normal' | 'Warning', reason: string, message: string, container?: string): void {
    const cs = container ? this.containers.get(container) : undefined;
    const fp = container ? `spec.${cs?.init ? 'initContainers' : cs?.ephemeral ? 'ephemeralContainers' : 'containers'}{${container}}` : undefined;
    this.ctx.events.record(this.pod, type, reason, message, fp);
  }

  /**
   * The runtime view of a container, for streams. `stdinOpen` is false once a stdinOnce
   * container's stdin has been closed (after its first attach), or when it has no stdin.
   */
  container(name?: string): { spec: Container; view: ContainerView; pid?: number; stdinFifo: string; stdinOpen: boolean } | undefined {
    const cs = name ? this.containers.get(name) : [...this.containers.values()].find((c) => !c.init && !c.ephemeral);
    if (!cs) return undefined;
    const stdinOpen = !!cs.spec.stdin && (!cs.spec.stdinOnce || cs.running?.stdinHold !== undefined);
    return { spec: cs.spec, view: cs.view, pid: cs.running?.pid, stdinFifo: path.join(this.dir, `stdin-${cs.spec.name}`), stdinOpen };
  }

  /** True when the Pod has a sandbox whose holder process is gone (the agent's relist checks this). */
  sandboxDied(): boolean {
    return !!this.sandbox && !this.done && !this.terminating && !holderAlive(this.sandbox);
  }

  /** argv that runs `command` inside container `name` (kubectl exec), or undefined if it is not running. */
  execArgv(name: string, command: string[], opts?: { tty?: boolean }): string[] | undefined {
    const cs = this.containers.get(name);
    if (!cs?.running || !this.sandbox) return undefined;
    return this.ctx.runtime.execArgv(this.sandbox, cs.spec, command, cs.running, opts);
  }

  /** CPU and memory counters of running container `name`, when its runtime keeps them (cgroups). */
  containerStats(name: string): ContainerStats | undefined {
    const r = this.containers.get(name)?.running;
    return r ? this.ctx.runtime.stats?.(r) : undefined;
  }

  /** The environment of running container `name` (what exec sees). */
  /** Passes a TTY container's new window size (kubectl attach -t) to its runtime. */
  resizeTerminal(name: string, width: number, height: number): void {
    const cs = this.containers.get(name);
    if (cs?.running) this.ctx.runtime.resizeTerminal?.(cs.running, width, height);
  }

  containerEnv(name: string): Record<string, string> {
    const cs = this.containers.get(name);
    return cs?.running ? this.ctx.runtime.containerEnv(cs.running) : {};
  }

  /** Makes the write times of everything logged so far readable (pods/log calls it first). */
  flushLogTimes(name: string): void {
    this.containers.get(name)?.logTimes?.flush();
  }

  private recordLogTimes(cs: ContainerState, logPath: string): void {
    cs.logTimes?.stop();
    cs.logTimes = new LogTimeRecorder(logPath);
    cs.logTimes.start();
  }

  private stopLogTimes(cs: ContainerState): void {
    cs.logTimes?.stop();
    cs.logTimes = undefined;
  }

  /**
   * stdinOnce: the first attach has ended, so the container's stdin is closed for good (this
   * container instance; a restart gets a fresh stdin). No-op for other containers.
   */
  closeStdin(name: string): void {
    const r = this.containers.get(name)?.running;
    if (r?.stdinHold === undefined) return;
    try { fs.closeSync(r.stdinHold); } catch { /* closed */ }
    r.stdinHold = undefined;
  }

  /** Names of all containers (init first). */
  containerNames(): string[] {
    return [...this.containers.keys()];
  }

  /** What the decision function sees. */
  private observe(): ObservedPod {
    return {
      sandbox: this.sandbox ? (holderAlive(this.sandbox) ? 'ready' : 'dead') : 'none',
      sandboxRetryAt: this.sandboxRetryAt,
      initialized: this.initialized,
      containers: [...this.containers.values()].map((cs) => ({
        name: cs.spec.name, init: cs.init, ephemeral: cs.ephemeral, running: !!cs.running, killing: cs.killing, probeFailure: cs.probeFailure,
        last: cs.view.last && cs.lastTimes ? { exitCode: cs.view.last.exitCode, ...cs.lastTimes } : undefined,
        restartCount: cs.view.restartCount, backoffMs: cs.backoffMs, pullRetryAt: cs.pullRetryAt,
      })),
    };
  }

  /** Reconciles the Pod's processes with its spec (decide, then act), then writes status if it changed. */
  async sync(pod: Pod): Promise<void> {
    if (this.done || this.terminating) return;
    this.pod = pod;
    this.addEphemeral(pod);
    // A round that changed the sandbox is followed by another, so a new sandbox gets its
    // containers in the same sync.
    for (let round = 0; round < 3; round++) {
      const actions = computePodActions(pod, this.observe(), this.now(), this.ctx.backoff);
      if (actions.terminate) {
        await this.terminate(actions.terminate.graceSeconds);
        try {
          await this.ctx.client.delete(R.pods, pod.metadata!.namespace, pod.metadata!.name!, { gracePeriodSeconds: 0, preconditions: { uid: this.uid } });
        } catch (e) {
          if (!isNotFound(e) && !isConflict(e)) throw e;
        }
        return;
      }
      if (!this.startTime) this.startTime = apiTime(this.now());
      if (actions.killPod) {
        await this.killPod();
        continue;
      }
      if (actions.createSandbox) {
        if (!(await this.createSandbox(pod))) break;
        if (this.terminating) return; // terminate() waits for `creating` and removes it
        continue;
      }
      if (actions.sandboxWaitUntil !== undefined) {
        for (const cs of this.containers.values()) if (!cs.running) cs.view.waiting = { reason: 'ContainerCreating' };
      }
      this.initialized = actions.initialized;
      // Volumes first (the kubelet's WaitForAttachAndMount): no container starts without them.
      const volumesReady = !this.sandbox || (await this.setUpVolumes());
      for (const a of actions.containers) {
        if (a.kind === 'start' && !volumesReady) {
          const cs = this.containers.get(a.name)!;
          if (!cs.running) cs.view.waiting = { reason: 'ContainerCreating' };
          continue;
        }
        await this.act(a);
      }
      if (actions.requeueAt !== undefined) this.later(actions.requeueAt - this.now());
      break;
    }
    this.persist();
    await this.writeStatus();
  }

  private async act(a: ContainerAction): Promise<void> {
    const cs = this.containers.get(a.name)!;
    switch (a.kind) {
      case 'finished':
        cs.view.waiting = undefined;
        return;
      case 'wait':
        cs.view.waiting = { reason: a.reason, message: a.message };
        if (a.reason === 'CrashLoopBackOff') {
          const m = this.pod.metadata ?? {};
          this.event('Warning', 'BackOff', `Back-off restarting failed container ${a.name} in pod ${m.name}_${m.namespace}(${this.uid})`, a.name);
        }
        return;
      case 'kill':
        this.kill(cs, a.message);
        return;
      case 'start':
        await this.start(cs, a.restart, a.backoffMs);
        return;
    }
  }

  /**
   * Makes or refreshes the Pod's volumes. False (with a FailedMount Event, and a retry scheduled)
   * when one cannot be made now: a ConfigMap, Secret or key that does not exist, a token the API
   * server will not issue. Schedules the next token refresh.
   */
  private async setUpVolumes(): Promise<boolean> {
    const r = await this.volumes.setUp(this.pod, { podIP: this.sandbox?.ip, hostIP: this.ctx.hostIP });
    for (const u of r.unsupported) {
      if (this.warnedVolumes.has(u.volume)) continue;
      this.warnedVolumes.add(u.volume);
      this.event('Warning', 'FailedMount', `volume "${u.volume}" (${u.kind}) is not supported by this node: it is not mounted`);
    }
    if (r.failed.length) {
      const texts = r.failed.map((f) => `MountVolume.SetUp failed for volume "${f.volume}" : ${f.message}`);
      const key = texts.join('\n');
      if (key !== this.volumeFailure) { for (const t of texts) this.event('Warning', 'FailedMount', t); this.volumeFailure = key; }
      this.volumeRetryMs = Math.min(Math.max(500, this.volumeRetryMs * 2), 30_000);
      this.later(this.volumeRetryMs);
      return false;
    }
    this.volumeFailure = '';
    this.volumeRetryMs = 0;
    const next = this.ctx.tokens?.nextRefresh(this.uid);
    if (next !== undefined) {
      if (this.tokenTimer) { clearTimeout(this.tokenTimer); this.timers.delete(this.tokenTimer); }
      const t = setTimeout(() => { this.timers.delete(t); this.ctx.enqueue(this.key); }, Math.max(0, next - this.now()));
      this.timers.add(t);
      this.tokenTimer = t;
    }
    return true;
  }

  /** Builds the sandbox; on failure records the error and its backoff. True when it exists. */
  private async createSandbox(pod: Pod): Promise<boolean> {
    try {
      this.creating = createSandbox(this.ctx.sandboxEnv, pod, this.dir);
      this.sandbox = await this.creating;
      this.sandboxError = undefined;
      this.sandboxBackoff = 0;
      if (!this.terminating) this.persist();
      return true;
    } catch (e) {
      this.sandboxError = e instanceof Error ? e.message : String(e);
      this.sandboxBackoff = nextBackoff(this.sandboxBackoff, this.ctx.backoff);
      this.sandboxRetryAt = this.now() + this.sandboxBackoff;
      this.later(this.sandboxBackoff);
      this.event('Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${this.sandboxError}`);
      for (const cs of this.containers.values()) cs.view.waiting = { reason: 'ContainerCreating' };
      return false;
    } finally {
      this.creating = undefined;
    }
  }

  /**
   * The sandbox died (its holder is gone): every container is stopped at once and the sandbox's
   * remains removed; the next round builds a new one and restarts the containers.
   */
  private async killPod(): Promise<void> {
    const sb = this.sandbox!;
    this.event('Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
    await Promise.all([...this.containers.values()].map(async (cs) => {
      const r = cs.running;
      if (!r) return;
      this.stopProbes(cs);
      await this.ctx.runtime.stopContainer(r, () => 0);
      // The exit callback may not have fired yet (or never, for an adopted process): record it here.
      if (cs.running === r) this.onExit(cs, r, 137, 9);
    }));
    await destroySandbox(this.ctx.sandboxEnv, sb, { keepAddress: true });
    this.sandbox = undefined;
    this.persist();
  }

  private async start(cs: ContainerState, restart: boolean, backoffMs: number): Promise<void> {
    if (this.terminating || this.done || !this.sandbox) return;
    const c = cs.spec;
    let image: ImageInfo;
    try {
      const secrets = this.pod.spec?.imagePullSecrets?.length ? await pullSecretConfigs(this.ctx.client, this.pod) : { configs: [], missing: [] };
      if (secrets.missing.length) {
        this.event('Warning', 'FailedToRetrieveImagePullSecret', `Unable to retrieve some image pull secrets (${secrets.missing.join(', ')}); attempting to pull the image may not succeed.`);
      }
      image = await this.ctx.runtime.pullImage(c.image ?? '', {
        policy: c.imagePullPolicy as 'Always' | 'IfNotPresent' | 'Never' | undefined, dockerConfigs: secrets.configs,
        onPulling: () => this.event('Normal', 'Pulling', `Pulling image "${c.image}"`, c.name),
      });
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (e instanceof NodeError && e.code === 'IMAGE_NEVER_PULL') {
        // The kubelet's ErrImageNeverPull: no pull and no pull backoff, just the message until it appears.
        cs.view.waiting = { reason: 'ErrImageNeverPull', message: msg };
        this.event('Warning', 'ErrImageNeverPull', msg, c.name);
        this.later(this.ctx.backoff.baseMs);
        return;
      }
      cs.view.waiting = { reason: 'ErrImagePull', message: msg };
      cs.pullBackoffMs = nextBackoff(cs.pullBackoffMs, this.ctx.backoff);
      cs.pullRetryAt = this.now() + cs.pullBackoffMs;
      this.event('Warning', 'Failed', `Failed to pull image "${c.image}": ${msg}`, c.name);
      this.event('Warning', 'Failed', 'Error: ErrImagePull', c.name);
      // Show ErrImagePull briefly, then ImagePullBackOff until the retry (as the kubelet does).
      this.later(Math.min(1000, cs.pullBackoffMs / 2));
      this.later(cs.pullBackoffMs);
      return;
    }
    cs.image = image;
    cs.view.imageID = image.imageID;
    cs.pullBackoffMs = 0;
    cs.pullRetryAt = 0;
    const sb = this.sandbox;
    let env: Record<string, string>;
    let mounts: ContainerMount[];
    try {
      env = containerEnv(this.pod, c, {
        podIP: sb.ip, hostIP: this.ctx.hostIP, nodeName: this.ctx.nodeName, services: this.ctx.services(), imageEnv: image.env,
        configMap: this.ctx.configMap, secret: this.ctx.secret, allocatable: this.ctx.allocatable,
      });
      // Volume mounts (subPaths resolved and checked to stay inside their volume), for either runtime.
      mounts = this.volumes.mountsFor(this.pod, c);
    } catch (e) {
      if (!(e instanceof ContainerConfigError)) throw e;
      // The kubelet's CreateContainerConfigError: the container waits until the object or key appears.
      cs.view.waiting = { reason: e.reason, message: e.message };
      if (this.configErrors.get(c.name) !== e.message) {
        this.configErrors.set(c.name, e.message);
        this.event('Warning', 'Failed', `Error: ${e.message}`, c.name);
      }
      this.later(5000);
      return;
    }
    this.configErrors.delete(c.name);
    if (restart) {
      cs.backoffMs = backoffMs;
      cs.view.restartCount++;
    }
    if (image.pulled) {
      const secs = `${(image.pulled.ms / 1000).toFixed(3).replace(/\.?0+$/, '')}s`;
      this.event('Normal', 'Pulled', `Successfully pulled image "${c.image}" in ${secs} (${secs} including waiting). Image size: ${image.pulled.bytes} bytes.`, c.name);
    } else if (!restart && !cs.view.last) {
      this.event('Normal', 'Pulled', `Container image "${c.image}" already present on machine${image.note ? ` (${image.note})` : ''}`, c.name);
    }
    const expand = (xs?: string[]): string[] | undefined => xs?.map((x) => expandVars(x, env));
    const containerDir = path.join(this.dir, 'containers', c.name);
    const logPath = containerLogPath(this.dir, c.name, cs.view.restartCount);
    try {
      fs.mkdirSync(containerDir, { recursive: true });
      fs.mkdirSync(path.dirname(logPath), { recursive: true });
      // The log file exists and is watched before the process can write its first line.
      fs.closeSync(fs.openSync(logPath, 'a'));
      this.recordLogTimes(cs, logPath);
      const startedAtMs = this.now();
      const target = cs.ephemeral ? this.containers.get((c as EphemeralContainer).targetContainerName ?? '')?.running : undefined;
      const running: RunningContainer = await this.ctx.runtime.startContainer({
        sandbox: sb, pod: this.pod, container: c, attempt: cs.view.restartCount, image, command: expand(c.command), args: expand(c.args), env, ...(target ? { target } : {}),
        containerDir, logPath, stdin: c.stdin ? { fifo: path.join(this.dir, `stdin-${c.name}`), once: !!c.stdinOnce } : undefined, tty: !!c.tty,
        mounts,
      }, (exit) => this.onExit(cs, running, exit.exitCode, exit.signal, exit));
      cs.running = running;
      cs.startedAtMs = startedAtMs;
      cs.probeFailure = undefined;
      cs.killing = false;
      cs.view.running = { startedAt: apiTime(startedAtMs), containerID: `${running.scheme ?? this.ctx.runtime.scheme}://${running.id}` };
      cs.view.waiting = undefined;
      cs.view.started = !c.startupProbe;
      cs.view.ready = !c.readinessProbe && !c.startupProbe && !cs.init && !cs.ephemeral;
      this.event('Normal', 'Created', `Created container ${c.name}`, c.name);
      this.event('Normal', 'Started', `Started container ${c.name}`, c.name);
      this.startProbes(cs);
      const post = c.lifecycle?.postStart?.exec?.command;
      if (post) void run(this.ctx.runtime.execArgv(sb, c, post, running), { timeoutMs: 30_000 });
    } catch (e) {
      this.stopLogTimes(cs);
      const msg = e instanceof Error ? e.message : String(e);
      const t = this.now();
      cs.view.previous = cs.view.last;
      cs.view.last = { exitCode: 128, reason: 'StartError', message: msg, startedAt: apiTime(t), finishedAt: apiTime(t), containerID: '' };
      cs.lastTimes = { startedAtMs: t, finishedAtMs: t };
      this.event('Warning', 'Failed', `Error: ${msg}`, c.name);
      this.later(0);
    }
  }

  private probeArgv(cs: ContainerState): (cmd: string[]) => string[] {
    return (cmd) => this.ctx.runtime.execArgv(this.sandbox!, cs.spec, cmd, cs.running);
  }

  /**
   * One attempt of a probe of `cs`. Every failed attempt is a Warning `Unhealthy` Event with the
   * kubelet's message (`Readiness probe failed: HTTP probe failed with statuscode: 404`), as the
   * kubelet records each; the recorder aggregates repeats into the Event's count, so `kubectl
   * describe pod` shows why a Pod is not Ready (or was restarted) and how often.
   */
  private probeAttempt(cs: ContainerState, kind: ProbeKind, p: Probe): () => Promise<ProbeResult> {
    const c = cs.spec;
    const podIP = this.sandbox!.ip;
    const title = `${kind[0]!.toUpperCase()}${kind.slice(1)}`;
    return async () => {
      const r = await runProbe(p, c, podIP, this.ctx.prober, this.probeArgv(cs));
      if (!r.ok) this.event('Warning', 'Unhealthy', `${title} probe failed: ${r.message}`, c.name);
      return r;
    };
  }

  private startProbes(cs: ContainerState): void {
    const c = cs.spec;
    const secondMs = this.ctx.probeSecondMs;
    if (c.startupProbe) {
      const w = new ProbeWorker('startup', c.startupProbe, this.probeAttempt(cs, 'startup', c.startupProbe), (ok) => {
        if (!ok) {
          cs.probeFailure = 'startup';
          this.ctx.enqueue(this.key);
          return;
        }
        cs.view.started = true;
        cs.view.ready = !c.readinessProbe;
        this.startAfterStartup(cs);
        this.ctx.enqueue(this.key);
      }, secondMs);
      cs.probes.push(w);
      w.start();
    } else {
      this.startAfterStartup(cs);
    }
  }

  /** Readiness and liveness probes (after startup). `resumed`: they go on from the recorded state. */
  private startAfterStartup(cs: ContainerState, resumed = false): void {
    const c = cs.spec;
    const secondMs = this.ctx.probeSecondMs;
    if (c.readinessProbe) {
      const w = new ProbeWorker('readiness', c.readinessProbe, this.probeAttempt(cs, 'readiness', c.readinessProbe), (ok) => {
        cs.view.ready = ok && cs.view.started && !!cs.running;
        this.ctx.enqueue(this.key);
      }, secondMs, resumed ? { initial: cs.view.ready } : undefined);
      cs.probes.push(w);
      w.start();
    }
    if (c.livenessProbe) {
      const w = new ProbeWorker('liveness', c.livenessProbe, this.probeAttempt(cs, 'liveness', c.livenessProbe), (ok) => {
        if (ok) return;
        cs.probeFailure = 'liveness';
        this.ctx.enqueue(this.key);
      }, secondMs, resumed ? { initial: true } : undefined);
      cs.probes.push(w);
      w.start();
    }
  }

  private stopProbes(cs: ContainerState): void {
    for (const p of cs.probes) p.stop();
    cs.probes = [];
  }

  /** Kills the running instance (failed probe) within the Pod's grace period; its exit restarts it. */
  private kill(cs: ContainerState, message: string): void {
    const r = cs.running;
    if (!r || cs.killing) return;
    cs.killing = true;
    this.event('Normal', 'Killing', message, cs.spec.name);
    const grace = (this.pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000;
    const deadline = this.now() + grace;
    void this.ctx.runtime.stopContainer(r, () => deadline);
  }

  private onExit(cs: ContainerState, r: RunningContainer, code: number, signal?: number, exit?: ContainerExit): void {
    if (cs.running !== r) return;
    this.ctx.runtime.release(r);
    this.stopProbes(cs);
    cs.running = undefined;
    cs.killing = false;
    cs.probeFailure = undefined;
    if (r.stdinHold !== undefined) { try { fs.closeSync(r.stdinHold); } catch { /* closed */ } }
    this.stopLogTimes(cs);
    this.recordExit(cs, code, signal, cs.startedAtMs ?? this.now(), this.now(), exit);
    this.persist();
    this.ctx.enqueue(this.key);
  }

  private recordExit(cs: ContainerState, code: number, signal: number | undefined, startedAtMs: number, finishedAtMs: number, exit?: ContainerExit): void {
    cs.view.previous = cs.view.last;
    cs.view.last = {
      exitCode: code, reason: exit?.reason ?? (code === 0 ? 'Completed' : 'Error'), startedAt: cs.view.running?.startedAt ?? apiTime(startedAtMs), finishedAt: apiTime(finishedAtMs),
      containerID: cs.view.running?.containerID ?? '', ...(signal ? { signal } : {}), ...(exit?.message ? { message: exit.message } : {}),
    };
    cs.lastTimes = { startedAtMs, finishedAtMs };
    cs.startedAtMs = undefined;
    cs.view.running = undefined;
    cs.view.ready = false;
    cs.view.started = false;
  }

  /** Writes status via the status subresource when it differs from what was last written. */
  private async writeStatus(): Promise<void> {
    if (this.done || this.terminating) return;
    const view: PodView = {
      podIP: this.sandbox?.ip, hostIP: this.ctx.hostIP, startTime: this.startTime, sandboxReady: !!this.sandbox,
      sandboxError: this.sandboxError, initialized: this.initialized,
      initContainers: [...this.containers.values()].filter((c) => c.init).map((c) => c.view),
      containers: [...this.containers.values()].filter((c) => !c.init && !c.ephemeral).map((c) => c.view),
      ephemeralContainers: [...this.containers.values()].filter((c) => c.ephemeral).map((c) => c.view),
    };
    const status = podStatus(this.pod, view, apiTime(this.now()));
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
    this.deadline = Math.min(this.deadline, this.now() + graceSeconds * 1000);
    if (!this.terminating) this.terminating = this.doTerminate(graceSeconds);
    return this.terminating;
  }

  private async doTerminate(graceSeconds: number): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.creating?.catch(() => undefined);
    const deadlineOf = (): number => this.deadline;
    await Promise.all([...this.containers.values()].map(async (cs) => {
      this.stopProbes(cs);
      const r = cs.running;
      if (!r) return;
      const pre = cs.spec.lifecycle?.preStop;
      if (graceSeconds > 0 && pre && this.sandbox) {
        const budget = Math.max(0, deadlineOf() - this.now());
        if (pre.exec?.command?.length) await run(this.ctx.runtime.execArgv(this.sandbox, cs.spec, pre.exec.command, r), { timeoutMs: budget });
        else if (pre.sleep?.seconds) await new Promise((res) => setTimeout(res, Math.min(budget, pre.sleep!.seconds * 1000)));
      }
      await this.ctx.runtime.stopContainer(r, deadlineOf);
      this.ctx.runtime.release(r);
      this.closeStdin(cs.spec.name);
      this.stopLogTimes(cs);
    }));
    if (this.sandbox) await destroySandbox(this.ctx.sandboxEnv, this.sandbox);
    else await destroySandbox(this.ctx.sandboxEnv, { uid: this.uid });
    this.ctx.tokens?.forget(this.uid);
    fs.rmSync(this.dir, { recursive: true, force: true });
    this.done = true;
  }

  /** Stops timers and probes but leaves processes and sandbox running (agent stop with keepPods). */
  detach(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const cs of this.containers.values()) {
      this.stopProbes(cs);
      this.stopLogTimes(cs);
      if (cs.running) this.ctx.runtime.release(cs.running);
    }
    this.done = true;
  }
}

/**
 * Removes what an orphaned Pod dir describes (its Pod is gone from the API, or was never
 * adoptable): every process the records name, then the sandbox under the names derived from the
 * Pod's UID — also one whose creation was cut short before it was recorded.
 */
export async function cleanupOrphan(env: SandboxEnv, runtime: ContainerRuntime, dir: string): Promise<void> {
  const uid = path.basename(dir);
  let sb: SandboxRecord | undefined;
  try { sb = JSON.parse(fs.readFileSync(path.join(dir, 'sandbox.json'), 'utf8')) as SandboxRecord; } catch { /* not recorded */ }
  try {
    const st = JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8')) as PersistedPod;
    for (const pc of Object.values(st.containers)) {
      if (!pc.pid || !sb) continue;
      const r = runtime.adoptContainer(sb, pc.id ?? '', { pid: pc.pid, pidStart: pc.pidStart }, () => undefined);
      if (r) { runtime.release(r); await runtime.stopContainer(r, () => 0); }
    }
  } catch { /* no state */ }
  await destroySandbox(env, sb ?? { uid });
  fs.rmSync(dir, { recursive: true, force: true });
}

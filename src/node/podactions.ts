/**
 * What should happen to one Pod now: a pure function of the Pod (spec, deletion), what the worker
 * observed (sandbox, each container's process, last exit, probe results, backoff) and the time —
 * the kubelet's `computePodActions` (pkg/kubelet/kuberuntime/kuberuntime_manager.go), with the
 * crash-loop and image-pull backoff decisions the kubelet makes in SyncPod folded in, so every
 * timing rule is decided here, with an injected clock, and tested in a table (podactions.test.ts).
 * The Pod worker (podworker.ts) observes, calls this, and carries the actions out.
 *
 * Rules (kubelet's):
 * - A Pod being deleted is only terminated.
 * - A sandbox that died (its holder process is gone) is torn down with every container in it
 *   ("killPod"); the next round creates a new one and restarts the containers (restartCount + 1).
 *   A restartPolicy Never Pod that already ran gets no new sandbox.
 * - Sandbox creation that failed is retried after its backoff.
 * - Init containers run one at a time, in order; a failed one is restarted unless the policy is
 *   Never; regular containers start once every init container has succeeded.
 * - A running container whose liveness or startup probe failed is killed (restarted by a later
 *   round unless the policy is Never).
 * - A stopped container is restarted per restartPolicy (Always; OnFailure on a non-zero exit) with
 *   the crash-loop backoff: the first restart at once, then base doubling to max; a run longer
 *   than twice the max resets the backoff.
 * - An image that could not be pulled is not pulled again before its retry time (ImagePullBackOff).
 * - Ephemeral containers (`kubectl debug`) start once the sandbox is ready, even before the init
 *   containers are done, and are never restarted: once one has run, it stays finished. They have
 *   no probes and are not part of readiness (status.ts). A finished Pod (every regular container
 *   done for good) starts none.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';

/** What the worker knows about one container (init or regular). */
export interface ObservedContainer {
  name: string;
  init: boolean;
  /** An ephemeral container (spec.ephemeralContainers). */
  ephemeral?: boolean;
  /** A process of this container runs. */
  running: boolean;
  /** A kill of the running instance is already under way. */
  killing: boolean;
  /** The running instance failed its liveness or startup probe (after failureThreshold). */
  probeFailure?: 'liveness' | 'startup';
  /** The last termination (epoch ms). */
  last?: { exitCode: number; startedAtMs: number; finishedAtMs: number };
  restartCount: number;
  /** Crash-loop backoff: the delay the next restart waits after the last exit (0 = at once). */
  backoffMs: number;
  /** An image pull failed: no pull before this time (epoch ms; 0 = none pending). */
  pullRetryAt: number;
}

/** What the worker knows about the Pod. */
export interface ObservedPod {
  /** none: not built (or removed); ready: built and its holder alive; dead: built, holder gone. */
  sandbox: 'none' | 'ready' | 'dead';
  /** Sandbox creation failed: no retry before this time (epoch ms). */
  sandboxRetryAt: number;
  /** Every init container has succeeded (stays true once true). */
  initialized: boolean;
  /** Init containers first, in spec order, then regular containers, then ephemeral ones, in spec order. */
  containers: ObservedContainer[];
}

/** Crash-loop backoff: first delay and cap (Kubernetes: 10 s and 300 s). */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/** What to do with one container. */
export type ContainerAction =
  /** Start it; `backoffMs` is the backoff step to keep after this start. */
  | { kind: 'start'; name: string; restart: boolean; backoffMs: number }
  /** Leave it stopped until `until` (epoch ms), showing `reason`/`message` as its waiting state. */
  | { kind: 'wait'; name: string; until: number; reason: 'CrashLoopBackOff' | 'ImagePullBackOff'; message: string }
  /** Kill the running instance (failed liveness/startup probe); `message` is the Event's. */
  | { kind: 'kill'; name: string; message: string }
  /** It has finished and must not run again (restartPolicy): no waiting state. */
  | { kind: 'finished'; name: string };

/** The actions of one round. */
export interface PodActions {
  /** The Pod is being deleted: stop everything within this grace period, then remove it. */
  terminate?: { graceSeconds: number };
  /** The sandbox died: stop every container and remove the sandbox's remains. */
  killPod: boolean;
  createSandbox: boolean;
  /** Sandbox creation waits for its backoff until this time. */
  sandboxWaitUntil?: number;
  /** The value of `initialized` after this round. */
  initialized: boolean;
  containers: ContainerAction[];
  /** The earliest time a waiting action becomes due (the worker syncs again then). */
  requeueAt?: number;
}

/** The next backoff step after `currentMs` (0 → base, then doubling to the cap). */
export function nextBackoff(currentMs: number, policy: BackoffPolicy): number {
  return currentMs > 0 ? Math.min(currentMs * 2, policy.maxMs) : policy.baseMs;
}

/** `10s`, `1m20s`: how the kubelet prints a backoff in CrashLoopBackOff messages. */
export function formatBackoff(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 100) / 10}s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${m}m${s}s`;
}

function shouldRestart(pod: Pod, c: ObservedContainer): boolean {
  if (c.ephemeral) return false;
  const policy = pod.spec?.restartPolicy ?? 'Always';
  const exit = c.last?.exitCode ?? 0;
  if (c.init) return exit !== 0 && policy !== 'Never';
  if (policy === 'Always') return true;
  if (policy === 'OnFailure') return exit !== 0;
  return false;
}

/** Start (first or restart) or wait, for a stopped container that should run. */
function startOrWait(pod: Pod, c: ObservedContainer, now: number, policy: BackoffPolicy): ContainerAction {
  if (now < c.pullRetryAt) {
    const image = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? []), ...(pod.spec?.ephemeralContainers ?? [])].find((s) => s.name === c.name)?.image ?? '';
    return { kind: 'wait', name: c.name, until: c.pullRetryAt, reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` };
  }
  if (!c.last) return { kind: 'start', name: c.name, restart: false, backoffMs: c.backoffMs };
  let step = c.backoffMs;
  if (c.last.finishedAtMs - c.last.startedAtMs > 2 * policy.maxMs) step = 0;
  if (step > 0 && now < c.last.finishedAtMs + step) {
    const m = pod.metadata ?? {};
    return {
      kind: 'wait', name: c.name, until: c.last.finishedAtMs + step, reason: 'CrashLoopBackOff',
      message: `back-off ${formatBackoff(step)} restarting failed container=${c.name} pod=${m.name}_${m.namespace}(${m.uid})`,
    };
  }
  return { kind: 'start', name: c.name, restart: true, backoffMs: nextBackoff(step, policy) };
}

/** Decides what to do with `pod` now (see the rules above). */
export function computePodActions(pod: Pod, observed: ObservedPod, now: number, policy: BackoffPolicy): PodActions {
  const actions: PodActions = { killPod: false, createSandbox: false, initialized: observed.initialized, containers: [] };
  if (pod.metadata?.deletionTimestamp) {
    const grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    actions.terminate = { graceSeconds: grace };
    return actions;
  }
  const restartPolicy = pod.spec?.restartPolicy ?? 'Always';
  if (observed.sandbox === 'dead') {
    actions.killPod = true;
    return actions;
  }
  if (observed.sandbox === 'none') {
    const ran = observed.containers.some((c) => !c.ephemeral && (c.last || c.running));
    if (restartPolicy === 'Never' && ran) return actions;
    if (now < observed.sandboxRetryAt) {
      actions.sandboxWaitUntil = observed.sandboxRetryAt;
      actions.requeueAt = observed.sandboxRetryAt;
      return actions;
    }
    actions.createSandbox = true;
    return actions;
  }

  // Ephemeral containers may start even if initialization is not complete (the kubelet's rule).
  const regular = observed.containers.filter((c) => !c.init && !c.ephemeral);
  const podFinished = regular.length > 0 && regular.every((c) => !c.running && c.last && !shouldRestart(pod, c));
  for (const c of observed.containers) {
    if (!c.ephemeral || c.running) continue;
    if (c.last || podFinished) actions.containers.push({ kind: 'finished', name: c.name });
    else actions.containers.push(startOrWait(pod, c, now, policy));
  }

  if (!observed.initialized) {
    let all = true;
    for (const c of observed.containers) {
      if (!c.init) continue;
      if (!c.running && c.last?.exitCode === 0) continue;
      all = false;
      if (c.running) break;
      if (c.last && !shouldRestart(pod, c)) actions.containers.push({ kind: 'finished', name: c.name });
      else actions.containers.push(startOrWait(pod, c, now, policy));
      break;
    }
    if (!all) return withRequeue(actions);
    actions.initialized = true;
  }

  for (const c of observed.containers) {
    if (c.init || c.ephemeral) continue;
    if (c.running) {
      if (c.probeFailure && !c.killing) {
        const what = c.probeFailure === 'liveness' ? 'liveness' : 'startup';
        const restart = restartPolicy !== 'Never';
        actions.containers.push({ kind: 'kill', name: c.name, message: `Container ${c.name} failed ${what} probe${restart ? ', will be restarted' : ''}` });
      }
      continue;
    }
    if (c.last && !shouldRestart(pod, c)) actions.containers.push({ kind: 'finished', name: c.name });
    else actions.containers.push(startOrWait(pod, c, now, policy));
  }
  return withRequeue(actions);
}

function withRequeue(actions: PodActions): PodActions {
  for (const a of actions.containers) {
    if (a.kind === 'wait' && (actions.requeueAt === undefined || a.until < actions.requeueAt)) actions.requeueAt = a.until;
  }
  return actions;
}

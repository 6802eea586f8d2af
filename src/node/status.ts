/**
 * Pure computation of a Pod's status from what the agent knows about its sandbox and containers,
 * following the kubelet's rules (pkg/kubelet/kubelet_pods.go getPhase / generateAPIPodStatus):
 * phase, the conditions PodScheduled, PodReadyToStartContainers, Initialized, ContainersReady, Ready
 * (lastTransitionTime kept while a condition's status does not change), podIP/podIPs, hostIP,
 * startTime, containerStatuses, initContainerStatuses and ephemeralContainerStatuses.
 */
import type { ContainerState, ContainerStatus, Pod, PodCondition, PodStatus } from 'kubernetes-types/core/v1.js';

/** One termination of a container process. */
export interface Termination {
  exitCode: number;
  reason: string;
  message?: string;
  signal?: number;
  startedAt: string;
  finishedAt: string;
  containerID: string;
}

/** The agent's view of one container (init or regular). */
export interface ContainerView {
  name: string;
  image: string;
  imageID: string;
  restartCount: number;
  /** Set while a process runs. */
  running?: { startedAt: string; containerID: string };
  /** Set while the container is not running and will (or may) start. */
  waiting?: { reason: string; message?: string };
  /** The last termination (state.terminated when not restarting, else lastState). */
  last?: Termination;
  /** The termination before `last` (lastState when `last` is the current state). */
  previous?: Termination;
  ready: boolean;
  started: boolean;
}

/** The agent's view of a Pod. */
export interface PodView {
  podIP?: string;
  hostIP: string;
  startTime?: string;
  sandboxReady: boolean;
  /** Why the sandbox failed, if it did. */
  sandboxError?: string;
  initContainers: ContainerView[];
  containers: ContainerView[];
  /** Ephemeral containers (kubectl debug): in ephemeralContainerStatuses, never in phase or readiness. */
  ephemeralContainers?: ContainerView[];
  /** True once every init container has succeeded. */
  initialized: boolean;
}

function state(c: ContainerView): { state: ContainerState; lastState: ContainerState } {
  const term = (t: Termination): ContainerState => ({ terminated: { ...t } });
  if (c.running) return { state: { running: { startedAt: c.running.startedAt } }, lastState: c.last ? term(c.last) : {} };
  if (c.waiting) return { state: { waiting: { ...c.waiting } }, lastState: c.last ? term(c.last) : {} };
  if (c.last) return { state: term(c.last), lastState: c.previous ? term(c.previous) : {} };
  return { state: { waiting: { reason: 'ContainerCreating' } }, lastState: {} };
}

/** A ContainerStatus as the API shows it. */
export function containerStatus(c: ContainerView): ContainerStatus {
  const s = state(c);
  const out: ContainerStatus = {
    name: c.name, image: c.image, imageID: c.imageID, ready: c.ready, restartCount: c.restartCount,
    started: c.started, state: s.state, lastState: s.lastState,
  };
  const id = c.running?.containerID ?? c.last?.containerID;
  if (id) out.containerID = id;
  return out;
}

/** The kubelet's phase rule. */
export function podPhase(pod: Pod, v: PodView): PodStatus['phase'] {
  const policy = pod.spec?.restartPolicy ?? 'Always';
  if (!v.initialized) {
    const failedInit = v.initContainers.some((c) => !c.running && !c.waiting && c.last && c.last.exitCode !== 0);
    return failedInit && policy === 'Never' ? 'Failed' : 'Pending';
  }
  let running = 0, waiting = 0, stopped = 0, succeeded = 0;
  for (const c of v.containers) {
    if (c.running) running++;
    else if (c.waiting) { if (c.last) stopped++; else waiting++; }
    else if (c.last) { stopped++; if (c.last.exitCode === 0) succeeded++; }
    else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

function cond(type: string, ok: boolean, prev: PodCondition[] | undefined, now: string, reason?: string, message?: string): PodCondition {
  const status = ok ? 'True' : 'False';
  const old = prev?.find((c) => c.type === type);
  const c: PodCondition = { type, status, lastProbeTime: null as unknown as string, lastTransitionTime: old?.status === status && old.lastTransitionTime ? old.lastTransitionTime : now };
  if (!ok && reason) c.reason = reason;
  if (!ok && message) c.message = message;
  return c;
}

/** The status the agent writes for `pod` (compared with the last one written before writing). */
export function podStatus(pod: Pod, v: PodView, now: string): PodStatus {
  const prev = pod.status?.conditions;
  const phase = podPhase(pod, v);
  const notReady = v.containers.filter((c) => !c.ready).map((c) => c.name);
  const msg = notReady.length ? `containers with unready status: [${notReady.join(' ')}]` : undefined;
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  const containersReady = notReady.length === 0 && !terminal;
  const uninit = v.initContainers.filter((c) => !(c.last && c.last.exitCode === 0 && !c.running)).map((c) => c.name);
  const status: PodStatus = {
    phase,
    conditions: [
      cond('PodReadyToStartContainers', v.sandboxReady, prev, now),
      cond('Initialized', v.initialized, prev, now, 'ContainersNotInitialized', `containers with incomplete status: [${uninit.join(' ')}]`),
      cond('Ready', containersReady, prev, now, terminal ? 'PodCompleted' : 'ContainersNotReady', terminal ? undefined : msg),
      cond('ContainersReady', containersReady, prev, now, terminal ? 'PodCompleted' : 'ContainersNotReady', terminal ? undefined : msg),
      cond('PodScheduled', true, prev, now),
    ],
    hostIP: v.hostIP,
    hostIPs: [{ ip: v.hostIP }],
    containerStatuses: v.containers.map(containerStatus),
    qosClass: pod.status?.qosClass ?? 'BestEffort',
  };
  if (v.sandboxError) status.message = v.sandboxError;
  if (v.podIP) { status.podIP = v.podIP; status.podIPs = [{ ip: v.podIP }]; }
  if (v.startTime) status.startTime = v.startTime;
  if (v.initContainers.length) status.initContainerStatuses = v.initContainers.map(containerStatus);
  if (v.ephemeralContainers?.length) {
    // As the kubelet reports them: never ready, and no `started` (they have no startup probe).
    status.ephemeralContainerStatuses = v.ephemeralContainers.map((c) => {
      const { started: _s, ...st } = containerStatus({ ...c, ready: false });
      return st as ContainerStatus;
    });
  }
  return status;
}

/** The fields compared to decide whether a write is needed (ignores nothing time-varying we own). */
export function statusFingerprint(s: PodStatus): string {
  return JSON.stringify(s);
}

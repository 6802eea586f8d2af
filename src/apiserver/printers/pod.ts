/** `kubectl get pods`: NAME READY STATUS RESTARTS AGE (+ IP NODE NOMINATED NODE READINESS GATES). */
import type { Container, ContainerStatus, Pod } from 'kubernetes-types/core/v1.js';
import { ageSince } from './duration.js';
import { AGE_COLUMN, col, doc, NAME_COLUMN, type Printer, type RowCondition } from './printer.js';

const SUCCEEDED: RowCondition[] = [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }];
const FAILED: RowCondition[] = [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }];

const isRestartableInit = (c: Container | undefined): boolean => c?.restartPolicy === 'Always';
const laterOf = (a: string | undefined, b: string | undefined): string | undefined =>
  !a ? b : !b ? a : Date.parse(b) > Date.parse(a) ? b : a;

/**
 * The STATUS, READY and RESTARTS of a pod, following printers.go printPod: waiting/terminated
 * reasons of the last container that has one (ContainerCreating, CrashLoopBackOff, ErrImagePull,
 * Completed, Error), Init:N/M / Init:<reason> while init containers run, Terminating once deleted.
 */
export function podStatusSummary(pod: Pod, now: number): { ready: string; status: string; restarts: string } {
  const spec = pod.spec ?? { containers: [] };
  const st = pod.status ?? {};
  let totalContainers = spec.containers?.length ?? 0;
  let readyContainers = 0;
  let restarts = 0;
  let restartableInitRestarts = 0;
  let lastRestart: string | undefined;
  let lastRestartableInitRestart: string | undefined;
  let reason = st.phase ?? '';
  if (st.reason) reason = st.reason;
  if (st.conditions?.some((c) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated')) reason = 'SchedulingGated';

  const initSpecs = new Map((spec.initContainers ?? []).map((c) => [c.name, c]));
  for (const c of spec.initContainers ?? []) if (isRestartableInit(c)) totalContainers++;

  let initializing = false;
  const initStatuses: ContainerStatus[] = st.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const c = initStatuses[i]!;
    restarts += c.restartCount ?? 0;
    lastRestart = laterOf(lastRestart, c.lastState?.terminated?.finishedAt);
    if (isRestartableInit(initSpecs.get(c.name))) {
      restartableInitRestarts += c.restartCount ?? 0;
      lastRestartableInitRestart = laterOf(lastRestartableInitRestart, c.lastState?.terminated?.finishedAt);
    }
    const term = c.state?.terminated;
    const waiting = c.state?.waiting;
    if (term && term.exitCode === 0) continue;
    if (isRestartableInit(initSpecs.get(c.name)) && c.started) { if (c.ready) readyContainers++; continue; }
    if (term) {
      reason = term.reason ? `Init:${term.reason}` : term.signal ? `Init:Signal:${term.signal}` : `Init:ExitCode:${term.exitCode}`;
    } else if (waiting?.reason && waiting.reason !== 'PodInitializing') {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${i}/${spec.initContainers?.length ?? 0}`;
    }
    initializing = true;
    break;
  }

  const initialized = st.conditions?.some((c) => c.type === 'Initialized' && c.status === 'True') ?? false;
  if (!initializing || initialized) {
    restarts = restartableInitRestarts;
    lastRestart = lastRestartableInitRestart;
    let hasRunning = false;
    const cs = st.containerStatuses ?? [];
    for (let i = cs.length - 1; i >= 0; i--) {
      const c = cs[i]!;
      restarts += c.restartCount ?? 0;
      lastRestart = laterOf(lastRestart, c.lastState?.terminated?.finishedAt);
      const waiting = c.state?.waiting;
      const term = c.state?.terminated;
      if (waiting?.reason) reason = waiting.reason;
      else if (term?.reason) reason = term.reason;
      else if (term) reason = term.signal ? `Signal:${term.signal}` : `ExitCode:${term.exitCode}`;
      else if (c.ready && c.state?.running) { hasRunning = true; readyContainers++; }
    }
    if (reason === 'Completed' && hasRunning) {
      reason = st.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
    }
  }

  const terminal = st.phase === 'Succeeded' || st.phase === 'Failed';
  if (pod.metadata?.deletionTimestamp && st.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata?.deletionTimestamp && !terminal) reason = 'Terminating';

  const restartsText = restarts !== 0 && lastRestart ? `${restarts} (${ageSince(lastRestart, now)} ago)` : String(restarts);
  return { ready: `${readyContainers}/${totalContainers}`, status: reason, restarts: restartsText };
}

/** Printer for core/v1 Pod. */
export const podPrinter: Printer<Pod> = {
  columns: [
    NAME_COLUMN,
    col('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
    col('Status', 'string', 'The aggregate status of the containers in this pod.'),
    col('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    AGE_COLUMN,
    col('IP', 'string', doc('io.k8s.api.core.v1.PodStatus', 'podIP'), 1),
    col('Node', 'string', doc('io.k8s.api.core.v1.PodSpec', 'nodeName'), 1),
    col('Nominated Node', 'string', doc('io.k8s.api.core.v1.PodStatus', 'nominatedNodeName'), 1),
    col('Readiness Gates', 'string', doc('io.k8s.api.core.v1.PodSpec', 'readinessGates'), 1),
  ],
  row(pod, now) {
    const s = podStatusSummary(pod, now);
    const st = pod.status ?? {};
    const gates = pod.spec?.readinessGates ?? [];
    let readinessGates = '<none>';
    if (gates.length) {
      const trueCount = gates.filter((g) => st.conditions?.find((c) => c.type === g.conditionType)?.status === 'True').length;
      readinessGates = `${trueCount}/${gates.length}`;
    }
    return {
      cells: [pod.metadata?.name ?? '', s.ready, s.status, s.restarts, ageSince(pod.metadata?.creationTimestamp, now),
        st.podIPs?.[0]?.ip || st.podIP || '<none>', pod.spec?.nodeName || '<none>', st.nominatedNodeName || '<none>', readinessGates],
      ...(st.phase === 'Succeeded' ? { conditions: SUCCEEDED } : st.phase === 'Failed' ? { conditions: FAILED } : {}),
    };
  },
};

/** Small predicates about Pods shared by the controllers (k8s.io/kubernetes/pkg/api/v1/pod). */
import type { Pod } from 'kubernetes-types/core/v1.js';

/** True when the Pod's Ready condition is True. */
export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** The time the Ready condition last changed to True, or undefined. */
export function readySince(pod: Pod): Date | undefined {
  const c = pod.status?.conditions?.find((x) => x.type === 'Ready' && x.status === 'True');
  return c?.lastTransitionTime ? new Date(c.lastTransitionTime) : undefined;
}

/** Ready for at least `minReadySeconds` at `now` (controller.IsPodAvailable). */
export function isPodAvailable(pod: Pod, minReadySeconds: number, now: Date): boolean {
  if (!isPodReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const since = readySince(pod);
  return since !== undefined && since.getTime() + minReadySeconds * 1000 <= now.getTime();
}

/** Succeeded or Failed: the Pod will never run again. */
export function isPodTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** Not terminal and not being deleted (controller.IsPodActive). */
export function isPodActive(pod: Pod): boolean {
  return !isPodTerminal(pod) && !pod.metadata?.deletionTimestamp;
}

/** The controller ownerReference, if any. */
export function controllerRef(obj: { metadata?: { ownerReferences?: { controller?: boolean; uid: string; kind: string; name: string }[] } }):
  { uid: string; kind: string; name: string } | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r.controller === true);
}

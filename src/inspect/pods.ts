/**
 * What a Pod means for a Service, read from its object: whether it is Ready and if not why
 * (scheduling, a waiting container and its reason, a failing readiness probe from the kubelet's
 * Unhealthy Events), and which container port a Service's targetPort resolves to in it. Pure.
 */
import type { Container, ContainerPort, Event as CoreEvent, Pod } from 'kubernetes-types/core/v1.js';
import type { ServicePortView } from './types.js';

/** The Pod's Ready condition. */
export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** `ReplicaSet/web-5fd58b4b97`, from the controller ownerReference. */
export function ownerOf(pod: Pod): string | undefined {
  const o = pod.metadata?.ownerReferences?.find((r) => r.controller) ?? pod.metadata?.ownerReferences?.[0];
  return o ? `${o.kind}/${o.name}` : undefined;
}

/** Restarts summed over the Pod's containers. */
export function restartsOf(pod: Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
}

function latest(events: readonly CoreEvent[], pod: Pod, reason: string, prefix?: string): CoreEvent | undefined {
  const mine = events.filter((e) => e.involvedObject?.name === pod.metadata?.name && e.involvedObject?.namespace === pod.metadata?.namespace &&
    (!e.involvedObject?.uid || e.involvedObject.uid === pod.metadata?.uid) && e.reason === reason && (!prefix || (e.message ?? '').startsWith(prefix)));
  const time = (e: CoreEvent): string => e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp ?? '';
  return mine.sort((a, b) => time(b).localeCompare(time(a)))[0];
}

/**
 * Why the Pod is not Ready, in the words `kubectl describe pod` would give; undefined when Ready.
 * Order: being deleted, not scheduled, a container waiting (CrashLoopBackOff, ImagePullBackOff, ...),
 * a container that exited, a readiness probe failing (the latest Unhealthy Event), the Ready condition.
 */
export function whyNotReady(pod: Pod, events: readonly CoreEvent[] = []): string | undefined {
  if (pod.metadata?.deletionTimestamp) return `terminating (deletion requested ${pod.metadata.deletionTimestamp})`;
  if (isPodReady(pod)) return undefined;
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return `the Pod has ${phase === 'Succeeded' ? 'completed' : 'failed'} (phase ${phase}${pod.status?.reason ? `, ${pod.status.reason}` : ''})`;
  const sched = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (!pod.spec?.nodeName && sched?.status !== 'True') {
    return `not scheduled${sched?.reason ? ` (${sched.reason})` : ''}${sched?.message ? `: ${sched.message}` : ''}`;
  }
  for (const c of pod.status?.containerStatuses ?? []) {
    const w = c.state?.waiting;
    if (w?.reason && w.reason !== 'ContainerCreating' && w.reason !== 'PodInitializing') {
      const last = c.lastState?.terminated;
      const exit = last ? `; last run exited ${last.exitCode}${last.reason ? ` (${last.reason})` : ''}` : '';
      return `container ${c.name} waiting: ${w.reason}${w.message ? `: ${w.message}` : ''}${exit}`;
    }
    const t = c.state?.terminated;
    if (t) return `container ${c.name} exited ${t.exitCode}${t.reason ? ` (${t.reason})` : ''}`;
  }
  for (const c of pod.status?.containerStatuses ?? []) {
    if (c.state?.running && !c.ready) {
      const ev = latest(events, pod, 'Unhealthy', 'Readiness probe failed') ?? latest(events, pod, 'Unhealthy', 'Startup probe failed');
      if (ev) return `container ${c.name} running but not ready: ${ev.message}${(ev.count ?? 1) > 1 ? ` (${ev.count} times)` : ''}`;
      const probe = pod.spec?.containers?.find((x) => x.name === c.name)?.readinessProbe;
      return `container ${c.name} running but not ready${probe ? ' (its readiness probe has not passed yet)' : ''}`;
    }
  }
  const sandbox = latest(events, pod, 'FailedCreatePodSandBox');
  if (sandbox) return `sandbox not created: ${sandbox.message}`;
  const waiting = (pod.status?.containerStatuses ?? []).find((c) => c.state?.waiting);
  if (waiting) return `container ${waiting.name} waiting: ${waiting.state!.waiting!.reason ?? 'starting'}`;
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  return ready?.message ?? ready?.reason ?? `phase ${phase ?? 'Pending'}`;
}

/** How a Service port's targetPort maps onto one Pod. */
export interface ResolvedPort {
  /** The number traffic is sent to; undefined when a named targetPort matches no container port. */
  port?: number;
  container?: string;
  /** The matching containerPort declaration (absent: the number is not declared, which Kubernetes allows). */
  declared?: ContainerPort;
}

/**
 * Resolves `sp.targetPort` in `pod` as the EndpointSlice controller does (FindPort): a number is used
 * as is; a name must match a container port's name with the same protocol.
 */
export function resolveTargetPort(pod: Pod, sp: Pick<ServicePortView, 'targetPort' | 'protocol'>): ResolvedPort {
  const containers: Container[] = pod.spec?.containers ?? [];
  if (typeof sp.targetPort === 'number') {
    for (const c of containers) {
      const d = (c.ports ?? []).find((p) => p.containerPort === sp.targetPort && (p.protocol ?? 'TCP') === sp.protocol);
      if (d) return { port: sp.targetPort, container: c.name, declared: d };
    }
    return { port: sp.targetPort, container: containers.length === 1 ? containers[0]!.name : undefined };
  }
  for (const c of containers) {
    const d = (c.ports ?? []).find((p) => p.name === sp.targetPort && (p.protocol ?? 'TCP') === sp.protocol);
    if (d) return { port: d.containerPort, container: c.name, declared: d };
  }
  return {};
}

/** Every containerPort a Pod declares, `name:number/PROTO` for display. */
export function declaredPorts(pod: Pod): { container: string; port: ContainerPort }[] {
  return (pod.spec?.containers ?? []).flatMap((c) => (c.ports ?? []).map((p) => ({ container: c.name, port: p })));
}

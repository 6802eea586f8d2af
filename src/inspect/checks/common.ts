/**
 * Helpers shared by the checks: building findings, labels and fix commands.
 */
export { sliceEndpoints, usable, type SliceEndpoint } from '../endpoints.js';
import type { CheckName, Finding, ServicePortView, ServiceView, Verdict } from '../types.js';

export function finding(check: CheckName, verdict: Verdict, code: string, title: string, evidence: string[] = [], fix: string[] = []): Finding {
  return { check, verdict, code, title, evidence, fix };
}

/** `http 80/TCP` or `80/TCP`. */
export function portLabel(p: ServicePortView): string {
  return `${p.name ? `${p.name} ` : ''}${p.port}/${p.protocol}`;
}

/** `kubectl patch svc` replacing one port's targetPort. */
export function patchTargetPort(v: ServiceView, index: number, value: number | string): string {
  return `kubectl patch svc ${v.name} -n ${v.namespace} --type=json -p '[{"op":"replace","path":"/spec/ports/${index}/targetPort","value":${JSON.stringify(value)}}]'`;
}

/** The Deployment that owns a ReplicaSet-made Pod (`web-5fd58b4b97` → `web`), when the hash label says so. */
export function deploymentOf(owner: string | undefined, labels: Record<string, string> | undefined): string | undefined {
  const hash = labels?.['pod-template-hash'];
  const m = owner && /^ReplicaSet\/(.+)$/.exec(owner);
  if (!m || !hash || !m[1]!.endsWith(`-${hash}`)) return undefined;
  return m[1]!.slice(0, -hash.length - 1);
}

/** Describes the Service's kind in a few words. */
export function serviceKind(v: ServiceView): string {
  if (v.type === 'ExternalName') return `ExternalName (DNS alias for ${v.externalName})`;
  if (v.headless) return 'headless (clusterIP: None: DNS answers with the Pod IPs)';
  return `${v.type} ${v.clusterIP ?? ''}`.trim();
}

/**
 * The `kubectl debug` command that lists what listens inside a Pod, from a debug container in the
 * Pod's own network namespace (pods/ephemeralcontainers): the by-hand version of the socket read
 * diagnose does, for a learner to see for themselves. `--target` names the container the port
 * belongs to, when known.
 */
export function debugListenersCommand(pod: string, namespace: string, container?: string): string {
  return `kubectl debug -q -i ${pod} -n ${namespace} --image=busybox --profile=general${container ? ` --target=${container}` : ''} -- netstat -tlnu   # what listens inside the Pod, seen from its own network namespace`;
}

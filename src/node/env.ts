/**
 * A container's environment as the kubelet builds it: Service links (Docker-link-style variables for
 * every Service of the Pod's namespace when enableServiceLinks is not false, plus the master service
 * `kubernetes` from `default`), the container's env with valueFrom fieldRef, and $(VAR) expansion.
 * Pure: the agent passes the Services it has cached at container start (as Kubernetes does, the
 * variables are fixed when the container starts).
 */
import type { Container, Pod, Service } from 'kubernetes-types/core/v1.js';

/** Inputs that are not in the Pod spec. */
export interface EnvContext {
  podIP: string;
  hostIP: string;
  nodeName: string;
  services: Service[];
  imageEnv: Record<string, string>;
}

function envName(s: string): string {
  return s.toUpperCase().replace(/-/g, '_');
}

/** The Docker-link variables for one Service. */
export function serviceEnv(svc: Service): Record<string, string> {
  const out: Record<string, string> = {};
  const ip = svc.spec?.clusterIP;
  if (!ip || ip === 'None' || !svc.spec?.ports?.length) return out;
  const name = envName(svc.metadata?.name ?? '');
  const first = svc.spec.ports[0]!;
  out[`${name}_SERVICE_HOST`] = ip;
  out[`${name}_SERVICE_PORT`] = String(first.port);
  for (const p of svc.spec.ports) if (p.name) out[`${name}_SERVICE_PORT_${envName(p.name)}`] = String(p.port);
  const proto0 = (first.protocol ?? 'TCP').toLowerCase();
  out[`${name}_PORT`] = `${proto0}://${ip}:${first.port}`;
  for (const p of svc.spec.ports) {
    const proto = p.protocol ?? 'TCP';
    const pre = `${name}_PORT_${p.port}_${proto}`;
    out[pre] = `${proto.toLowerCase()}://${ip}:${p.port}`;
    out[`${pre}_PROTO`] = proto.toLowerCase();
    out[`${pre}_PORT`] = String(p.port);
    out[`${pre}_ADDR`] = ip;
  }
  return out;
}

/** Expands $(VAR) from `vars`; $$(VAR) escapes; unknown references stay as written. */
export function expandVars(s: string, vars: Record<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, v: string | undefined) => {
    if (m === '$$') return '$';
    return v !== undefined && v in vars ? vars[v]! : m;
  });
}

function fieldRef(pod: Pod, path: string, ctx: EnvContext): string {
  switch (path) {
    case 'metadata.name': return pod.metadata?.name ?? '';
    case 'metadata.namespace': return pod.metadata?.namespace ?? '';
    case 'metadata.uid': return pod.metadata?.uid ?? '';
    case 'spec.nodeName': return ctx.nodeName;
    case 'spec.serviceAccountName': return pod.spec?.serviceAccountName ?? 'default';
    case 'status.podIP': case 'status.podIPs': return ctx.podIP;
    case 'status.hostIP': case 'status.hostIPs': return ctx.hostIP;
    default: {
      const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
      if (m) return (m[1] === 'labels' ? pod.metadata?.labels : pod.metadata?.annotations)?.[m[2]!] ?? '';
      return '';
    }
  }
}

/** The full environment of `c` in `pod`. */
export function containerEnv(pod: Pod, c: Container, ctx: EnvContext): Record<string, string> {
  const env: Record<string, string> = { ...ctx.imageEnv, HOSTNAME: pod.spec?.hostname ?? pod.metadata?.name ?? '' };
  const ns = pod.metadata?.namespace ?? 'default';
  const links = pod.spec?.enableServiceLinks !== false;
  for (const svc of ctx.services) {
    const isMaster = svc.metadata?.namespace === 'default' && svc.metadata?.name === 'kubernetes';
    if (isMaster || (links && svc.metadata?.namespace === ns)) Object.assign(env, serviceEnv(svc));
  }
  if (c.stdin && c.tty) env.TERM = 'xterm';
  const own: Record<string, string> = {};
  for (const e of c.env ?? []) {
    let v = e.value !== undefined ? expandVars(e.value, { ...env, ...own }) : '';
    if (e.valueFrom?.fieldRef) v = fieldRef(pod, e.valueFrom.fieldRef.fieldPath, ctx);
    own[e.name] = v;
  }
  return { ...env, ...own };
}

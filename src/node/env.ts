/**
 * A container's environment as the kubelet builds it (makeEnvironmentVariables): Service links
 * (Docker-link-style variables for every Service of the Pod's namespace when enableServiceLinks is
 * not false, plus the master service `kubernetes` from `default` — KUBERNETES_SERVICE_HOST/PORT), then
 * `envFrom` (ConfigMaps and Secrets, with their prefix), then `env` in order — a `value` with $(VAR)
 * expanded from what is declared so far and the Service variables, or `valueFrom` a field of the Pod
 * (fieldRef), a resource of the container (resourceFieldRef), a ConfigMap key or a Secret key.
 * A ConfigMap, Secret or key that is missing and not optional is a `ContainerConfigError` with the
 * kubelet's message (`configmap "x" not found`, `couldn't find key k in ConfigMap ns/x`): the
 * container waits with reason CreateContainerConfigError. Pure: the agent passes the Services and
 * objects it has cached at container start (as in Kubernetes, the variables are fixed then).
 */
import type { ConfigMap, Container, Pod, Secret, Service } from 'kubernetes-types/core/v1.js';
import { podField, resourceField } from './volumes/payload.js';

/** Inputs that are not in the Pod spec. */
export interface EnvContext {
  podIP: string;
  hostIP: string;
  nodeName: string;
  services: Service[];
  imageEnv: Record<string, string>;
  /** Current ConfigMaps and Secrets of the Pod's namespace (absent: none exist). */
  configMap?(namespace: string, name: string): ConfigMap | undefined;
  secret?(namespace: string, name: string): Secret | undefined;
  /** The node's allocatable resources (limits a container does not set, for resourceFieldRef). */
  allocatable?: Record<string, string>;
}

/** Why a container cannot be created now (its waiting reason is CreateContainerConfigError). */
export class ContainerConfigError extends Error {
  readonly code = 'CREATE_CONTAINER_CONFIG_ERROR';
  readonly reason = 'CreateContainerConfigError';
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

/** The full environment of `c` in `pod`; throws ContainerConfigError for a missing source. */
export function containerEnv(pod: Pod, c: Container, ctx: EnvContext): Record<string, string> {
  const ns = pod.metadata?.namespace ?? 'default';
  const base: Record<string, string> = { ...ctx.imageEnv, HOSTNAME: pod.spec?.hostname ?? pod.metadata?.name ?? '' };
  const serviceVars: Record<string, string> = {};
  const links = pod.spec?.enableServiceLinks !== false;
  for (const svc of ctx.services) {
    const isMaster = svc.metadata?.namespace === 'default' && svc.metadata?.name === 'kubernetes';
    if (isMaster || (links && svc.metadata?.namespace === ns)) Object.assign(serviceVars, serviceEnv(svc));
  }
  if (c.stdin && c.tty) base.TERM = 'xterm';
  const configMap = (name: string, optional: boolean): ConfigMap | undefined => {
    const cm = ctx.configMap?.(ns, name);
    if (!cm && !optional) throw new ContainerConfigError(`configmap "${name}" not found`);
    return cm;
  };
  const secret = (name: string, optional: boolean): Secret | undefined => {
    const s = ctx.secret?.(ns, name);
    if (!s && !optional) throw new ContainerConfigError(`secret "${name}" not found`);
    return s;
  };
  const own: Record<string, string> = {};
  // envFrom first; env entries then override.
  for (const ef of c.envFrom ?? []) {
    const prefix = ef.prefix ?? '';
    if (ef.configMapRef) {
      const cm = configMap(ef.configMapRef.name ?? '', !!ef.configMapRef.optional);
      for (const [k, v] of Object.entries(cm?.data ?? {})) own[prefix + k] = v;
    } else if (ef.secretRef) {
      const s = secret(ef.secretRef.name ?? '', !!ef.secretRef.optional);
      for (const [k, v] of Object.entries(s?.data ?? {})) own[prefix + k] = Buffer.from(v, 'base64').toString('utf8');
    }
  }
  for (const e of c.env ?? []) {
    let v = e.value ?? '';
    if (v !== '') {
      v = expandVars(v, { ...serviceVars, ...own });
    } else if (e.valueFrom) {
      const vf = e.valueFrom;
      if (vf.fieldRef) {
        v = podField(pod, vf.fieldRef.fieldPath, { podIP: ctx.podIP, hostIP: ctx.hostIP, nodeName: ctx.nodeName }) ?? '';
      } else if (vf.resourceFieldRef) {
        const target = vf.resourceFieldRef.containerName ? (pod.spec?.containers ?? []).find((x) => x.name === vf.resourceFieldRef!.containerName) ?? c : c;
        v = resourceField(target, vf.resourceFieldRef.resource, vf.resourceFieldRef.divisor, ctx.allocatable);
      } else if (vf.configMapKeyRef) {
        const ref = vf.configMapKeyRef;
        const cm = configMap(ref.name ?? '', !!ref.optional);
        if (!cm) continue;
        const val = cm.data?.[ref.key];
        if (val === undefined) {
          if (ref.optional) continue;
          throw new ContainerConfigError(`couldn't find key ${ref.key} in ConfigMap ${ns}/${ref.name ?? ''}`);
        }
        v = val;
      } else if (vf.secretKeyRef) {
        const ref = vf.secretKeyRef;
        const s = secret(ref.name ?? '', !!ref.optional);
        if (!s) continue;
        const val = s.data?.[ref.key];
        if (val === undefined) {
          if (ref.optional) continue;
          throw new ContainerConfigError(`couldn't find key ${ref.key} in Secret ${ns}/${ref.name ?? ''}`);
        }
        v = Buffer.from(val, 'base64').toString('utf8');
      }
    }
    own[e.name] = v;
  }
  return { ...base, ...serviceVars, ...own };
}

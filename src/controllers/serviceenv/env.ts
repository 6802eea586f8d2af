/**
 * Service environment variables for a Pod's containers, as the kubelet computes them when a Pod
 * starts (kubelet getServiceEnvVarMap + envvars.FromServices): for every Service with a ClusterIP
 * in the Pod's namespace (all of them only when enableServiceLinks is not false) plus
 * `default/kubernetes`, `<NAME>_SERVICE_HOST`, `<NAME>_SERVICE_PORT[_<PORTNAME>]` and the
 * Docker-link style `<NAME>_PORT...` variables. Pure; the node agent calls it.
 */
import type { EnvVar, Service } from 'kubernetes-types/core/v1.js';

function envName(s: string): string {
  return s.toUpperCase().replace(/-/g, '_');
}

/** The variables of one Service, in the order Kubernetes emits them. */
export function envForService(svc: Service): EnvVar[] {
  const ip = svc.spec?.clusterIP;
  const ports = svc.spec?.ports ?? [];
  if (!ip || ip === 'None' || ports.length === 0) return [];
  const name = envName(svc.metadata?.name ?? '');
  const out: EnvVar[] = [
    { name: `${name}_SERVICE_HOST`, value: ip },
    { name: `${name}_SERVICE_PORT`, value: String(ports[0].port) },
  ];
  for (const p of ports) if (p.name) out.push({ name: `${name}_SERVICE_PORT_${envName(p.name)}`, value: String(p.port) });
  const first = ports[0];
  const proto = (first.protocol ?? 'TCP').toLowerCase();
  out.push({ name: `${name}_PORT`, value: `${proto}://${ip}:${first.port}` });
  for (const p of ports) {
    const pr = (p.protocol ?? 'TCP');
    const prefix = `${name}_PORT_${p.port}_${pr.toUpperCase()}`;
    out.push({ name: prefix, value: `${pr.toLowerCase()}://${ip}:${p.port}` },
      { name: `${prefix}_PROTO`, value: pr.toLowerCase() },
      { name: `${prefix}_PORT`, value: String(p.port) },
      { name: `${prefix}_ADDR`, value: ip });
  }
  return out;
}

/**
 * The service variables for a Pod in `namespace`. `services` may span namespaces; the
 * `default/kubernetes` Service is always included; other namespaces' Services never are.
 */
export function serviceEnvironment(services: Service[], namespace: string, enableServiceLinks = true): EnvVar[] {
  const chosen = new Map<string, Service>();
  for (const s of services) {
    const ns = s.metadata?.namespace, n = s.metadata?.name ?? '';
    if (ns === namespace && enableServiceLinks) chosen.set(n, s);
  }
  const master = services.find((s) => s.metadata?.namespace === 'default' && s.metadata?.name === 'kubernetes');
  if (master && !chosen.has('kubernetes')) chosen.set('kubernetes', master);
  const out: EnvVar[] = [];
  for (const n of [...chosen.keys()].sort()) out.push(...envForService(chosen.get(n)!));
  return out;
}

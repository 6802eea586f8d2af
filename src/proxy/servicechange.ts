/**
 * Records Service changes between syncs, as kube-proxy's ServiceChangeTracker: informer handlers
 * call `update(previous, current)` and return at once; the sync loop calls `apply` to fold all
 * pending changes into its map and learn which Services changed. A change that ends where it
 * started (add then delete) leaves no trace.
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import { objectKey } from '../api/object.js';
import type { Protocol, ServicePort } from './types.js';

const IPV4 = /^\d+\.\d+\.\d+\.\d+$/;

/** Default ClientIP affinity timeout (Kubernetes: 10800 s). */
const DEFAULT_AFFINITY_SECONDS = 10800;

/** The annotation that turned on topology hints before `trafficDistribution` (Auto). */
export const TOPOLOGY_MODE_ANNOTATION = 'service.kubernetes.io/topology-mode';
const SOURCE_RANGES_ANNOTATION = 'service.beta.kubernetes.io/load-balancer-source-ranges';

/**
 * The Service ports that need rules. None for headless Services (clusterIP None), ExternalName
 * Services, Services without an IPv4 ClusterIP: kube-proxy programs nothing for those. A NodePort
 * or LoadBalancer Service's ports carry their NodePort, external and LoadBalancer IPs and traffic
 * policies; a ClusterIP Service's ports only what applies to it.
 */
export function servicePortsOf(svc: Service | undefined): ServicePort[] {
  const spec = svc?.spec;
  if (!svc || !spec || spec.type === 'ExternalName') return [];
  const ip = spec.clusterIP;
  if (!ip || ip === 'None' || !IPV4.test(ip)) return [];
  const affinity = spec.sessionAffinity === 'ClientIP'
    ? spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS
    : undefined;
  const type = spec.type ?? 'ClusterIP';
  const withNodePorts = type === 'NodePort' || type === 'LoadBalancer';
  // ipMode Proxy: the load balancer proxies to the nodes itself, so the IP must not be captured here (KEP-1860).
  const lbIPs = type === 'LoadBalancer'
    ? (svc.status?.loadBalancer?.ingress ?? []).filter((i) => i.ip && IPV4.test(i.ip) && i.ipMode !== 'Proxy').map((i) => i.ip!)
    : [];
  const externalIPs = [...new Set([...(spec.externalIPs ?? []).filter((x) => IPV4.test(x)), ...lbIPs])];
  const ranges = spec.loadBalancerSourceRanges?.length
    ? spec.loadBalancerSourceRanges
    : (svc.metadata?.annotations?.[SOURCE_RANGES_ANNOTATION] ?? '').split(',').filter((x) => x.trim());
  const external = withNodePorts || externalIPs.length > 0;
  const topologyAware = spec.trafficDistribution === 'PreferClose' || spec.trafficDistribution === 'PreferSameZone' ||
    /^auto$/i.test(svc.metadata?.annotations?.[TOPOLOGY_MODE_ANNOTATION] ?? '');
  return (spec.ports ?? []).map((p) => ({
    namespace: svc.metadata?.namespace ?? '',
    name: svc.metadata?.name ?? '',
    portName: p.name ?? '',
    protocol: (p.protocol ?? 'TCP') as Protocol,
    clusterIP: ip,
    port: p.port,
    ...(affinity !== undefined ? { affinityTimeoutSeconds: affinity } : {}),
    ...(withNodePorts && p.nodePort ? { nodePort: p.nodePort } : {}),
    ...(externalIPs.length ? { externalIPs } : {}),
    ...(lbIPs.length ? { loadBalancerIPs: lbIPs } : {}),
    ...(lbIPs.length && ranges.length ? { sourceRanges: ranges.map((r) => r.trim()) } : {}),
    ...(external && spec.externalTrafficPolicy === 'Local' ? { externalPolicyLocal: true } : {}),
    ...(spec.internalTrafficPolicy === 'Local' ? { internalPolicyLocal: true } : {}),
    ...(topologyAware ? { topologyAware: true } : {}),
    ...(healthCheckNodePortOf(svc) !== undefined ? { healthCheckNodePort: healthCheckNodePortOf(svc) } : {}),
  }));
}

/**
 * The healthCheckNodePort of a Service (LoadBalancer with externalTrafficPolicy Local), which the
 * proxy answers with the number of this node's endpoints, as kube-proxy's health check server.
 */
export function healthCheckNodePortOf(svc: Service | undefined): number | undefined {
  const spec = svc?.spec;
  if (!spec || spec.type !== 'LoadBalancer' || spec.externalTrafficPolicy !== 'Local') return undefined;
  return spec.healthCheckNodePort || undefined;
}

interface Change { previous: ServicePort[]; current: ServicePort[] }

export class ServiceChangeTracker {
  private readonly pending = new Map<string, Change>();

  /** Records one informer event (previous undefined = add, current undefined = delete). */
  update(previous: Service | undefined, current: Service | undefined): void {
    const obj = current ?? previous;
    if (!obj) return;
    const key = objectKey(obj);
    const change = this.pending.get(key) ?? { previous: servicePortsOf(previous), current: [] };
    change.current = servicePortsOf(current);
    if (JSON.stringify(change.previous) === JSON.stringify(change.current)) this.pending.delete(key);
    else this.pending.set(key, change);
  }

  /** True when changes wait to be applied. */
  /** Services with unsynced changes (kube-proxy's `..._changes_pending` gauge). */
  get pendingCount(): number {
    return this.pending.size;
  }

  get hasPending(): boolean {
    return this.pending.size > 0;
  }

  /** Folds pending changes into `map` (service key → ports) and returns the changed keys. */
  apply(map: Map<string, ServicePort[]>): Set<string> {
    const changed = new Set<string>();
    for (const [key, c] of this.pending) {
      if (c.current.length === 0) map.delete(key);
      else map.set(key, c.current);
      changed.add(key);
    }
    this.pending.clear();
    return changed;
  }
}

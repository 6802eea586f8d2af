/**
 * Records Service changes between syncs, as kube-proxy's ServiceChangeTracker: informer handlers
 * call `update(previous, current)` and return at once; the sync loop calls `apply` to fold all
 * pending changes into its map and learn which Services changed. A change that ends where it
 * started (add then delete) leaves no trace.
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import { objectKey } from '../api/object.js';
import type { Protocol, ServicePort } from './types.js';

/** Default ClientIP affinity timeout (Kubernetes: 10800 s). */
const DEFAULT_AFFINITY_SECONDS = 10800;

/**
 * The Service ports that need rules. None for headless Services (clusterIP None), ExternalName
 * Services, Services without an IPv4 ClusterIP: kube-proxy programs nothing for those.
 */
export function servicePortsOf(svc: Service | undefined): ServicePort[] {
  const spec = svc?.spec;
  if (!svc || !spec || spec.type === 'ExternalName') return [];
  const ip = spec.clusterIP;
  if (!ip || ip === 'None' || !/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return [];
  const affinity = spec.sessionAffinity === 'ClientIP'
    ? spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS
    : undefined;
  return (spec.ports ?? []).map((p) => ({
    namespace: svc.metadata?.namespace ?? '',
    name: svc.metadata?.name ?? '',
    portName: p.name ?? '',
    protocol: (p.protocol ?? 'TCP') as Protocol,
    clusterIP: ip,
    port: p.port,
    ...(affinity !== undefined ? { affinityTimeoutSeconds: affinity } : {}),
  }));
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

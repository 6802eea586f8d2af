/**
 * The pure heart of the load-balancer controller: which address a LoadBalancer Service gets, as
 * cloud-provider-kind / MetalLB decide it, from the Service, the addresses other Services hold and
 * the pool. Nothing is written here.
 *
 * - Only `type: LoadBalancer` Services without a `loadBalancerClass`, or with ours
 *   (`LB_CLASS`), are ours; others belong to another controller and are left alone.
 * - An address the Service already holds (status.loadBalancer.ingress) stays while it is in the
 *   pool and nobody older holds it; `spec.loadBalancerIP` (deprecated, still used) or the
 *   `metallb.universe.tf/loadBalancerIPs` annotation asks for one; otherwise the lowest free address.
 * - A Service that is no longer ours (type changed, deleted) gives its address back: its status is
 *   cleared, as Kubernetes' service controller does when a load balancer is removed.
 */
import type { LoadBalancerStatus, Service } from 'kubernetes-types/core/v1.js';
import type { AddressPool } from './pool.js';

/** The loadBalancerClass this controller implements (a Service with no class is ours too). */
export const LB_CLASS = 'clusterip.dev/l2';
/** MetalLB's annotation for a wanted address, honoured too. */
export const IP_ANNOTATION = 'metallb.universe.tf/loadBalancerIPs';

/** What to do with one Service. */
export type LbPlan =
  | { action: 'none' }
  | { action: 'assign'; ip: string; status: LoadBalancerStatus }
  | { action: 'clear'; released: string[] }
  | { action: 'pending'; reason: 'AllocationFailed'; message: string };

/** Whether `svc` is a LoadBalancer this controller serves. */
export function isOurs(svc: Service | undefined): boolean {
  const spec = svc?.spec;
  return !!spec && spec.type === 'LoadBalancer' && (!spec.loadBalancerClass || spec.loadBalancerClass === LB_CLASS);
}

/** The IPv4 ingress addresses a Service's status holds. */
export function ingressIPs(svc: Service | undefined): string[] {
  return (svc?.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '').filter((ip) => /^\d+\.\d+\.\d+\.\d+$/.test(ip));
}

function requestedIP(svc: Service): string | undefined {
  const ann = svc.metadata?.annotations?.[IP_ANNOTATION]?.split(',')[0]?.trim();
  return ann || svc.spec?.loadBalancerIP || undefined;
}

/**
 * The plan for `svc` (undefined: deleted) given `held`: address → key of the Service holding it
 * (every other Service's current address, this one's excluded).
 */
export function planLoadBalancer(key: string, svc: Service | undefined, held: ReadonlyMap<string, string>, pool: AddressPool): LbPlan {
  const current = ingressIPs(svc).filter((ip) => pool.has(ip));
  if (!isOurs(svc)) {
    // Type changed away from LoadBalancer: give the address back. (A LoadBalancer of another
    // class is that controller's business, whatever its status says.)
    return svc && svc.spec?.type !== 'LoadBalancer' && current.length > 0 ? { action: 'clear', released: current } : { action: 'none' };
  }
  const want = requestedIP(svc!);
  const free = (ip: string): boolean => { const h = held.get(ip); return h === undefined || h === key; };
  const status = (ip: string): LoadBalancerStatus => ({ ingress: [{ ip, ipMode: 'VIP' }] });
  const same = (ip: string): boolean => {
    const ing = svc!.status?.loadBalancer?.ingress ?? [];
    return ing.length === 1 && ing[0]!.ip === ip && ing[0]!.ipMode === 'VIP';
  };
  if (want) {
    if (!pool.has(want)) return { action: 'pending', reason: 'AllocationFailed', message: `Failed to allocate IP for "${key}": requested IP ${want} is not in the address pool ${pool.text}` };
    if (!free(want)) return { action: 'pending', reason: 'AllocationFailed', message: `Failed to allocate IP for "${key}": requested IP ${want} is already allocated to ${held.get(want)}` };
    return same(want) ? { action: 'none' } : { action: 'assign', ip: want, status: status(want) };
  }
  const keep = current.find(free);
  if (keep) return same(keep) ? { action: 'none' } : { action: 'assign', ip: keep, status: status(keep) };
  for (let i = 0; i < pool.size; i++) {
    const ip = pool.at(i);
    if (free(ip)) return { action: 'assign', ip, status: status(ip) };
  }
  return { action: 'pending', reason: 'AllocationFailed', message: `Failed to allocate IP for "${key}": no available IPs in the address pool ${pool.text}` };
}

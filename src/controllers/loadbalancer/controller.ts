/**
 * The built-in load-balancer controller (like cloud-provider-kind, MetalLB or k3s's ServiceLB):
 * gives every LoadBalancer Service an address from the pool on the cluster's underlay and writes
 * it to `status.loadBalancer.ingress`, so `kubectl get svc` shows it as EXTERNAL-IP instead of
 * `<pending>`. The node that answers for the address is picked by each node's announcer
 * (announcer.ts); the proxy on every node turns the address into rules, as for any LoadBalancer.
 *
 * One worker: allocations of different Services must not race for the same address. Which
 * addresses are taken is read from the Services themselves (their status is the record, as in
 * MetalLB), plus what this controller wrote and its cache has not shown yet.
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import { isConflict, isNotFound } from '../../api/errors.js';
import { objectKey, splitKey } from '../../api/object.js';
import { R } from '../../api/resources.js';
import type { ControllerContext } from '../context.js';
import { KeyedController } from '../keyed.js';
import { ingressIPs, isOurs, planLoadBalancer } from './plan.js';
import type { AddressPool } from './pool.js';

export const LB_CONTROLLER = 'clusterip-lb-controller';

export class LoadBalancerController extends KeyedController {
  readonly name = 'loadbalancer-controller';
  /** Addresses this controller assigned whose Service the cache may not show yet: ip → key. */
  private readonly assigned = new Map<string, string>();

  constructor(ctx: ControllerContext, private readonly pool: AddressPool) {
    super(ctx, R.services, { workers: 1, baseDelayMs: 50, maxDelayMs: 5000 });
    ctx.informers.informer<Service>(R.services).addHandlers({
      onAdd: (s) => { if (isOurs(s) || ingressIPs(s).length) this.enqueue(objectKey(s)); },
      onUpdate: (a, b) => { if (isOurs(a) || isOurs(b) || ingressIPs(b).length) this.enqueue(objectKey(b)); },
      onDelete: (s) => {
        // A deleted Service frees its address: a Service still waiting for one may now get it.
        if (!ingressIPs(s).length) return;
        for (const [ip, k] of this.assigned) if (k === objectKey(s)) this.assigned.delete(ip);
        for (const o of ctx.informers.informer<Service>(R.services).list()) if (isOurs(o) && ingressIPs(o).length === 0) this.enqueue(objectKey(o));
      },
    });
  }

  /** Every address held, by the key of its holder (oldest Service first, so the oldest keeps a duplicate). */
  private held(except: string): Map<string, string> {
    const services = [...this.ctx.informers.informer<Service>(R.services).list()]
      .sort((a, b) => (a.metadata?.creationTimestamp ?? '').localeCompare(b.metadata?.creationTimestamp ?? ''));
    const held = new Map<string, string>();
    for (const s of services) {
      const k = objectKey(s);
      if (k === except || !isOurs(s)) continue;
      for (const ip of ingressIPs(s)) if (this.pool.has(ip) && !held.has(ip)) held.set(ip, k);
    }
    for (const [ip, k] of this.assigned) if (k !== except && !held.has(ip)) held.set(ip, k);
    return held;
  }

  async sync(key: string): Promise<void> {
    const svc = this.ctx.informers.informer<Service>(R.services).get(key);
    const plan = planLoadBalancer(key, svc, this.held(key), this.pool);
    const events = this.ctx.recorder(LB_CONTROLLER);
    if (plan.action === 'none' || !svc) return;
    if (plan.action === 'pending') {
      events.event(svc, 'Warning', plan.reason, plan.message);
      return;
    }
    const { namespace, name } = splitKey(key);
    const status = plan.action === 'assign' ? { loadBalancer: plan.status } : { loadBalancer: {} };
    try {
      // The status subresource, at the version we read: a concurrent write makes us read again.
      await this.ctx.client.update<Service>(R.services, namespace, { ...svc, status: { ...svc.status, ...status } }, { subresource: 'status' });
    } catch (e) {
      if (isNotFound(e)) return;
      if (isConflict(e)) throw e; // retried with backoff, re-reading the cache
      throw e;
    }
    for (const [ip, k] of this.assigned) if (k === key) this.assigned.delete(ip);
    if (plan.action === 'assign') {
      this.assigned.set(plan.ip, key);
      events.event(svc, 'Normal', 'IPAllocated', `Assigned IP ["${plan.ip}"]`);
    } else {
      events.event(svc, 'Normal', 'IPReleased', `Released IP [${plan.released.map((ip) => `"${ip}"`).join(', ')}]: the Service is no longer of type LoadBalancer`);
    }
  }
}

/**
 * Which node answers for each LoadBalancer address on the underlay (MetalLB's layer-2 mode): one
 * node per address, picked the same way by every node's announcer from the same API objects, so
 * they agree without talking to each other. Pure.
 *
 * - Candidates: the Ready nodes; with `externalTrafficPolicy: Local`, only those running a ready
 *   endpoint of the Service (traffic must arrive where it can stay; none: nobody announces, as
 *   MetalLB does).
 * - The pick: rendezvous hashing (the highest sha256(node#address)), so an address moves only when
 *   its node goes, and addresses spread over the nodes.
 */
import { createHash } from 'node:crypto';
import type { Node, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { objectKey } from '../../api/object.js';
import { ingressIPs, isOurs } from './plan.js';
import type { AddressPool } from './pool.js';

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

function ready(n: Node): boolean {
  return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function score(node: string, ip: string): string {
  return createHash('sha256').update(`${node}#${ip}`).digest('hex');
}

/** The node that answers for each pool address in use: address → node name. */
export function announcements(services: readonly Service[], nodes: readonly Node[], slices: readonly EndpointSlice[], pool: AddressPool): Map<string, string> {
  const readyNodes = nodes.filter(ready).map((n) => n.metadata?.name ?? '').filter(Boolean);
  // Service key → nodes with a ready endpoint of it (only for the Local policy, the one that needs it).
  const localKeys = new Set(services.filter((s) => isOurs(s) && s.spec?.externalTrafficPolicy === 'Local').map(objectKey));
  const withEndpoints = new Map<string, Set<string>>();
  for (const s of localKeys.size ? slices : []) {
    const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (!svc) continue;
    const key = `${s.metadata?.namespace ?? ''}/${svc}`;
    if (!localKeys.has(key)) continue;
    for (const e of s.endpoints ?? []) {
      if (e.conditions?.ready === false || !e.nodeName) continue;
      let set = withEndpoints.get(key);
      if (!set) withEndpoints.set(key, set = new Set());
      set.add(e.nodeName);
    }
  }
  const out = new Map<string, string>();
  for (const svc of services) {
    if (!isOurs(svc)) continue;
    const local = svc.spec?.externalTrafficPolicy === 'Local';
    const candidates = local ? readyNodes.filter((n) => withEndpoints.get(objectKey(svc))?.has(n)) : readyNodes;
    for (const ip of ingressIPs(svc)) {
      if (!pool.has(ip) || out.has(ip) || candidates.length === 0) continue;
      out.set(ip, candidates.reduce((best, n) => (score(n, ip) > score(best, ip) ? n : best)));
    }
  }
  return out;
}

/**
 * The LoadBalancer address pool of a cluster (`clusterip up --lb-pool`). Its addresses are answered
 * for on the underlay (MetalLB's layer-2 mode), so they must lie in the underlay's subnet and clear
 * of the addresses the topology gives the outside host and the nodes.
 */
import { parsePool, poolWithin, type AddressPool } from '../controllers/loadbalancer/pool.js';
import { UNDERLAY_PREFIX } from './topology.js';

/** Default: the top of the underlay /24, far from the outside host (.2) and the nodes (.10 + N). */
export const DEFAULT_LB_POOL = `${UNDERLAY_PREFIX}.200-${UNDERLAY_PREFIX}.254`;

/** Parses and checks a pool; throws an Error saying what is wrong. */
export function checkLbPool(text: string): AddressPool {
  const pool = parsePool(text);
  if (!poolWithin(pool, `${UNDERLAY_PREFIX}.0/24`)) throw new Error(`the pool ${text} must lie in the underlay ${UNDERLAY_PREFIX}.0/24, where nodes answer for it`);
  for (let i = 0; i < pool.size; i++) {
    const last = Number(pool.at(i).split('.')[3]);
    if (last < 30) throw new Error(`the pool ${text} overlaps the outside host and node addresses (${UNDERLAY_PREFIX}.1-.29)`);
  }
  return pool;
}

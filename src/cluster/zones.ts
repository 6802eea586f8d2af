/**
 * Topology labels of a cluster's nodes (`topology.kubernetes.io/zone` and `/region`), as a cloud
 * provider's node controller sets them, so `trafficDistribution: PreferClose` has zones to prefer
 * on a several-node cluster. Written with a merge patch of the Node's labels (the node agent keeps
 * labels it did not set when it re-registers).
 */
import type { Client } from '../client/client.js';
import { R } from '../api/resources.js';
import { isNotFound } from '../api/errors.js';

export const ZONE_LABEL = 'topology.kubernetes.io/zone';
export const REGION_LABEL = 'topology.kubernetes.io/region';

/** Labels node `nodeName` with `zone` (region: `clusterip`). */
export async function labelNodeZone(client: Client, nodeName: string, zone: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await client.patch(R.nodes, undefined, nodeName, 'application/merge-patch+json', { metadata: { labels: { [ZONE_LABEL]: zone, [REGION_LABEL]: 'clusterip' } } });
      return;
    } catch (e) {
      // The node agent may not have registered the Node yet.
      if (!isNotFound(e) || i >= 50) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/**
 * The cluster's network beyond one node: an underlay network namespace with a bridge that joins
 * the node namespaces (each node gets an underlay address and routes to the other nodes' Pod
 * CIDRs), and an "outside" host on the underlay that has no route to the Service CIDR — the place
 * from which a ClusterIP is shown to be unreachable (seed 000, step 6).
 *
 * Nothing here touches the host's own namespace: every address, route and bridge lives in a
 * namespace named `cip-<id>-...` that this module created.
 */
import { inNetns, listNetns, run } from './exec.js';

/** Underlay subnet (inside the underlay namespace only). Node N is .(10+N), the outside host .2. */
export const UNDERLAY_PREFIX = '172.31.255';

export interface TopologyNames {
  underlay: string;
  outside: string;
  node(n: number): string;
}

/** The namespace names of cluster `id` (short, so veth names derived from them stay <= 15 chars). */
export function topologyNames(id: string): TopologyNames {
  return { underlay: `cip-${id}-u`, outside: `cip-${id}-out`, node: (n) => `cip-${id}-n${n}` };
}

/** The underlay address of node `n`. */
export function nodeUnderlayIP(n: number): string {
  return `${UNDERLAY_PREFIX}.${10 + n}`;
}

async function ensureNetns(name: string): Promise<void> {
  if ((await listNetns()).includes(name)) return;
  await run('ip', ['netns', 'add', name]);
  await inNetns(name, 'ip', ['link', 'set', 'lo', 'up']);
}

/** Creates the underlay namespace with bridge `ubr0` and the outside host. Idempotent. */
export async function createUnderlay(id: string): Promise<void> {
  const names = topologyNames(id);
  await ensureNetns(names.underlay);
  await inNetns(names.underlay, 'sh', ['-c', 'ip link show ubr0 >/dev/null 2>&1 || { ip link add ubr0 type bridge && ip link set ubr0 up; }']);
  await attach(id, names.outside, 'out', `${UNDERLAY_PREFIX}.2`);
}

/**
 * Joins node `n` (its namespace must exist) to the underlay and routes the other nodes' Pod CIDRs
 * (`podCIDRs[m]` = 10.244.m.0/24) via their underlay addresses.
 */
export async function attachNode(id: string, n: number, podCIDRs: string[]): Promise<void> {
  const names = topologyNames(id);
  await attach(id, names.node(n), `n${n}`, nodeUnderlayIP(n));
  for (let m = 0; m < podCIDRs.length; m++) {
    if (m === n) continue;
    await inNetns(names.node(n), 'ip', ['route', 'replace', podCIDRs[m], 'via', nodeUnderlayIP(m)]);
  }
}

/** veth pair: `u<id><tag>` in the underlay bridge, `eth1` inside `netns` with `address/24`. */
async function attach(id: string, netns: string, tag: string, address: string): Promise<void> {
  const names = topologyNames(id);
  await ensureNetns(netns);
  const inside = await inNetns(netns, 'ip', ['-o', 'addr', 'show']).catch(() => '');
  if (inside.includes(` ${address}/`)) return;
  const peer = `u${id}${tag}`.slice(0, 15);
  const tmp = `t${id}${tag}`.slice(0, 15);
  // Create the pair inside the underlay namespace, then move one end into the target namespace.
  await inNetns(names.underlay, 'ip', ['link', 'add', peer, 'type', 'veth', 'peer', 'name', tmp]);
  await inNetns(names.underlay, 'ip', ['link', 'set', tmp, 'netns', netns]);
  await inNetns(names.underlay, 'ip', ['link', 'set', peer, 'master', 'ubr0', 'up']);
  await inNetns(netns, 'ip', ['link', 'set', tmp, 'name', 'eth1']);
  await inNetns(netns, 'ip', ['addr', 'add', `${address}/24`, 'dev', 'eth1']);
  await inNetns(netns, 'ip', ['link', 'set', 'eth1', 'up']);
}

/** Deletes every namespace of cluster `id` that is left (nodes, Pods, underlay, outside). */
export async function removeAllNamespaces(id: string): Promise<string[]> {
  const prefix = `cip-${id}-`;
  const removed: string[] = [];
  for (const ns of await listNetns()) {
    if (!ns.startsWith(prefix)) continue;
    await run('ip', ['netns', 'delete', ns]).catch(() => undefined);
    removed.push(ns);
  }
  return removed;
}

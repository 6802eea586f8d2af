/**
 * The cluster's network beyond one node: an underlay network namespace with a bridge that joins
 * the node namespaces (each node gets an underlay address and routes to the other nodes' Pod
 * CIDRs), and an "outside" host on the underlay that has no route to the Service CIDR — the place
 * from which a ClusterIP is shown to be unreachable (seed 000, step 6).
 *
 * Nothing here touches the host's own namespace: every address, route and bridge lives in a
 * namespace named `cip-<id>-...` that this module created.
 */
import { run, runOk } from '../sys/command.js';
import { listNetns } from '../sys/netns.js';

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

/** The Node object's name of node `n` of cluster `clusterName` with `nodes` nodes. */
export function nodeName(clusterName: string, n: number, nodes: number): string {
  return nodes === 1 ? `${clusterName}-node` : `${clusterName}-node-${n}`;
}

/** The underlay address of node `n`. */
export function nodeUnderlayIP(n: number): string {
  return `${UNDERLAY_PREFIX}.${10 + n}`;
}

/**
 * Runs `ip` commands inside `netns` in one process (`ip -n <netns> -batch -`): one spawn instead of
 * one `ip netns exec` (two execs) per command, which is most of what building the underlay costs.
 */
async function ipBatch(netns: string, commands: string[]): Promise<void> {
  await runOk(['ip', '-n', netns, '-batch', '-'], { input: commands.join('\n') + '\n', timeoutMs: 30_000 });
}

/** Creates namespace `name` with its loopback up, unless it exists. */
async function ensureNetns(name: string): Promise<void> {
  if ((await listNetns()).includes(name)) return;
  await runOk(['ip', 'netns', 'add', name]);
  await ipBatch(name, ['link set lo up']);
}

/** Creates the underlay namespace with bridge `ubr0` and the outside host. Idempotent. */
export async function createUnderlay(id: string): Promise<void> {
  const names = topologyNames(id);
  await ensureNetns(names.underlay);
  const links = await runOk(['ip', '-n', names.underlay, '-o', 'link', 'show']);
  if (!/^\d+: ubr0[:@]/m.test(links)) await ipBatch(names.underlay, ['link add ubr0 type bridge', 'link set ubr0 up']);
  await attach(id, names.outside, 'out', `${UNDERLAY_PREFIX}.2`);
}

/**
 * Joins node `n` (its namespace must exist) to the underlay and routes the other nodes' Pod CIDRs
 * (`podCIDRs[m]` = 10.244.m.0/24) via their underlay addresses.
 */
export async function attachNode(id: string, n: number, podCIDRs: string[]): Promise<void> {
  const names = topologyNames(id);
  await attach(id, names.node(n), `n${n}`, nodeUnderlayIP(n));
  const routes = podCIDRs.flatMap((cidr, m) => (m === n ? [] : [`route replace ${cidr} via ${nodeUnderlayIP(m)}`]));
  if (routes.length) await ipBatch(names.node(n), routes);
}

/** veth pair: `u<id><tag>` in the underlay bridge, `eth1` inside `netns` with `address/24`. */
async function attach(id: string, netns: string, tag: string, address: string): Promise<void> {
  const names = topologyNames(id);
  await ensureNetns(netns);
  const inside = (await run(['ip', '-n', netns, '-o', 'addr', 'show'])).stdout;
  if (inside.includes(` ${address}/`)) return;
  const peer = `u${id}${tag}`.slice(0, 15);
  // Both ends are created directly in their namespaces (the host namespace never sees either).
  await ipBatch(names.underlay, [`link add ${peer} type veth peer name eth1 netns ${netns}`, `link set ${peer} master ubr0 up`]);
  await ipBatch(netns, [`addr add ${address}/24 dev eth1`, 'link set eth1 up']);
}

/** Deletes every namespace of cluster `id` that is left (nodes, Pods, underlay, outside). */
export async function removeAllNamespaces(id: string): Promise<string[]> {
  const prefix = `cip-${id}-`;
  const removed: string[] = [];
  for (const ns of await listNetns()) {
    if (!ns.startsWith(prefix)) continue;
    await run(['ip', 'netns', 'delete', ns]);
    removed.push(ns);
  }
  return removed;
}

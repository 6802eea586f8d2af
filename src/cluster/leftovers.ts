/**
 * What `up` does with what an earlier run of the same cluster left on the machine (a daemon killed
 * with -9, a power cut, a crash): the network namespaces `cip-<id>-*` and the processes in them.
 *
 * Decision (as the kubelet and k3s do after a restart: adopt what runs, replace what cannot be
 * adopted, never leave an old copy beside a new one):
 * - When the earlier run had the same shape — node count, proxy mode, Service and Pod CIDRs, read
 *   from its cluster record — its node namespaces (bridge, routes, the proxy's rules), the underlay
 *   and the outside host are kept, and so is every Pod namespace a node agent has a record of
 *   (`<stateDir>/nodes/<node>/pods/<uid>`): the agents re-adopt those Pods (same processes, same
 *   IPs) or replace them under the same names. Services keep carrying traffic while the daemon is
 *   down and right after it is back, since rules and Pods never went away.
 * - Any other namespace of the cluster (a Pod namespace no agent knows of, a node beyond the node
 *   count) is emptied (every process in it is ended) and deleted.
 * - In a kept namespace, what the killed daemon ran there itself (the proxy's session, flow
 *   collectors) is ended; the new daemon starts its own.
 * - When there is no earlier record, or its shape differs, everything of the cluster is emptied and
 *   deleted, and the Pods are recreated from the API.
 * `planLeftovers` decides (pure, tested in leftovers.test.ts); `removeLeftovers` acts.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { podNetnsName } from '../node/podnames.js';
import { deleteNetns } from '../node/network.js';
import { listNetns } from '../sys/netns.js';
import { topologyNames } from './topology.js';

/** The parts of a cluster's shape that its namespaces and rules depend on. */
export interface ClusterShape {
  nodes: number;
  proxyMode: string;
  serviceCIDR: string;
  podCIDR: string;
}

export interface LeftoverPlan {
  /** Namespaces that stay for the new run to adopt. */
  keep: string[];
  /** Namespaces to empty and delete. */
  remove: string[];
  /** Why (for the start-up log). */
  reason: string;
}

/** Decides which of the cluster's namespaces the new run adopts and which it removes. */
export function planLeftovers(o: {
  id: string;
  previous?: ClusterShape;
  current: ClusterShape;
  /** Every network namespace on the machine. */
  namespaces: readonly string[];
  /** Pod namespace names the node agents have records of. */
  recordedPods: ReadonlySet<string>;
}): LeftoverPlan {
  const mine = o.namespaces.filter((n) => n.startsWith(`cip-${o.id}-`)).sort();
  const p = o.previous;
  const changed = !p ? 'no record of an earlier run'
    : (['nodes', 'proxyMode', 'serviceCIDR', 'podCIDR'] as const).filter((k) => p[k] !== o.current[k])
      .map((k) => `${k} ${p[k]} → ${o.current[k]}`).join(', ');
  if (changed) return { keep: [], remove: mine, reason: mine.length ? `replaced (${changed})` : 'none' };
  const names = topologyNames(o.id);
  const infra = new Set([names.underlay, names.outside, ...Array.from({ length: o.current.nodes }, (_, n) => names.node(n))]);
  const keep = mine.filter((n) => infra.has(n) || o.recordedPods.has(n));
  const remove = mine.filter((n) => !keep.includes(n));
  const pods = keep.filter((n) => o.recordedPods.has(n)).length;
  return { keep, remove, reason: mine.length ? `adopted ${keep.length - pods} node/underlay and ${pods} Pod namespaces, removed ${remove.length}` : 'none' };
}

/** Pod namespace names recorded in the node agents' state dirs (`<stateDir>/nodes/<node>/pods/<uid>`). */
export function recordedPodNamespaces(stateDir: string, id: string): Set<string> {
  const out = new Set<string>();
  const ls = (d: string): string[] => { try { return readdirSync(d); } catch { return []; } };
  for (const node of ls(join(stateDir, 'nodes'))) {
    for (const uid of ls(join(stateDir, 'nodes', node, 'pods'))) out.add(podNetnsName(`cip-${id}`, uid));
  }
  return out;
}

/**
 * The processes in kept namespaces that the killed daemon ran itself (the proxy's `nft -i`, flow
 * collectors such as `conntrack -E`, a probe's `nc`, a port-forward's `nc`): a new daemon starts
 * its own, so these would run beside them; some end when they next write to the dead daemon, others
 * (a collector that sees no event) never would. They are the members of the dead daemon's process
 * group (it leads its group, and what it spawns stays in it), which cannot have been reused while
 * they live. Pod processes are not: containers and sandbox holders are started in sessions of
 * their own. Nor is anything else someone runs in the cluster's namespaces (a debugging tool, a
 * test's curl).
 */
export function strayProcesses(processes: readonly { pid: number; pgid: number }[], deadDaemon: number | undefined): number[] {
  if (!deadDaemon) return [];
  return processes.filter((p) => p.pgid === deadDaemon).map((p) => p.pid);
}

function processGroup(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return undefined;
  }
}

/** Plans and acts: empties and deletes the namespaces the plan removes; ends the dead daemon's own processes in the kept ones. */
export async function removeLeftovers(o: { id: string; stateDir: string; previous?: ClusterShape & { pid?: number }; current: ClusterShape }): Promise<LeftoverPlan> {
  const plan = planLeftovers({ ...o, namespaces: await listNetns(), recordedPods: recordedPodNamespaces(o.stateDir, o.id) });
  // Processes first (deleteNetns ends every process inside before deleting): a namespace deleted
  // with processes in it only loses its name and lives on, unreachable, with them.
  await Promise.all(plan.remove.map((n) => deleteNetns(n)));
  // One pass over /proc (not one `ip netns pids` per namespace: 50 Pods made that a second): the
  // dead daemon's group members whose network namespace is one of the kept ones.
  if (!o.previous?.pid) return plan;
  const kept = new Set(plan.keep.flatMap((n) => { try { return [statSync(`/run/netns/${n}`).ino]; } catch { return []; } }));
  const procs = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).flatMap((d) => {
    const pid = Number(d);
    const pgid = processGroup(pid);
    if (pgid === undefined || pgid !== o.previous?.pid) return [];
    try { return kept.has(statSync(`/proc/${d}/ns/net`).ino) ? [{ pid, pgid }] : []; } catch { return []; }
  });
  for (const pid of strayProcesses(procs, o.previous?.pid)) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
  return plan;
}

/**
 * The node's network namespace and its bridge (layout in docs/architecture.md, "Network layout"): `cbr0` holding the gateway
 * address of the node's Pod CIDR, IP forwarding, bridge-netfilter (so bridged Pod-to-Pod packets
 * pass the proxy's hooks and Service replies are un-DNATed) and route_localnet. Everything here runs
 * inside the node namespace (`ip -n` / `ip netns exec`); the host namespace is never touched.
 */
import * as fs from 'node:fs';
import { runOk, run } from './exec.js';
import { gatewayOf, macForIP, parseCidr } from './ipam.js';

/** True when the named network namespace exists. */
export function netnsExists(name: string): boolean {
  return fs.existsSync(`/run/netns/${name}`);
}

/** Creates the namespace if absent. */
export async function ensureNetns(name: string): Promise<boolean> {
  if (netnsExists(name)) return false;
  await runOk(['ip', 'netns', 'add', name]);
  return true;
}

/**
 * Deletes the namespace if present (its interfaces go with it), after ending every process still
 * inside it. Killing a container's process group is not enough: a program that daemonizes (busybox
 * `httpd` without `-f`, anything that calls setsid) leaves the group and would outlive its Pod and
 * keep the namespace alive unnamed; Kubernetes ends the whole Pod (its cgroup) instead. Only
 * processes in this namespace — which the agent made — are signalled, by pid.
 */
export async function deleteNetns(name: string): Promise<void> {
  if (!netnsExists(name)) return;
  await killProcessesIn(name);
  const r = await run(['ip', 'netns', 'delete', name]);
  if (r.code !== 0 && netnsExists(name)) throw new Error(`ip netns delete ${name}: ${r.stderr.trim()}`);
}

/**
 * SIGKILLs the processes inside namespace `name` (`ip netns pids`) and waits until they are gone
 * (≤ 2 s). Also used by `clusterip down` for namespaces a crashed daemon left behind.
 */
export async function killProcessesIn(name: string): Promise<void> {
  const pidsOf = async (): Promise<number[]> => (await run(['ip', 'netns', 'pids', name])).stdout.split('\n').map(Number).filter((p) => Number.isInteger(p) && p > 1);
  let pids = await pidsOf();
  for (let round = 0; pids.length > 0 && round < 40; round++) {
    for (const pid of pids) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    await new Promise((r) => setTimeout(r, 50));
    pids = await pidsOf();
  }
}

/**
 * Makes the node namespace ready for Pods (idempotent). Returns true when this call created the
 * namespace (so the agent knows it owns it and removes it on stop).
 */
export async function ensureNodeNetwork(netns: string, podCIDR: string): Promise<boolean> {
  const created = await ensureNetns(netns);
  const gw = gatewayOf(podCIDR);
  const { prefix } = parseCidr(podCIDR);
  // The bridge gets a MAC of its own, derived from the gateway address (as the Pods' are from
  // theirs). A bridge left without one takes the lowest MAC among its ports and changes it whenever
  // a Pod's veth with a lower one joins: the other Pods keep sending to the gateway's old MAC (their
  // ARP entry stays valid for 15-45 s, then a few more seconds of probes), the bridge no longer takes
  // those frames for itself (they are another port's address), and everything they route through the
  // node — to other nodes, over the overlay — is dropped meanwhile. Seen as a new Pod on another
  // machine unreachable for ~40 s after a Pod was placed on the client's node.
  const mac = macForIP(gw);
  const links = await runOk(['ip', '-n', netns, '-o', 'link', 'show']);
  const cmds: string[] = ['link set lo up'];
  if (!/\d+: cbr0[:@]/.test(links)) cmds.push(`link add cbr0 address ${mac} type bridge`);
  cmds.push('link set cbr0 up');
  await runOk(['ip', '-n', netns, '-batch', '-'], { input: cmds.join('\n') + '\n' });
  const addrs = await runOk(['ip', '-n', netns, '-o', 'addr', 'show', 'dev', 'cbr0']);
  if (!addrs.includes(`${gw}/${prefix}`)) await runOk(['ip', '-n', netns, 'addr', 'add', `${gw}/${prefix}`, 'dev', 'cbr0']);
  // Per-namespace sysctls, written from inside the node namespace.
  await runOk(['ip', 'netns', 'exec', netns, 'sh', '-c',
    'echo 1 > /proc/sys/net/ipv4/ip_forward; ' +
    'echo 1 > /proc/sys/net/ipv4/conf/all/route_localnet; ' +
    // A Pod → ClusterIP → Pod connection on one bridge leaves by the port it came in on, so the
    // kernel would send the client an ICMP redirect for every new connection; those use up the
    // per-destination ICMP rate limit, and the proxy's port-unreachable rejects ("connection
    // refused" for a Service without endpoints) are then silently dropped: clients hang.
    'echo 0 > /proc/sys/net/ipv4/conf/all/send_redirects; echo 0 > /proc/sys/net/ipv4/conf/cbr0/send_redirects; ' +
    // A change of the bridge's MAC is announced with a gratuitous ARP (below: a bridge made before
    // it had a fixed one), so the Pods' ARP entries follow at once.
    'echo 1 > /proc/sys/net/ipv4/conf/cbr0/arp_notify; ' +
    '(echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables) 2>/dev/null; true']);
  const bridge = await runOk(['ip', '-n', netns, '-o', 'link', 'show', 'dev', 'cbr0']);
  if (!bridge.includes(`link/ether ${mac} `)) await runOk(['ip', '-n', netns, 'link', 'set', 'cbr0', 'address', mac]);
  return created;
}

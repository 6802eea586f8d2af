/**
 * Pure part of the VXLAN overlay (flannel's vxlan backend is the anchor): what one node's
 * namespace must hold so that its Pods reach the Pods of nodes on other machines.
 *
 * Each node has a VXLAN device `vxlan0` in its namespace with its own VNI, derived from its Pod
 * CIDR (1 + the block's index in the cluster CIDR, so unique in the cluster) — several nodes of one
 * machine then share the machine's one UDP socket (port 8472, flannel's) and the kernel tells their
 * traffic apart by VNI. A node publishes on its Node object, with flannel's annotation keys:
 * `flannel.alpha.coreos.com/backend-data` `{"VNI":n,"VtepMAC":"…"}`, `…/public-ip` (its machine's
 * address) and `…/backend-type` `vxlan`.
 *
 * For every other node on ANOTHER machine (a different public IP) with those annotations and a Pod
 * CIDR, flannel's three entries, all in this node's namespace:
 *   route  <podCIDR> via <vtep> dev vxlan0 onlink     (vtep = the network address of its Pod CIDR, e.g. 10.244.3.0)
 *   neigh  <vtep> lladdr <mac> dev vxlan0 nud permanent
 *   fdb    <mac> dev vxlan0 dst <public IP> vni <its VNI> self permanent
 * Nodes of the same machine are reached directly over the machine's own underlay (host-gw style
 * routes made when the machine's nodes are wired, src/cluster/topology.ts), not through the overlay.
 */
import type { Node } from 'kubernetes-types/core/v1.js';

export const ANNOTATION_BACKEND_DATA = 'flannel.alpha.coreos.com/backend-data';
export const ANNOTATION_BACKEND_TYPE = 'flannel.alpha.coreos.com/backend-type';
export const ANNOTATION_PUBLIC_IP = 'flannel.alpha.coreos.com/public-ip';
/** The VXLAN device inside each node namespace. */
export const VXLAN_DEVICE = 'vxlan0';
/** UDP port of the overlay (flannel's default, also the Linux kernel's historical default). */
export const VXLAN_PORT = 8472;

/** One remote node as the overlay needs it. */
export interface Peer {
  node: string;
  podCIDR: string;
  /** The VTEP address: the network address of the peer's Pod CIDR. */
  vtep: string;
  mac: string;
  publicIP: string;
  vni: number;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

function ipToInt(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0) >>> 0;
}

function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** The network address of an IPv4 CIDR, or undefined when it is not one. */
export function networkAddress(cidr: string): string | undefined {
  const [ip, len] = cidr.split('/');
  const bits = Number(len);
  if (!ip || !IPV4.test(ip) || !(Number.isInteger(bits) && bits >= 0 && bits <= 32)) return undefined;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return intToIp((ipToInt(ip) & mask) >>> 0);
}

/** The VNI of the node with Pod CIDR `podCIDR` in cluster CIDR `clusterCIDR`: 1 + its block index. */
export function vniFor(clusterCIDR: string, podCIDR: string): number {
  const [cip, clen] = clusterCIDR.split('/');
  const [pip, plen] = podCIDR.split('/');
  const cb = Number(clen);
  const pb = Number(plen);
  if (!cip || !pip || !(pb >= cb) || pb > 32) throw new RangeError(`${podCIDR} is not inside ${clusterCIDR}`);
  const off = ipToInt(networkAddress(podCIDR)!) - ipToInt(networkAddress(clusterCIDR)!);
  if (off < 0 || off >= 2 ** (32 - cb)) throw new RangeError(`${podCIDR} is not inside ${clusterCIDR}`);
  const vni = 1 + off / 2 ** (32 - pb);
  if (vni > 0xffffff) throw new RangeError(`too many node blocks in ${clusterCIDR} for 24-bit VNIs`);
  return vni;
}

/** The Node annotations that publish this node's VTEP. */
export function vtepAnnotations(vni: number, mac: string, publicIP: string): Record<string, string> {
  return {
    [ANNOTATION_BACKEND_TYPE]: 'vxlan',
    [ANNOTATION_BACKEND_DATA]: JSON.stringify({ VNI: vni, VtepMAC: mac }),
    [ANNOTATION_PUBLIC_IP]: publicIP,
  };
}

/** The peer a Node describes, or undefined when it does not (yet) publish a complete VTEP. */
export function peerOf(node: Node): Peer | undefined {
  const a = node.metadata?.annotations ?? {};
  if (a[ANNOTATION_BACKEND_TYPE] !== 'vxlan') return undefined;
  const podCIDR = node.spec?.podCIDR;
  const vtep = podCIDR ? networkAddress(podCIDR) : undefined;
  const publicIP = a[ANNOTATION_PUBLIC_IP] ?? '';
  let data: { VNI?: unknown; VtepMAC?: unknown } = {};
  try { data = JSON.parse(a[ANNOTATION_BACKEND_DATA] ?? '{}') as typeof data; } catch { return undefined; }
  const vni = Number(data.VNI);
  const mac = String(data.VtepMAC ?? '').toLowerCase();
  if (!vtep || !IPV4.test(publicIP) || !MAC.test(mac) || !(Number.isInteger(vni) && vni > 0 && vni <= 0xffffff)) return undefined;
  return { node: node.metadata!.name!, podCIDR: podCIDR!, vtep, mac, publicIP, vni };
}

/** The peers node `self` (on the machine with `selfPublicIP`) must route to over the overlay, sorted by node name. */
export function desiredPeers(self: string, selfPublicIP: string, nodes: readonly Node[]): Peer[] {
  const out: Peer[] = [];
  for (const n of nodes) {
    if (n.metadata?.name === self) continue;
    const p = peerOf(n);
    if (p && p.publicIP !== selfPublicIP) out.push(p);
  }
  return out.sort((a, b) => a.node.localeCompare(b.node));
}

/** What the kernel holds on vxlan0 now (read back from `ip route`, `ip neigh`, `bridge fdb`). */
export interface DeviceState {
  routes: string[];
  neighbours: string[];
  /** `mac dst vni` triples. */
  fdb: string[];
}

/** The `ip -batch` and `bridge -batch` lines that turn `current` into `peers` (replace what is wanted, delete the rest). */
export function overlayCommands(peers: readonly Peer[], current: DeviceState): { ip: string[]; bridge: string[] } {
  const d = VXLAN_DEVICE;
  const ip: string[] = [];
  const bridge: string[] = [];
  const wantRoutes = new Set(peers.map((p) => p.podCIDR));
  const wantNeigh = new Set(peers.map((p) => p.vtep));
  const wantFdb = new Set(peers.map((p) => `${p.mac} ${p.publicIP} ${p.vni}`));
  for (const r of current.routes) if (!wantRoutes.has(r)) ip.push(`route del ${r} dev ${d}`);
  for (const n of current.neighbours) if (!wantNeigh.has(n)) ip.push(`neigh del ${n} dev ${d}`);
  for (const f of current.fdb) {
    if (wantFdb.has(f)) continue;
    const [mac, dst, vni] = f.split(' ');
    bridge.push(`fdb del ${mac} dev ${d} dst ${dst}${vni ? ` vni ${vni}` : ''} self`);
  }
  for (const p of peers) {
    // The forwarding entry first: a packet routed before it exists would be flooded to nobody.
    if (!current.fdb.includes(`${p.mac} ${p.publicIP} ${p.vni}`)) bridge.push(`fdb append ${p.mac} dev ${d} dst ${p.publicIP} vni ${p.vni} self permanent`);
    ip.push(`neigh replace ${p.vtep} lladdr ${p.mac} dev ${d} nud permanent`);
    ip.push(`route replace ${p.podCIDR} via ${p.vtep} dev ${d} onlink`);
  }
  return { ip, bridge };
}

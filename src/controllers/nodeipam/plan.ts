/**
 * Pure part of node IPAM (kube-controller-manager's `--allocate-node-cidrs` with the range
 * allocator): the cluster CIDR is cut into blocks of `--node-cidr-mask-size` (a /24 of a /16 by
 * default); a Node without `spec.podCIDR` gets the lowest block no other Node holds. Blocks that
 * Nodes already carry (the API server machine's own nodes set theirs when they register) are
 * occupied, whatever set them.
 */

/** An IPv4 CIDR as numbers. */
export interface Cidr { base: number; bits: number }

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Parses `a.b.c.d/n`; undefined when it is not one. */
export function parseCidr(s: string): Cidr | undefined {
  const m = IPV4.exec(s.trim());
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32) return undefined;
  const ip = m.slice(1, 5).reduce((n, o) => n * 256 + Number(o), 0);
  const bits = Number(m[5]);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return { base: (ip & mask) >>> 0, bits };
}

export function formatCidr(c: Cidr): string {
  const b = c.base;
  return `${b >>> 24}.${(b >>> 16) & 255}.${(b >>> 8) & 255}.${b & 255}/${c.bits}`;
}

/** The block index of `podCIDR` in `cluster` (for blocks of `maskSize`), or undefined when it is not one of them. */
export function blockIndex(cluster: Cidr, maskSize: number, podCIDR: string): number | undefined {
  const c = parseCidr(podCIDR);
  if (!c || c.bits !== maskSize || maskSize < cluster.bits) return undefined;
  const span = 2 ** (32 - cluster.bits);
  const off = c.base - cluster.base;
  if (off < 0 || off >= span) return undefined;
  return off / 2 ** (32 - maskSize);
}

/** Node → CIDR to write, and the Nodes that got none because the range is full. */
export interface CidrPlan {
  assign: Map<string, string>;
  exhausted: string[];
}

/**
 * Assigns blocks to every node in `needing` (in the order given), avoiding every block in
 * `occupied` (podCIDRs held by Nodes, and assignments written but not yet seen).
 */
export function planCidrs(clusterCIDR: string, maskSize: number, occupied: Iterable<string>, needing: readonly string[]): CidrPlan {
  const cluster = parseCidr(clusterCIDR);
  if (!cluster || maskSize < cluster.bits || maskSize > 30) throw new RangeError(`cannot cut ${clusterCIDR} into /${maskSize} blocks`);
  const count = 2 ** (maskSize - cluster.bits);
  const used = new Set<number>();
  for (const c of occupied) {
    const i = blockIndex(cluster, maskSize, c);
    if (i !== undefined) used.add(i);
  }
  const plan: CidrPlan = { assign: new Map(), exhausted: [] };
  let next = 0;
  for (const node of needing) {
    while (next < count && used.has(next)) next++;
    if (next >= count) { plan.exhausted.push(node); continue; }
    used.add(next);
    plan.assign.set(node, formatCidr({ base: (cluster.base + next * 2 ** (32 - maskSize)) >>> 0, bits: maskSize }));
  }
  return plan;
}

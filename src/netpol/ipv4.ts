/**
 * IPv4 ranges for ipBlock peers: a CIDR minus its `except` CIDRs, several blocks merged, as the
 * non-overlapping intervals an nftables interval set accepts (it refuses overlapping elements).
 * Hand-written: a few lines of 32-bit arithmetic, no library does exactly this.
 */

/** An inclusive range of IPv4 addresses as unsigned 32-bit numbers. */
export interface Range { lo: number; hi: number }

/** `a.b.c.d/n` → its range; undefined for anything else (IPv6 blocks are not enforced: the cluster is IPv4). */
export function cidrRange(cidr: string): Range | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m) return undefined;
  const o = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (o.some((x) => x > 255) || prefix > 32) return undefined;
  const addr = ((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0;
  const size = 2 ** (32 - prefix);
  const lo = addr - (addr % size);
  return { lo, hi: lo + size - 1 };
}

/** `ranges` sorted and merged (adjacent ones too). */
export function mergeRanges(ranges: readonly Range[]): Range[] {
  const s = [...ranges].sort((a, b) => a.lo - b.lo);
  const out: Range[] = [];
  for (const r of s) {
    const last = out[out.length - 1];
    if (last && r.lo <= last.hi + 1) last.hi = Math.max(last.hi, r.hi);
    else out.push({ ...r });
  }
  return out;
}

/** `from` minus every range of `cut`. */
export function subtractRanges(from: readonly Range[], cut: readonly Range[]): Range[] {
  let cur = mergeRanges(from);
  for (const c of mergeRanges(cut)) {
    const next: Range[] = [];
    for (const r of cur) {
      if (c.hi < r.lo || c.lo > r.hi) { next.push(r); continue; }
      if (c.lo > r.lo) next.push({ lo: r.lo, hi: c.lo - 1 });
      if (c.hi < r.hi) next.push({ lo: c.hi + 1, hi: r.hi });
    }
    cur = next;
  }
  return cur;
}

export function ipText(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/**
 * A range as nft writes an interval element: `a.b.c.d/n` when it is exactly one prefix, a single
 * address, else `lo-hi` (nft turns those into the same intervals).
 */
export function rangeText(r: Range): string {
  if (r.lo === r.hi) return ipText(r.lo);
  const size = r.hi - r.lo + 1;
  const bits = Math.log2(size);
  if (Number.isInteger(bits) && r.lo % size === 0) return `${ipText(r.lo)}/${32 - bits}`;
  return `${ipText(r.lo)}-${ipText(r.hi)}`;
}

/** Whether `ip` (dotted quad) lies in one of `ranges`. */
export function inRanges(ip: string, ranges: readonly Range[]): boolean {
  const r = cidrRange(`${ip}/32`);
  return !!r && ranges.some((x) => r.lo >= x.lo && r.lo <= x.hi);
}

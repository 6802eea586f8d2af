/**
 * The address pool LoadBalancer IPs come from (`clusterip up --lb-pool`): a range `a.b.c.d-a.b.c.e`,
 * a CIDR, or a comma-separated list of either, as MetalLB's IPAddressPool writes them. Pure.
 */

export interface AddressPool {
  /** As given, for messages. */
  text: string;
  /** The addresses in order (IPv4, as 32-bit numbers). */
  readonly size: number;
  has(ip: string): boolean;
  /** The i-th address of the pool. */
  at(i: number): string;
}

function ipNum(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip.trim());
  if (!m) return undefined;
  const o = m.slice(1).map(Number);
  if (o.some((x) => x > 255)) return undefined;
  return ((o[0]! << 24) >>> 0) + (o[1]! << 16) + (o[2]! << 8) + o[3]!;
}

function ipText(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** Parses a pool; throws an Error that names the bad part. */
export function parsePool(text: string): AddressPool {
  const ranges: [number, number][] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const dash = /^([\d.]+)\s*-\s*([\d.]+)$/.exec(part);
    const cidr = /^([\d.]+)\/(\d{1,2})$/.exec(part);
    let lo: number | undefined; let hi: number | undefined;
    if (dash) { lo = ipNum(dash[1]!); hi = ipNum(dash[2]!); }
    else if (cidr && Number(cidr[2]) <= 32) {
      const base = ipNum(cidr[1]!);
      const bits = Number(cidr[2]);
      if (base !== undefined) {
        const size = 2 ** (32 - bits);
        lo = base - (base % size);
        hi = lo + size - 1;
        // A /31 or /32 has no network or broadcast address to skip.
        if (bits < 31) { lo += 1; hi -= 1; }
      }
    } else if (ipNum(part) !== undefined) { lo = hi = ipNum(part); }
    if (lo === undefined || hi === undefined || hi < lo) throw new Error(`invalid address pool part "${part}": expected a range a.b.c.d-a.b.c.e, a CIDR or an address`);
    ranges.push([lo, hi]);
  }
  if (ranges.length === 0) throw new Error('the address pool is empty');
  const size = ranges.reduce((n, [lo, hi]) => n + hi - lo + 1, 0);
  return {
    text, size,
    has(ip) {
      const n = ipNum(ip);
      return n !== undefined && ranges.some(([lo, hi]) => n >= lo && n <= hi);
    },
    at(i) {
      let k = i;
      for (const [lo, hi] of ranges) {
        if (k <= hi - lo) return ipText(lo + k);
        k -= hi - lo + 1;
      }
      throw new RangeError(`address ${i} is outside the pool of ${size}`);
    },
  };
}

/** Whether every address of `pool` lies in `cidr` (the pool must be on the underlay). */
export function poolWithin(pool: AddressPool, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const b = ipNum(base!);
  if (b === undefined) return false;
  const size = 2 ** (32 - Number(bits));
  const lo = b - (b % size);
  for (let i = 0; i < pool.size; i++) {
    const n = ipNum(pool.at(i))!;
    if (n < lo || n >= lo + size) return false;
  }
  return true;
}

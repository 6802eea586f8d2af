/** IPv4 CIDR arithmetic for the Service IP allocator. */

/** Parses dotted-quad IPv4 to an unsigned 32-bit number; undefined when not IPv4. */
export function ipToInt(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255) || m.slice(1).some((p) => p.length > 1 && p.startsWith('0'))) return undefined;
  return ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface Cidr {
  readonly text: string;
  readonly network: number;
  readonly prefix: number;
  /** Number of addresses in the block. */
  readonly total: number;
}

/** Parses `a.b.c.d/n`; throws on malformed input. The network address is normalised. */
export function parseCidr(text: string): Cidr {
  const [ip, len] = text.split('/');
  const n = ipToInt(ip ?? '');
  const prefix = Number(len);
  if (n === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32 || len === undefined) throw new Error(`invalid CIDR ${JSON.stringify(text)}`);
  const total = 2 ** (32 - prefix);
  const network = prefix === 0 ? 0 : (n & ~(total - 1)) >>> 0;
  return { text: `${intToIp(network)}/${prefix}`, network, prefix, total };
}

/**
 * The NodePort range allocator (Kubernetes pkg/registry/core/service/portallocator, in memory).
 *
 * KEP-3668 splits the range into a static band (the lowest `offset` ports, offset =
 * min(max(16, size/32), 128)) that users pick from with spec.ports[].nodePort, and a dynamic band
 * above it: dynamic allocation tries the upper band first, at a random position, and only falls back
 * to the static band when the upper one is full. So a port a user hard-codes in a manifest from the
 * static band is unlikely to have been taken by an automatic allocation.
 *
 * Each allocated port records its owner (`namespace/name` of the Service), so a release by another
 * owner (a repaired duplicate) never frees it.
 */

export type PortAllocatorErrorCode = 'NotInRange' | 'AlreadyAllocated' | 'Full';

/** A typed allocation failure; `message` is Kubernetes' portallocator wording. */
export class PortAllocatorError extends Error {
  constructor(readonly code: PortAllocatorErrorCode, message: string) {
    super(message);
    this.name = 'PortAllocatorError';
  }
}

/** A port range `base-max` (inclusive), as `--service-node-port-range` gives it. */
export interface PortRange {
  base: number;
  /** Number of ports. */
  size: number;
  /** `base-last`, Kubernetes' PortRange.String(). */
  text: string;
}

/**
 * Parses `30000-32767` (or a single port `30000`, or `30000+767`, Kubernetes' net.ParsePortRange
 * forms). Throws an Error naming the problem.
 */
export function parsePortRange(text: string): PortRange {
  const s = text.trim();
  let lo: number; let hi: number;
  const dash = /^(\d+)-(\d+)$/.exec(s);
  const plus = /^(\d+)\+(\d+)$/.exec(s);
  if (dash) { lo = Number(dash[1]); hi = Number(dash[2]); }
  else if (plus) { lo = Number(plus[1]); hi = lo + Number(plus[2]); }
  else if (/^\d+$/.test(s)) { lo = hi = Number(s); }
  else throw new Error(`unable to parse port range "${text}": expected <low>-<high>, e.g. 30000-32767`);
  if (lo < 1 || hi > 65535 || hi < lo) throw new Error(`invalid port range "${text}": ports must be 1-65535 and low <= high`);
  return { base: lo, size: hi - lo + 1, text: `${lo}-${hi}` };
}

/** Default `--service-node-port-range`. */
export const DEFAULT_NODE_PORT_RANGE = '30000-32767';

export interface PortAllocatorOptions {
  /** Random source in [0,1), injectable for tests. */
  random?: () => number;
}

export class NodePortAllocator {
  readonly range: PortRange;
  /** Size of the static (lower) band. */
  readonly offset: number;
  /** port → owner key ('' when allocated without an owner). */
  private readonly used = new Map<number, string>();
  private readonly random: () => number;

  constructor(rangeText: string = DEFAULT_NODE_PORT_RANGE, opts: PortAllocatorOptions = {}) {
    this.range = parsePortRange(rangeText);
    // KEP-3668's calculateRangeOffset for ports: size/32 clamped to [16, 128]; a range smaller than
    // 16 has no static band to protect.
    this.offset = this.range.size < 16 ? 0 : Math.min(Math.max(16, Math.floor(this.range.size / 32)), 128);
    this.random = opts.random ?? Math.random;
  }

  /** True when `port` lies in the range. */
  contains(port: number): boolean {
    return Number.isInteger(port) && port >= this.range.base && port < this.range.base + this.range.size;
  }

  /** True when `port` is allocated. */
  has(port: number): boolean {
    return this.used.has(port);
  }

  /** The owner holding `port` ('' when allocated without one), or undefined. */
  ownerOf(port: number): string | undefined {
    return this.used.get(port);
  }

  get usedCount(): number {
    return this.used.size;
  }

  /** Allocates a specific port for `owner`. */
  allocate(port: number, owner = ''): void {
    if (!this.contains(port)) {
      throw new PortAllocatorError('NotInRange', `provided port is not in the valid range. The range of valid ports is ${this.range.text}`);
    }
    if (this.used.has(port)) throw new PortAllocatorError('AlreadyAllocated', 'provided port is already allocated');
    this.used.set(port, owner);
  }

  /** Records `port` as held by `owner` whatever this view thought (a stored claim is the truth). */
  markUsed(port: number, owner: string): void {
    if (this.contains(port)) this.used.set(port, owner);
  }

  /** Allocates a free port: the dynamic (upper) band first from a random position, then the static band. */
  allocateNext(owner = ''): number {
    const { base, size } = this.range;
    const port = this.scan(base + this.offset, size - this.offset) ?? this.scan(base, this.offset);
    if (port === undefined) throw new PortAllocatorError('Full', 'range is full');
    this.used.set(port, owner);
    return port;
  }

  private scan(from: number, n: number): number | undefined {
    if (n <= 0) return undefined;
    const start = Math.floor(this.random() * n);
    for (let k = 0; k < n; k++) {
      const p = from + ((start + k) % n);
      if (!this.used.has(p)) return p;
    }
    return undefined;
  }

  /** Frees `port`; with `owner`, only when that owner holds it. No-op for free or out-of-range ports. */
  release(port: number, owner?: string): void {
    const held = this.used.get(port);
    if (held === undefined) return;
    if (owner !== undefined && held !== '' && held !== owner) return;
    this.used.delete(port);
  }
}

/**
 * The ClusterIP range allocator (Kubernetes pkg/registry/core/service/ipallocator, in memory).
 *
 * Usable addresses exclude the network and broadcast addresses. KEP-3070 splits the range into a
 * static band (the lowest `offset` addresses, offset = min(max(16, size/16), 256)) that users pick
 * from with spec.clusterIP, and a dynamic band above it: dynamic allocation tries the upper band
 * first, at a random position, and only falls back to the static band when the upper one is full.
 * Addresses can be reserved for one owner (10.96.0.1 for default/kubernetes, 10.96.0.10 for
 * kube-system/kube-dns): nobody else may take them, and dynamic allocation skips them.
 */
import { intToIp, ipToInt, parseCidr, type Cidr } from './cidr.js';

export type AllocatorErrorCode = 'NotInRange' | 'AlreadyAllocated' | 'Full';

/** A typed allocation failure; `message` is Kubernetes' ipallocator wording. */
export class AllocatorError extends Error {
  constructor(readonly code: AllocatorErrorCode, message: string) {
    super(message);
    this.name = 'AllocatorError';
  }
}

export interface AllocatorOptions {
  /** Random source in [0,1), injectable for tests. */
  random?: () => number;
  /** ip → owner key (`namespace/name`) allowed to hold it. */
  reserved?: Record<string, string>;
}

export class ServiceIPAllocator {
  readonly cidr: Cidr;
  /** Number of allocatable addresses. */
  readonly size: number;
  /** Size of the static (lower) band. */
  readonly offset: number;
  private readonly base: number;
  /** index → owner key ('' when allocated without an owner). */
  private readonly used = new Map<number, string>();
  private readonly reserved = new Map<number, string>();
  private readonly random: () => number;

  constructor(cidrText: string, opts: AllocatorOptions = {}) {
    this.cidr = parseCidr(cidrText);
    // /31 and /32 have no network/broadcast to skip (Kubernetes treats them the same way).
    const skip = this.cidr.prefix >= 31 ? 0 : 1;
    this.base = this.cidr.network + skip;
    this.size = Math.max(0, this.cidr.total - 2 * skip);
    this.offset = Math.min(Math.max(16, Math.floor(this.size / 16)), 256);
    this.random = opts.random ?? Math.random;
    for (const [ip, owner] of Object.entries(opts.reserved ?? {})) {
      const i = this.index(ip);
      if (i !== undefined) this.reserved.set(i, owner);
    }
  }

  /** Index of `ip` in the allocatable range, or undefined when outside it. */
  private index(ip: string): number | undefined {
    const n = ipToInt(ip);
    if (n === undefined) return undefined;
    const i = n - this.base;
    return i >= 0 && i < this.size ? i : undefined;
  }

  /** True when `ip` is inside the allocatable range. */
  contains(ip: string): boolean {
    return this.index(ip) !== undefined;
  }

  /** True when `ip` is allocated. */
  has(ip: string): boolean {
    const i = this.index(ip);
    return i !== undefined && this.used.has(i);
  }

  /** How many addresses are allocated. */
  get usedCount(): number {
    return this.used.size;
  }

  /** Allocates a specific address for `owner`. */
  allocate(ip: string, owner?: string): void {
    const i = this.index(ip);
    if (i === undefined) {
      throw new AllocatorError('NotInRange', `the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${this.cidr.text}`);
    }
    const r = this.reserved.get(i);
    if (this.used.has(i) || (r !== undefined && owner !== undefined && r !== owner)) {
      throw new AllocatorError('AlreadyAllocated', 'provided IP is already allocated');
    }
    this.used.set(i, owner ?? '');
  }

  /**
   * Records `ip` as held by `owner` whatever this view thought (the stored claim is the truth: an
   * allocation by another API server, or the winner of a race). Ignored outside the range.
   */
  markUsed(ip: string, owner: string): void {
    const i = this.index(ip);
    if (i !== undefined) this.used.set(i, owner);
  }

  /** Allocates a free address: the dynamic band first (random start), then the static band. */
  allocateNext(owner?: string): string {
    const i = this.scan(this.offset, this.size) ?? this.scan(0, this.offset);
    if (i === undefined) throw new AllocatorError('Full', 'range is full');
    this.used.set(i, owner ?? '');
    return intToIp(this.base + i);
  }

  private scan(from: number, to: number): number | undefined {
    const n = to - from;
    if (n <= 0) return undefined;
    const start = Math.floor(this.random() * n);
    for (let k = 0; k < n; k++) {
      const i = from + ((start + k) % n);
      if (!this.used.has(i) && !this.reserved.has(i)) return i;
    }
    return undefined;
  }

  /**
   * Frees `ip` (no-op when not allocated or outside the range). With `owner`, only when that owner
   * holds it — deleting a Service that (after a repair) shares another's IP must not free it.
   */
  release(ip: string, owner?: string): void {
    const i = this.index(ip);
    if (i === undefined) return;
    const held = this.used.get(i);
    if (held === undefined) return;
    if (owner !== undefined && held !== '' && held !== owner) return;
    this.used.delete(i);
  }

  /** The owner key holding `ip` ('' when allocated without an owner), or undefined. */
  ownerOf(ip: string): string | undefined {
    const i = this.index(ip);
    return i === undefined ? undefined : this.used.get(i);
  }
}

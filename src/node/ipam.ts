/**
 * Host-local IPAM for one node's Pod CIDR (a /24 or smaller slice of 10.244.0.0/16), persisted as
 * JSON in the state directory so an agent restart sees the same allocations. Invariants: an address
 * is held by at most one Pod UID; the network, gateway (.1) and broadcast addresses are never given
 * out; allocating twice for the same UID returns the same address.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NodeError } from './errors.js';

interface IpamFile {
  cidr: string;
  /** ip → pod uid */
  allocations: Record<string, string>;
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((a, o) => (a << 8) + Number(o), 0) >>> 0;
}

function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Parses `a.b.c.d/len` into its numeric range. */
export function parseCidr(cidr: string): { base: number; prefix: number; size: number } {
  const [ip, len] = cidr.split('/');
  const prefix = Number(len);
  if (!ip || !/^\d+\.\d+\.\d+\.\d+$/.test(ip) || !(prefix >= 8 && prefix <= 30)) {
    throw new NodeError('SANDBOX_FAILED', `invalid Pod CIDR ${cidr}`);
  }
  const size = 2 ** (32 - prefix);
  const base = (ipToInt(ip) & ~(size - 1)) >>> 0;
  return { base, prefix, size };
}

/** The gateway (bridge) address of a Pod CIDR: the first host address, e.g. 10.244.0.1. */
export function gatewayOf(cidr: string): string {
  return intToIp(parseCidr(cidr).base + 1);
}

/**
 * `0a:58:` + the four bytes of the IPv4 address: locally administered, unicast, stable per IP. Pods'
 * eth0 (sandbox.ts) and the node bridge (network.ts, from the gateway address) take their MAC from it.
 */
export function macForIP(ip: string): string {
  return ['0a', '58', ...ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0'))].join(':');
}

/** A file-backed allocator. Writes are synchronous and atomic (write + rename). */
export class Ipam {
  private readonly file: string;
  private data: IpamFile;

  constructor(stateDir: string, readonly cidr: string) {
    this.file = path.join(stateDir, 'ipam.json');
    parseCidr(cidr);
    let data: IpamFile = { cidr, allocations: {} };
    try {
      const loaded = JSON.parse(fs.readFileSync(this.file, 'utf8')) as IpamFile;
      if (loaded.cidr === cidr) data = loaded;
    } catch {
      // no file yet: start empty
    }
    this.data = data;
  }

  /** Returns the address held by `uid`, allocating the lowest free one if it holds none. */
  allocate(uid: string): string {
    const held = this.addressOf(uid);
    if (held) return held;
    const { base, size } = parseCidr(this.cidr);
    for (let i = 2; i < size - 1; i++) {
      const ip = intToIp(base + i);
      if (!this.data.allocations[ip]) {
        this.data.allocations[ip] = uid;
        this.save();
        return ip;
      }
    }
    throw new NodeError('IPAM_EXHAUSTED', `no free address left in Pod CIDR ${this.cidr}`);
  }

  /** The address `uid` holds, if any. */
  addressOf(uid: string): string | undefined {
    return Object.entries(this.data.allocations).find(([, u]) => u === uid)?.[0];
  }

  /** Releases whatever `uid` holds (no-op when nothing). */
  release(uid: string): void {
    let changed = false;
    for (const [ip, u] of Object.entries(this.data.allocations)) {
      if (u === uid) { delete this.data.allocations[ip]; changed = true; }
    }
    if (changed) this.save();
  }

  /** uid of every current holder. */
  holders(): string[] {
    return [...new Set(Object.values(this.data.allocations))];
  }

  private save(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.data));
    fs.renameSync(tmp, this.file);
  }
}

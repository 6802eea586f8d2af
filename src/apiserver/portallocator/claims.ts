/**
 * NodePort claims kept in storage, one key per port (`/registry/clusterip.dev/nodeports/<port>`),
 * the same design as the ClusterIP claims (../ipallocator/ipaddresses.ts): the storage's
 * create-if-absent makes a port unique, so several API servers on one etcd allocate concurrently
 * without a shared lock, and the in-memory NodePortAllocator of each server is kept equal to the
 * claims by a storage watch on the prefix (other servers' claims arrive there).
 *
 * Kubernetes keeps NodePorts in one RangeAllocation bitmap (`/registry/ranges/servicenodeports`)
 * rewritten by compare-and-swap on every allocation; per-port keys only conflict when two servers
 * pick the same port. There is no Kubernetes object for a NodePort claim, so the value is a small
 * JSON record of ours (the port and the owning Service), not served by the API.
 */
import type { Storage, StorageEvent, StorageWatch } from '../../storage/storage.js';
import { isStorageError } from '../../storage/storage.js';
import type { NodePortAllocator } from './allocator.js';

/** Storage prefix of the claims. */
export const NODEPORT_PREFIX = '/registry/clusterip.dev/nodeports/';

/** A claim as read back: the owner key (`namespace/name`) and when it was made. */
export interface PortClaim { port: number; owner: string; created: string; modRevision: number }

interface ClaimRecord { kind: 'NodePortClaim'; port: number; owner: string; created: string }

function decode(key: string, value: string, modRevision: number): PortClaim | undefined {
  try {
    const o = JSON.parse(value) as ClaimRecord;
    const port = Number(key.slice(NODEPORT_PREFIX.length));
    if (!Number.isInteger(port) || typeof o.owner !== 'string') return undefined;
    return { port, owner: o.owner, created: o.created, modRevision };
  } catch {
    return undefined;
  }
}

export class NodePortLedger {
  private sw?: StorageWatch;
  private readonly claims = new Map<number, PortClaim>();

  constructor(private readonly storage: Storage, private readonly allocator: NodePortAllocator, private readonly clock: () => Date = () => new Date()) {}

  /** Loads every claim into the allocator and follows changes (other API servers' claims included). */
  async start(): Promise<void> {
    const list = await this.storage.list(NODEPORT_PREFIX);
    for (const kv of list.items) {
      const c = decode(kv.key, kv.value, kv.modRevision);
      if (c) this.mark(c);
    }
    this.sw = this.storage.watch(NODEPORT_PREFIX, list.revision, (ev) => this.apply(ev), () => {
      // Storage lost events (etcd compacted past the watch): reload from scratch.
      this.sw = undefined;
      for (const c of this.claims.values()) this.allocator.release(c.port, c.owner);
      this.claims.clear();
      const retry = (): void => { this.start().catch(() => setTimeout(retry, 1000)); };
      retry();
    });
  }

  stop(): void {
    this.sw?.stop();
  }

  private mark(c: PortClaim): void {
    this.claims.set(c.port, c);
    this.allocator.markUsed(c.port, c.owner);
  }

  private apply(ev: StorageEvent): void {
    if (ev.type === 'delete') {
      const c = this.claims.get(Number(ev.kv.key.slice(NODEPORT_PREFIX.length)));
      if (c) {
        this.claims.delete(c.port);
        this.allocator.release(c.port, c.owner);
      }
      return;
    }
    const c = decode(ev.kv.key, ev.kv.value, ev.kv.modRevision);
    if (c) this.mark(c);
  }

  claimOf(port: number): PortClaim | undefined {
    return this.claims.get(port);
  }

  all(): PortClaim[] {
    return [...this.claims.values()];
  }

  /** Claims `port` for `owner`: 'claimed', or 'taken' when another owner holds it (the same owner's claim is adopted). */
  async claim(port: number, owner: string): Promise<'claimed' | 'taken'> {
    const rec: ClaimRecord = { kind: 'NodePortClaim', port, owner, created: this.clock().toISOString().replace(/\.\d+Z$/, 'Z') };
    try {
      await this.storage.create(NODEPORT_PREFIX + port, JSON.stringify(rec));
      return 'claimed';
    } catch (e) {
      if (!isStorageError(e, 'KeyExists')) throw e;
      const held = this.claims.get(port) ?? await this.read(port);
      return held?.owner === owner ? 'claimed' : 'taken';
    }
  }

  private async read(port: number): Promise<PortClaim | undefined> {
    const kv = await this.storage.get(NODEPORT_PREFIX + port);
    return kv ? decode(kv.key, kv.value, kv.modRevision) : undefined;
  }

  /** Releases `port` if `owner` holds it (a no-op otherwise). */
  async release(port: number, owner: string): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const c = this.claims.get(port) ?? await this.read(port);
      if (!c || c.owner !== owner) return;
      try {
        await this.storage.delete(NODEPORT_PREFIX + port, c.modRevision);
        return;
      } catch (e) {
        if (isStorageError(e, 'KeyNotFound')) return;
        if (!isStorageError(e, 'Conflict')) throw e;
      }
    }
  }
}

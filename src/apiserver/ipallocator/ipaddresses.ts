/**
 * ClusterIP claims kept in storage, one key per address, as KEP-1880 IPAddress objects
 * (networking.k8s.io/v1 IPAddress, key `/registry/networking.k8s.io/ipaddresses/<ip>`): the storage's
 * create-if-absent is what makes an address unique, so several API servers on one etcd can allocate
 * concurrently without a shared lock.
 *
 * Why not kube-apiserver's older RangeAllocation (one bitmap key rewritten by compare-and-swap on
 * every allocation): every Service create of every API server would contend on that one key (a
 * /12 bitmap is 128 KiB per write), and a conflict retries the whole allocation. Per-address keys only
 * conflict when two servers pick the same address, which random picks in a large range make rare;
 * Kubernetes itself moved to this design (MultiCIDRServiceAllocator, GA in 1.33).
 *
 * The in-memory ServiceIPAllocator stays the fast local view: it picks candidates and answers
 * `has()`. It is kept equal to the claims by a storage watch on the claim prefix (claims of other API
 * servers arrive there too), and a claim that loses the race (KeyExists) just tries another address.
 */
import type { Storage, StorageEvent, StorageWatch } from '../../storage/storage.js';
import { isStorageError } from '../../storage/storage.js';
import type { ServiceIPAllocator } from './allocator.js';

/** Storage prefix of the claims. */
export const IPADDRESS_PREFIX = '/registry/networking.k8s.io/ipaddresses/';

interface IPAddressObject {
  apiVersion: 'networking.k8s.io/v1';
  kind: 'IPAddress';
  metadata: { name: string; creationTimestamp: string; labels: Record<string, string> };
  spec: { parentRef: { group: ''; resource: 'services'; namespace: string; name: string } };
}

/** A claim as read back: the owner key (`namespace/name`) and when it was made. */
export interface IPClaim { ip: string; owner: string; created: string; modRevision: number }

function encodeClaim(ip: string, owner: string, now: Date): string {
  const slash = owner.indexOf('/');
  const obj: IPAddressObject = {
    apiVersion: 'networking.k8s.io/v1', kind: 'IPAddress',
    metadata: {
      name: ip, creationTimestamp: now.toISOString().replace(/\.\d+Z$/, 'Z'),
      labels: { 'ipaddress.kubernetes.io/ip-family': 'IPv4', 'ipaddress.kubernetes.io/managed-by': 'ipallocator.k8s.io' },
    },
    spec: { parentRef: { group: '', resource: 'services', namespace: owner.slice(0, slash), name: owner.slice(slash + 1) } },
  };
  return JSON.stringify(obj);
}

function decodeClaim(key: string, value: string, modRevision: number): IPClaim | undefined {
  try {
    const o = JSON.parse(value) as IPAddressObject;
    const p = o.spec.parentRef;
    return { ip: key.slice(IPADDRESS_PREFIX.length), owner: `${p.namespace}/${p.name}`, created: o.metadata.creationTimestamp, modRevision };
  } catch {
    return undefined;
  }
}

export class IPAddressLedger {
  private sw?: StorageWatch;
  private readonly claims = new Map<string, IPClaim>();

  constructor(private readonly storage: Storage, private readonly allocator: ServiceIPAllocator, private readonly clock: () => Date = () => new Date()) {}

  /** Loads every claim into the allocator and follows changes (other API servers' claims included). */
  async start(): Promise<void> {
    const list = await this.storage.list(IPADDRESS_PREFIX);
    for (const kv of list.items) {
      const c = decodeClaim(kv.key, kv.value, kv.modRevision);
      if (c) this.mark(c);
    }
    this.sw = this.storage.watch(IPADDRESS_PREFIX, list.revision, (ev) => this.apply(ev), () => {
      // Storage lost events (etcd compacted past its watch): reload from scratch.
      this.sw = undefined;
      for (const c of this.claims.values()) this.allocator.release(c.ip, c.owner);
      this.claims.clear();
      const retry = (): void => { this.start().catch(() => setTimeout(retry, 1000)); };
      retry();
    });
  }

  stop(): void {
    this.sw?.stop();
  }

  private mark(c: IPClaim): void {
    this.claims.set(c.ip, c);
    this.allocator.markUsed(c.ip, c.owner);
  }

  private apply(ev: StorageEvent): void {
    if (ev.type === 'delete') {
      const c = this.claims.get(ev.kv.key.slice(IPADDRESS_PREFIX.length));
      if (c) {
        this.claims.delete(c.ip);
        this.allocator.release(c.ip, c.owner);
      }
      return;
    }
    const c = decodeClaim(ev.kv.key, ev.kv.value, ev.kv.modRevision);
    if (c) this.mark(c);
  }

  /** The stored claim of `ip`, as this server has seen it. */
  claimOf(ip: string): IPClaim | undefined {
    return this.claims.get(ip);
  }

  /** Every claim this server has seen. */
  all(): IPClaim[] {
    return [...this.claims.values()];
  }

  /**
   * Claims `ip` for `owner`. Returns 'claimed', or 'taken' when another owner holds it (a claim by
   * the same owner — left by an earlier attempt — is adopted).
   */
  async claim(ip: string, owner: string): Promise<'claimed' | 'taken'> {
    try {
      await this.storage.create(IPADDRESS_PREFIX + ip, encodeClaim(ip, owner, this.clock()));
      return 'claimed';
    } catch (e) {
      if (!isStorageError(e, 'KeyExists')) throw e;
      // The storage settles a failed create only after the winner's claim has been delivered.
      const held = this.claims.get(ip) ?? await this.read(ip);
      return held?.owner === owner ? 'claimed' : 'taken';
    }
  }

  private async read(ip: string): Promise<IPClaim | undefined> {
    const kv = await this.storage.get(IPADDRESS_PREFIX + ip);
    return kv ? decodeClaim(kv.key, kv.value, kv.modRevision) : undefined;
  }

  /** Releases `ip` if `owner` holds it (a no-op otherwise: the address belongs to someone else now). */
  async release(ip: string, owner: string): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const c = this.claims.get(ip) ?? await this.read(ip);
      if (!c || c.owner !== owner) return;
      try {
        await this.storage.delete(IPADDRESS_PREFIX + ip, c.modRevision);
        return;
      } catch (e) {
        if (isStorageError(e, 'KeyNotFound')) return;
        if (!isStorageError(e, 'Conflict')) throw e;
      }
    }
  }
}

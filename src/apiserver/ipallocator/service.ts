/**
 * ClusterIP allocation for Service writes, kept atomic with the write by the registry: allocate
 * before the storage create (release when the create fails), release after a delete, keep the IP on
 * update. `repair()` reconciles the allocation with the stored Services at start.
 *
 * With a ledger (ipaddresses.ts; createApiCore always gives one) every allocation is also a claim in
 * storage, so API servers sharing a store never hand out one address twice; without one (unit
 * tests of this file) the in-memory allocator alone decides. A dry run never writes a claim.
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import { invalid } from '../../api/errors.js';
import { objectKey } from '../../api/object.js';
import { AllocatorError, ServiceIPAllocator } from './allocator.js';
import type { IPAddressLedger } from './ipaddresses.js';


/** True when the Service gets a ClusterIP at all (ExternalName Services do not; headless ones hold "None"). */
function wantsIP(svc: Service): boolean {
  return svc.spec?.type !== 'ExternalName';
}

function requested(svc: Service): string | undefined {
  return svc.spec?.clusterIP || svc.spec?.clusterIPs?.[0] || undefined;
}

export type RepairProblem = { service: Service; ip: string; reason: 'ClusterIPAlreadyAllocated' | 'ClusterIPOutOfRange'; message: string };

/** Tries per allocation when other API servers keep winning the race for the picked address. */
const CLAIM_ATTEMPTS = 32;

function sameClusterIPs(a: Service, b: Service): boolean {
  const x = a.spec?.clusterIPs ?? [];
  const y = b.spec?.clusterIPs ?? [];
  return x.length === y.length && x.every((ip, i) => ip === y[i]);
}

/**
 * Kubernetes' NormalizeClusterIPs for an update: a client may send clusterIP alone (an old client, a
 * patch or an apply of `clusterIP`) or both fields; make clusterIPs follow clusterIP where the client
 * evidently changed only the singular field. Mutates `next`.
 */
export function normalizeClusterIPs(old: Service, next: Service): void {
  const o = old.spec ?? {};
  const n = (next.spec ??= {});
  // clusterIPs dropped by a client that did not know the field: keep them if clusterIP is unchanged.
  if ((o.clusterIPs?.length ?? 0) > 0 && (n.clusterIPs?.length ?? 0) === 0 && (o.clusterIP ?? '') === (n.clusterIP ?? '')) {
    n.clusterIPs = [...o.clusterIPs!];
  }
  if ((o.clusterIP ?? '') === (n.clusterIP ?? '')) return;
  // clusterIP cleared with clusterIPs untouched: clear them on the client's behalf.
  if (o.clusterIP && !n.clusterIP && sameClusterIPs(old, next)) delete n.clusterIPs;
  // clusterIP changed with clusterIPs untouched: the first of clusterIPs follows it.
  if (n.clusterIP && sameClusterIPs(old, next) && n.clusterIPs?.length) n.clusterIPs = [n.clusterIP, ...n.clusterIPs.slice(1)];
}

export class ServiceIPs {
  constructor(readonly allocator: ServiceIPAllocator, readonly ledger?: IPAddressLedger) {}

  /**
   * Assigns the Service's ClusterIP (mutating `svc`, a private copy). Returns a function that undoes
   * the allocation (call it when the write fails). Throws 422 Invalid with Kubernetes' wording.
   */
  async allocateForCreate(svc: Service, opts: { dryRun?: boolean } = {}): Promise<() => Promise<void>> {
    const none = async (): Promise<void> => {};
    if (!wantsIP(svc)) return none;
    svc.spec ??= {};
    const want = requested(svc);
    if (want === 'None') {
      svc.spec.clusterIP = 'None';
      svc.spec.clusterIPs = ['None'];
      return none;
    }
    const owner = objectKey(svc);
    const ledger = opts.dryRun ? undefined : this.ledger;
    let ip: string;
    if (want) {
      const fail = (message: string) => invalid('Service', '', svc.metadata?.name ?? '', [{
        type: 'FieldValueInvalid', field: 'spec.clusterIPs', value: [want], detail: `failed to allocate IP ${want}: ${message}`,
      }]);
      try {
        this.allocator.allocate(want, owner);
      } catch (e) {
        if (!(e instanceof AllocatorError)) throw e;
        throw fail(e.message);
      }
      if (ledger && await this.claimOrUndo(ledger, want, owner) === 'taken') throw fail('provided IP is already allocated');
      ip = want;
    } else {
      ip = await this.allocateNext(owner, ledger, svc);
    }
    svc.spec.clusterIP = ip;
    svc.spec.clusterIPs = [ip];
    return async () => {
      if (ledger) await ledger.release(ip, owner);
      this.allocator.release(ip, owner);
    };
  }

  /** A free address, claimed in the ledger when there is one (another server may win a pick: try another). */
  private async allocateNext(owner: string, ledger: IPAddressLedger | undefined, svc: Service): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      let ip: string;
      try {
        ip = this.allocator.allocateNext(owner);
      } catch (e) {
        if (!(e instanceof AllocatorError)) throw e;
        throw invalid('Service', '', svc.metadata?.name ?? '', [{
          type: 'FieldValueInvalid', field: 'spec.clusterIPs', value: [],
          detail: `failed to allocate IP from range ${this.allocator.cidr.text}: ${e.message}`,
        }]);
      }
      if (!ledger || await this.claimOrUndo(ledger, ip, owner) === 'claimed') return ip;
      if (attempt >= CLAIM_ATTEMPTS) {
        throw invalid('Service', '', svc.metadata?.name ?? '', [{
          type: 'FieldValueInvalid', field: 'spec.clusterIPs', value: [],
          detail: `failed to allocate IP from range ${this.allocator.cidr.text}: too many concurrent allocations, try again`,
        }]);
      }
    }
  }

  /** Claims `ip` (already marked locally for `owner`); on any failure the local mark is undone unless a claim arrived. */
  private async claimOrUndo(ledger: IPAddressLedger, ip: string, owner: string): Promise<'claimed' | 'taken'> {
    try {
      const got = await ledger.claim(ip, owner);
      // Lost: the winner's claim re-marked the address for its owner (then this is a no-op); if the
      // winner is already gone again, the address is free, not ours.
      if (got === 'taken') this.allocator.release(ip, owner);
      return got;
    } catch (e) {
      // Unknown outcome (storage unavailable): keep the local mark only if the claim did land.
      if (ledger.claimOf(ip)?.owner !== owner) this.allocator.release(ip, owner);
      throw e;
    }
  }

  /**
   * Keeps allocation consistent across an update (mutates `next`), in Kubernetes' order
   * (the service REST's beginUpdate): patchAllocatedValues (an omitted clusterIP or clusterIPs keeps
   * the allocated one), then NormalizeClusterIPs (clusterIP and clusterIPs agree, so a patch of
   * `clusterIP` alone changes clusterIPs[0] too and the error shows the new address), then a change
   * to or from ExternalName allocates or releases. Returns { undo, commit }: undo on write failure,
   * commit after a successful write.
   */
  async prepareUpdate(old: Service, next: Service, opts: { dryRun?: boolean } = {}): Promise<{ undo(): Promise<void>; commit(): Promise<void> }> {
    const none = async (): Promise<void> => {};
    const oldWants = wantsIP(old) && !!old.spec?.clusterIP;
    const nextWants = wantsIP(next);
    next.spec ??= {};
    if (oldWants && nextWants) {
      if (!next.spec.clusterIP) next.spec.clusterIP = old.spec!.clusterIP;
      if (!next.spec.clusterIPs?.length && old.spec?.clusterIPs?.length) next.spec.clusterIPs = [...old.spec.clusterIPs];
    }
    normalizeClusterIPs(old, next);
    if (oldWants && nextWants) {
      if (next.spec.clusterIP && !next.spec.clusterIPs?.length) next.spec.clusterIPs = [next.spec.clusterIP];
      if (next.spec.clusterIP !== old.spec!.clusterIP) {
        // Validation rejects this too; refusing here keeps the allocator consistent whatever it does.
        // (Values render through api/errors.ts, which follows current Kubernetes: lists as JSON.)
        throw invalid('Service', '', next.metadata?.name ?? '', [{
          type: 'FieldValueInvalid', field: 'spec.clusterIPs[0]', value: next.spec.clusterIPs ?? [next.spec.clusterIP!], detail: 'may not change once set',
        }]);
      }
      return { undo: none, commit: none };
    }
    if (!oldWants && nextWants) {
      const undo = await this.allocateForCreate(next, opts);
      return { undo, commit: none };
    }
    if (oldWants && !nextWants) {
      delete next.spec.clusterIP;
      delete next.spec.clusterIPs;
      return { undo: none, commit: () => this.releaseFor(old) };
    }
    return { undo: none, commit: none };
  }

  /** Frees the Service's ClusterIP (after its deletion). */
  async releaseFor(svc: Service): Promise<void> {
    const ip = svc.spec?.clusterIP;
    if (!ip || ip === 'None') return;
    if (this.ledger) await this.ledger.release(ip, objectKey(svc));
    this.allocator.release(ip, objectKey(svc));
  }

  /**
   * Reconciles the allocation with the stored Services (at start). Every Service's IP is taken for it
   * (and claimed in the ledger when unclaimed); the Services whose IP could not be taken (a duplicate
   * of an earlier Service's IP, or outside the range) are returned with Kubernetes' reason. With a
   * ledger, claims whose Service is gone (a create that failed half-way, or a crash) are released
   * once older than `orphanGraceMs` — younger ones may belong to a create still in flight on another
   * API server.
   */
  async repair(services: Service[], opts: { orphanGraceMs?: number; now?: Date } = {}): Promise<RepairProblem[]> {
    const problems: RepairProblem[] = [];
    // Oldest first, so the first owner keeps a duplicated IP.
    const sorted = [...services].sort((a, b) => (a.metadata?.creationTimestamp ?? '').localeCompare(b.metadata?.creationTimestamp ?? '') || Number(a.metadata?.resourceVersion ?? 0) - Number(b.metadata?.resourceVersion ?? 0));
    const owners = new Map<string, string>();
    const now = (opts.now ?? new Date()).getTime();
    const old = (c: { created: string }): boolean => now - Date.parse(c.created) >= (opts.orphanGraceMs ?? 60_000);
    for (const svc of sorted) {
      const ip = svc.spec?.clusterIP;
      if (!ip || ip === 'None' || !wantsIP(svc)) continue;
      const owner = objectKey(svc);
      const dup = (): RepairProblem => ({ service: svc, ip, reason: 'ClusterIPAlreadyAllocated', message: `Cluster IP [IPv4]:${ip} was assigned to multiple services; please recreate service` });
      if (!this.allocator.contains(ip)) {
        problems.push({ service: svc, ip, reason: 'ClusterIPOutOfRange', message: `Cluster IP [IPv4]: ${ip} is not within the configured Service CIDR ${this.allocator.cidr.text}; please recreate service` });
        continue;
      }
      if (owners.has(ip)) { problems.push(dup()); continue; }
      if (!this.ledger) {
        try {
          this.allocator.allocate(ip, owner);
        } catch (e) {
          if (!(e instanceof AllocatorError)) throw e;
          problems.push(dup());
          continue;
        }
      } else {
        // The stored claim is the truth: its holder keeps the address if it is a Service that has it.
        const claimed = this.ledger.claimOf(ip);
        if (claimed && claimed.owner !== owner) {
          const holderHasIt = services.some((x) => objectKey(x) === claimed.owner && x.spec?.clusterIP === ip);
          // A young claim may be a create in flight on another API server: leave it.
          if (holderHasIt || !old(claimed)) { problems.push(dup()); continue; }
          await this.ledger.release(ip, claimed.owner); // stale: its Service is gone or has another IP
        }
        if (claimed?.owner !== owner && await this.ledger.claim(ip, owner) === 'taken') { problems.push(dup()); continue; }
      }
      owners.set(ip, owner);
    }
    if (this.ledger) {
      for (const c of this.ledger.all()) {
        if (owners.get(c.ip) !== c.owner && old(c)) await this.ledger.release(c.ip, c.owner);
      }
    }
    return problems;
  }
}

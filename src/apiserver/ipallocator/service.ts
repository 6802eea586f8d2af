/**
 * ClusterIP allocation for Service writes, kept atomic with the write by the registry: allocate
 * before the storage create (release when the create fails), release after a delete, keep the IP on
 * update. `repair()` rebuilds the allocation from the stored Services at start.
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import { invalid } from '../../api/errors.js';
import { objectKey } from '../../api/object.js';
import { AllocatorError, ServiceIPAllocator } from './allocator.js';


/** True when the Service gets a ClusterIP at all (ExternalName Services do not; headless ones hold "None"). */
function wantsIP(svc: Service): boolean {
  return svc.spec?.type !== 'ExternalName';
}

function requested(svc: Service): string | undefined {
  return svc.spec?.clusterIP || svc.spec?.clusterIPs?.[0] || undefined;
}

export class ServiceIPs {
  constructor(readonly allocator: ServiceIPAllocator) {}

  /**
   * Assigns the Service's ClusterIP (mutating `svc`, a private copy). Returns a function that undoes
   * the allocation (call it when the write fails). Throws 422 Invalid with Kubernetes' wording.
   */
  allocateForCreate(svc: Service): () => void {
    if (!wantsIP(svc)) return () => {};
    svc.spec ??= {};
    const want = requested(svc);
    if (want === 'None') {
      svc.spec.clusterIP = 'None';
      svc.spec.clusterIPs = ['None'];
      return () => {};
    }
    let ip: string;
    if (want) {
      try {
        this.allocator.allocate(want, objectKey(svc));
      } catch (e) {
        if (!(e instanceof AllocatorError)) throw e;
        throw invalid('Service', '', svc.metadata?.name ?? '', [{
          type: 'FieldValueInvalid', field: 'spec.clusterIPs', value: [want],
          detail: `failed to allocate IP ${want}: ${e.message}`,
        }]);
      }
      ip = want;
    } else {
      try {
        ip = this.allocator.allocateNext(objectKey(svc));
      } catch (e) {
        if (!(e instanceof AllocatorError)) throw e;
        throw invalid('Service', '', svc.metadata?.name ?? '', [{
          type: 'FieldValueInvalid', field: 'spec.clusterIPs', value: [],
          detail: `failed to allocate IP from range ${this.allocator.cidr.text}: ${e.message}`,
        }]);
      }
    }
    svc.spec.clusterIP = ip;
    svc.spec.clusterIPs = [ip];
    return () => this.allocator.release(ip, objectKey(svc));
  }

  /**
   * Keeps allocation consistent across an update (mutates `next`): an omitted clusterIP keeps the
   * old one (Kubernetes' patchAllocatedValues); a change to or from ExternalName allocates or
   * releases. Returns { undo, commit }: undo on write failure, commit after a successful write.
   */
  prepareUpdate(old: Service, next: Service): { undo(): void; commit(): void } {
    const oldWants = wantsIP(old) && !!old.spec?.clusterIP;
    const nextWants = wantsIP(next);
    next.spec ??= {};
    if (oldWants && nextWants) {
      if (!next.spec.clusterIP && !next.spec.clusterIPs?.length) {
        next.spec.clusterIP = old.spec!.clusterIP;
        next.spec.clusterIPs = old.spec!.clusterIPs ?? [old.spec!.clusterIP!];
      } else if (!next.spec.clusterIP) next.spec.clusterIP = next.spec.clusterIPs![0];
      else if (!next.spec.clusterIPs?.length) next.spec.clusterIPs = [next.spec.clusterIP];
      if (next.spec.clusterIP !== old.spec!.clusterIP) {
        // Validation rejects this too; refusing here keeps the allocator consistent whatever it does.
        // (Values render through api/errors.ts, which follows current Kubernetes: lists as JSON.)
        throw invalid('Service', '', next.metadata?.name ?? '', [{
          type: 'FieldValueInvalid', field: 'spec.clusterIPs[0]', value: next.spec.clusterIPs ?? [next.spec.clusterIP!], detail: 'may not change once set',
        }]);
      }
      return { undo: () => {}, commit: () => {} };
    }
    if (!oldWants && nextWants) {
      const undo = this.allocateForCreate(next);
      return { undo, commit: () => {} };
    }
    if (oldWants && !nextWants) {
      delete next.spec.clusterIP;
      delete next.spec.clusterIPs;
      return { undo: () => {}, commit: () => this.releaseFor(old) };
    }
    return { undo: () => {}, commit: () => {} };
  }

  /** Frees the Service's ClusterIP (after its deletion). */
  releaseFor(svc: Service): void {
    const ip = svc.spec?.clusterIP;
    if (ip && ip !== 'None') this.allocator.release(ip, objectKey(svc));
  }

  /**
   * Rebuilds the allocation from the stored Services. Returns the Services whose IP could not be
   * taken (a duplicate of an earlier Service's IP, or outside the range) with Kubernetes' reason.
   */
  repair(services: Service[]): { service: Service; ip: string; reason: 'ClusterIPAlreadyAllocated' | 'ClusterIPOutOfRange'; message: string }[] {
    const problems: ReturnType<ServiceIPs['repair']> = [];
    // Oldest first, so the first owner keeps a duplicated IP.
    const sorted = [...services].sort((a, b) => (a.metadata?.creationTimestamp ?? '').localeCompare(b.metadata?.creationTimestamp ?? '') || Number(a.metadata?.resourceVersion ?? 0) - Number(b.metadata?.resourceVersion ?? 0));
    for (const svc of sorted) {
      const ip = svc.spec?.clusterIP;
      if (!ip || ip === 'None' || !wantsIP(svc)) continue;
      try {
        this.allocator.allocate(ip, objectKey(svc));
      } catch (e) {
        if (!(e instanceof AllocatorError)) throw e;
        if (e.code === 'NotInRange') {
          problems.push({ service: svc, ip, reason: 'ClusterIPOutOfRange', message: `Cluster IP [IPv4]: ${ip} is not within the configured Service CIDR ${this.allocator.cidr.text}; please recreate service` });
        } else {
          problems.push({ service: svc, ip, reason: 'ClusterIPAlreadyAllocated', message: `Cluster IP [IPv4]:${ip} was assigned to multiple services; please recreate service` });
        }
      }
    }
    return problems;
  }
}

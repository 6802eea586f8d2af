/**
 * Services: ClusterIP allocation kept atomic with the write (Kubernetes' service REST BeginCreate /
 * BeginUpdate hooks): an IP is taken (and claimed in storage, ipallocator/ipaddresses.ts) before the
 * create is stored and given back when the write fails, is a dry run or a no-op; an update keeps or
 * moves the allocation; a delete frees it. The hooks are asynchronous (the claims are storage writes).
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import { fieldsOf } from '../../../api/object.js';
import type { ResourceInfo } from '../../../api/resources.js';
import type { ServiceIPs } from '../../ipallocator/service.js';
import { genericStrategy, NOTHING_TO_FINISH, type Strategy } from '../strategy.js';

/** `serviceIPs` absent: Services get no IP (unit tests of the registry alone). */
export function serviceStrategy(info: ResourceInfo, serviceIPs: ServiceIPs | undefined): Strategy {
  const base = genericStrategy(info);
  return {
    ...base,
    prepareForCreate(obj) {
      fieldsOf(obj).status = { loadBalancer: {} };
    },
    async beginCreate(obj, { dryRun }) {
      if (!serviceIPs) return NOTHING_TO_FINISH;
      const undo = await serviceIPs.allocateForCreate(obj as Service, { dryRun });
      return (ok) => (ok ? undefined : undo());
    },
    async beginUpdate(next, old, { dryRun }) {
      if (!serviceIPs) return NOTHING_TO_FINISH;
      // Allocated values (an omitted clusterIP keeps the old one) are patched in before validation, as in Kubernetes.
      const tx = await serviceIPs.prepareUpdate(old as Service, next as Service, { dryRun });
      return (ok) => (ok ? tx.commit() : tx.undo());
    },
    afterDelete(obj) {
      return serviceIPs?.releaseFor(obj as Service);
    },
  };
}

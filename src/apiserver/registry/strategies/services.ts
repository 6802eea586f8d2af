/**
 * Services: ClusterIP, NodePort and healthCheckNodePort allocation kept atomic with the write
 * (Kubernetes' service REST BeginCreate / BeginUpdate hooks): addresses and ports are taken (and
 * claimed in storage, ipallocator/ipaddresses.ts and portallocator/claims.ts) before the create is
 * stored and given back when the write fails, is a dry run or a no-op; an update keeps, adds or
 * releases; a delete frees them. The hooks are asynchronous (the claims are storage writes).
 *
 * Also the DenyServiceExternalIPs admission plugin (CVE-2020-8554: whoever may create a Service
 * could capture any address with `spec.externalIPs`), on unless the server allows external IPs
 * (`clusterip up --allow-external-ips`).
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../../../api/errors.js';
import { fieldsOf } from '../../../api/object.js';
import type { ResourceInfo } from '../../../api/resources.js';
import type { ServiceIPs } from '../../ipallocator/service.js';
import { dropTypeDependentFields, type ServiceNodePorts } from '../../portallocator/service.js';
import { genericStrategy, NOTHING_TO_FINISH, type Finish, type Strategy } from '../strategy.js';

export interface ServiceAllocation {
  /** ClusterIP allocation (absent: Services get no IP — unit tests of the registry alone). */
  serviceIPs?: ServiceIPs;
  /** NodePort allocation (absent: NodePorts are stored as given). */
  nodePorts?: ServiceNodePorts;
  /** Allow `spec.externalIPs` (default false: DenyServiceExternalIPs, as the CVE-2020-8554 advice says). */
  allowExternalIPs?: boolean;
}

/**
 * DenyServiceExternalIPs: a Service may keep the external IPs it had, but not add any (403 with
 * the admission plugin's words).
 */
function denyExternalIPs(next: Service, old: Service | undefined): void {
  const want = next.spec?.externalIPs ?? [];
  if (want.length === 0) return;
  const had = new Set(old?.spec?.externalIPs ?? []);
  if (old && want.every((ip) => had.has(ip))) return;
  const name = next.metadata?.name ?? '';
  throw new ApiError(403, 'Forbidden', `services "${name}" is forbidden: Use of external IPs is denied by admission control`, { name, kind: 'services' });
}

async function chain(steps: (() => Promise<{ undo(): Promise<void>; commit(): Promise<void> }>)[]): Promise<Finish> {
  const done: { undo(): Promise<void>; commit(): Promise<void> }[] = [];
  try {
    for (const s of steps) done.push(await s());
  } catch (e) {
    for (const d of done.reverse()) await d.undo();
    throw e;
  }
  return async (ok) => {
    for (const d of done) await (ok ? d.commit() : d.undo());
  };
}

const NONE = async (): Promise<void> => {};

export function serviceStrategy(info: ResourceInfo, alloc: ServiceAllocation = {}): Strategy {
  const base = genericStrategy(info);
  const { serviceIPs, nodePorts } = alloc;
  return {
    ...base,
    prepareForCreate(obj) {
      fieldsOf(obj).status = { loadBalancer: {} };
    },
    prepareForUpdate(next, old) {
      base.prepareForUpdate(next, old);
      dropTypeDependentFields(old as Service, next as Service);
    },
    async beginCreate(obj, { dryRun }) {
      const svc = obj as Service;
      if (!alloc.allowExternalIPs) denyExternalIPs(svc, undefined);
      if (!serviceIPs && !nodePorts) return NOTHING_TO_FINISH;
      return chain([
        async () => ({ undo: serviceIPs ? await serviceIPs.allocateForCreate(svc, { dryRun }) : NONE, commit: NONE }),
        async () => ({ undo: nodePorts ? await nodePorts.allocateForCreate(svc, { dryRun }) : NONE, commit: NONE }),
      ]);
    },
    async beginUpdate(next, old, { dryRun }) {
      if (!alloc.allowExternalIPs) denyExternalIPs(next as Service, old as Service);
      // Allocated values (an omitted clusterIP or nodePort keeps the old one) are patched in before validation, as in Kubernetes.
      return chain([
        async () => serviceIPs ? serviceIPs.prepareUpdate(old as Service, next as Service, { dryRun }) : { undo: NONE, commit: NONE },
        async () => nodePorts ? nodePorts.prepareUpdate(old as Service, next as Service, { dryRun }) : { undo: NONE, commit: NONE },
      ]);
    },
    async afterDelete(obj) {
      await serviceIPs?.releaseFor(obj as Service);
      await nodePorts?.releaseFor(obj as Service);
    },
  };
}

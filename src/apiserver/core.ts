/**
 * The API server core: storage + registry + ClusterIP allocator + in-process client, without HTTP.
 * The HTTP layer, controllers, node agents, proxy and DNS all sit on `ApiCore.client` (or the
 * registry, for the HTTP layer).
 *
 *   const core = await createApiCore({ storage: new MemoryStorage() });
 *   await core.client.create(R.services, 'default', svc);
 *   await core.close();
 */
import type { Event as KubeEvent, Service } from 'kubernetes-types/core/v1.js';
import { isAlreadyExists } from '../api/errors.js';
import { ALL_RESOURCES, R } from '../api/resources.js';
import type { Client } from '../client/client.js';
import { InProcessClient } from './inprocess.js';
import type { Storage } from '../storage/storage.js';
import { ServiceIPAllocator } from './ipallocator/allocator.js';
import { intToIp, parseCidr } from './ipallocator/cidr.js';
import { IPAddressLedger } from './ipallocator/ipaddresses.js';
import { ServiceIPs } from './ipallocator/service.js';
import { rfc3339 } from './registry/meta.js';
import { NodePortAllocator } from './portallocator/allocator.js';
import { NodePortLedger } from './portallocator/claims.js';
import { ServiceNodePorts } from './portallocator/service.js';
import { Registry } from './registry/registry.js';
import { ResourceCatalog } from './catalog.js';
import { CrdController } from './crd/controller.js';
import type { AdmissionPlugin } from './registry/admission.js';
import type { ObjectGetter } from './auth/authenticator.js';
import { createAuthorizer, type Authorizer } from './auth/authorizer.js';
import { RbacAuthorizer } from './auth/rbac/authorizer.js';
import { ensureBootstrapPolicy } from './auth/rbac/bootstrap.js';
import { generateServiceAccountKey, type ServiceAccountKey } from './auth/sakey.js';
import { TokenRequests } from './auth/tokenrequest.js';
import { ServiceAccountTokens } from './auth/tokens.js';

export interface ApiCoreOptions {
  storage: Storage;
  /** Service CIDR. Default 10.96.0.0/12. */
  serviceCIDR?: string;
  /** Clock for timestamps. Default: () => new Date(). */
  clock?: () => Date;
  /** Events retained per resource for watches from an older resourceVersion. Default 1000. */
  watchCacheSize?: number;
  /** BOOKMARK interval for watches that allow them. Default 10000 ms. */
  bookmarkIntervalMs?: number;
  /** The key ServiceAccount tokens are signed with (src/apiserver/auth/sakey.ts). Default: a new in-memory key. */
  serviceAccountKey?: ServiceAccountKey;
  /** `iss` (and default audience) of ServiceAccount tokens. Default https://kubernetes.default.svc.cluster.local. */
  serviceAccountIssuer?: string;
  /** Mutating admission plugins on create (e.g. src/apiserver/admission/serviceaccount.ts). Default none. */
  admission?: readonly AdmissionPlugin[];
  /** NodePort range (`--service-node-port-range`). Default 30000-32767. */
  nodePortRange?: string;
  /** Allow spec.externalIPs (default false: DenyServiceExternalIPs, CVE-2020-8554). */
  allowExternalIPs?: boolean;
}

/** Identity and access of the API core: what the HTTP front door authenticates and authorizes with. */
export interface ApiAuth {
  /** Signs and verifies ServiceAccount tokens. */
  tokens: ServiceAccountTokens;
  /** Reads of current objects (ServiceAccounts, Pods and Secrets a token names). */
  objects: ObjectGetter;
  /** system:masters, then RBAC over the watch caches. */
  authorizer: Authorizer;
}

export interface ApiCore {
  /** In-process Client (no HTTP). */
  client: Client & InProcessClient;
  registry: Registry;
  /** What is served now: built-ins plus the custom resources of established CRDs. */
  catalog: ResourceCatalog;
  /** apiextensions' controllers (naming, establishing, finalizing CRDs); `whenIdle()` for tests. */
  crds: CrdController;
  /** The ClusterIP allocator (read-only use: `has(ip)`, `usedCount`). */
  allocator: ServiceIPAllocator;
  /** Tokens and authorization (pass to startApiServer as `auth`). */
  auth: ApiAuth;
  /** The NodePort allocator (read-only use: `has(port)`, `usedCount`, `range`). */
  nodePortAllocator: NodePortAllocator;
  /** Ends all watches. Does not close the storage (its owner does). */
  close(): Promise<void>;
}

/** Namespaces that exist from the start, as in every Kubernetes cluster. */
export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'] as const;

/** The well-known ClusterIPs of a Service CIDR: first address → default/kubernetes, tenth → kube-system/kube-dns. */
export function wellKnownServiceIPs(serviceCIDR: string): { kubernetes: string; dns: string } {
  const c = parseCidr(serviceCIDR);
  return { kubernetes: intToIp(c.network + 1), dns: intToIp(c.network + 10) };
}

/** Builds the API core on `storage`: loads caches, repairs the ClusterIP allocation, creates the system namespaces. */
export async function createApiCore(opts: ApiCoreOptions): Promise<ApiCore> {
  const cidr = opts.serviceCIDR ?? '10.96.0.0/12';
  const clock = opts.clock ?? (() => new Date());
  const wk = wellKnownServiceIPs(cidr);
  const allocator = new ServiceIPAllocator(cidr, { reserved: { [wk.kubernetes]: 'default/kubernetes', [wk.dns]: 'kube-system/kube-dns' } });
  // ClusterIP claims live in storage (one key per address), so API servers sharing a store agree.
  const ledger = new IPAddressLedger(opts.storage, allocator, clock);
  await ledger.start();
  const serviceIPs = new ServiceIPs(allocator, ledger);
  // NodePort claims likewise (one key per port): a NodePort is unique across API servers too.
  const nodePortAllocator = new NodePortAllocator(opts.nodePortRange);
  const portLedger = new NodePortLedger(opts.storage, nodePortAllocator, clock);
  await portLedger.start();
  const serviceNodePorts = new ServiceNodePorts(nodePortAllocator, portLedger);
  const catalog = new ResourceCatalog();
  const tokens = new ServiceAccountTokens({ key: opts.serviceAccountKey ?? generateServiceAccountKey(), issuer: opts.serviceAccountIssuer, clock });
  // Reads from the registry's watch caches (the registry is made just below; this is only called later).
  const objects: ObjectGetter = { get: (info, ns, name) => registry.cache(info).get(ns, name)?.obj };
  const registry: Registry = new Registry({
    storage: opts.storage, clock, serviceIPs, tokenRequests: new TokenRequests(tokens, objects, clock), admission: opts.admission, catalog,
    serviceNodePorts, allowExternalIPs: opts.allowExternalIPs,
    watchCacheSize: opts.watchCacheSize, bookmarkIntervalMs: opts.bookmarkIntervalMs,
  });
  await registry.start(ALL_RESOURCES);
  const crds = new CrdController(registry, catalog, clock);
  await crds.start();
  const client = new InProcessClient(registry);
  const authorizer = createAuthorizer(new RbacAuthorizer({
    roles: registry.cache(R.roles), roleBindings: registry.cache(R.rolebindings),
    clusterRoles: registry.cache(R.clusterroles), clusterRoleBindings: registry.cache(R.clusterrolebindings),
  }));

  for (const name of SYSTEM_NAMESPACES) {
    if (registry.cache(R.namespaces).objects.has(name)) continue;
    try {
      await client.create(R.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
  }

  // The default roles and bindings (kube-apiserver's rbac/bootstrap-roles hook).
  await ensureBootstrapPolicy(client);

  // Repair pass: rebuild the allocator from the stored Services; report duplicates as Events.
  const services = [...registry.cache(R.services).objects.values()].map((c) => c.obj as Service);
  const problems = [
    ...(await serviceIPs.repair(services, { now: clock() })).map((p) => ({ ...p, component: 'ipallocator-repair-controller' })),
    ...(await serviceNodePorts.repair(services, { now: clock() })).map((p) => ({ ...p, component: 'portallocator-repair-controller' })),
  ];
  for (const p of problems) {
    const md = p.service.metadata ?? {};
    const now = rfc3339(clock());
    const ev: KubeEvent = {
      apiVersion: 'v1', kind: 'Event',
      metadata: { generateName: `${md.name}.`, namespace: md.namespace },
      involvedObject: { kind: 'Service', apiVersion: 'v1', namespace: md.namespace, name: md.name, uid: md.uid, resourceVersion: md.resourceVersion },
      reason: p.reason, message: p.message, type: 'Warning',
      source: { component: p.component }, reportingComponent: p.component,
      firstTimestamp: now, lastTimestamp: now, count: 1,
    };
    try {
      await client.create(R.events, md.namespace, ev);
    } catch (e) {
      console.error('clusterip repair: cannot record event:', e);
    }
  }

  return {
    client, registry, allocator, nodePortAllocator, catalog, crds, auth: { tokens, objects, authorizer },
    async close() {
      crds.stop();
      registry.close();
      ledger.stop();
      portLedger.stop();
    },
  };
}

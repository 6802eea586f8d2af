/**
 * Discovery documents derived from the resource catalog (src/api/resources.ts): the aggregated
 * apidiscovery.k8s.io/v2 APIGroupDiscoveryList that kubectl ≥ 1.26 asks for on /api and /apis, and the
 * legacy APIVersions / APIGroupList / APIGroup / APIResourceList it falls back to. Pure functions; the
 * HTTP layer serves their results.
 */
import { groupVersion, verbsOf, type ResourceInfo } from '../../api/resources.js';
import { BUILTIN_CATALOG, type ResourceCatalog } from '../catalog.js';

/** The exact Content-Type of an aggregated discovery answer; kubectl treats anything else as legacy. */
export const AGGREGATED_DISCOVERY_CONTENT_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

/** group/version/kind as discovery spells it. */
export interface GroupVersionKind { group: string; version: string; kind: string }

/** One subresource in aggregated discovery. */
export interface APISubresourceDiscovery { subresource: string; responseKind: GroupVersionKind; verbs: string[] }

/** One resource in aggregated discovery. */
export interface APIResourceDiscovery {
  resource: string;
  responseKind: GroupVersionKind;
  scope: 'Namespaced' | 'Cluster';
  singularResource: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  subresources?: APISubresourceDiscovery[];
}

/** apidiscovery.k8s.io/v2 APIGroupDiscoveryList. */
export interface APIGroupDiscoveryList {
  kind: 'APIGroupDiscoveryList';
  apiVersion: 'apidiscovery.k8s.io/v2';
  metadata: Record<string, never>;
  items: {
    metadata: { name?: string; creationTimestamp: null };
    versions: { version: string; resources: APIResourceDiscovery[]; freshness: 'Current' }[];
  }[];
}

/** How each subresource answers: its response kind (relative to the parent) and verbs, as kube-apiserver. */
const SUBRESOURCES: Record<string, { kind?: GroupVersionKind | ((r: ResourceInfo) => GroupVersionKind); verbs: string[] }> = {
  status: { verbs: ['get', 'patch', 'update'] },
  scale: { kind: { group: 'autoscaling', version: 'v1', kind: 'Scale' }, verbs: ['get', 'patch', 'update'] },
  log: { verbs: ['get'] },
  exec: { kind: { group: '', version: 'v1', kind: 'PodExecOptions' }, verbs: ['create', 'get'] },
  attach: { kind: { group: '', version: 'v1', kind: 'PodAttachOptions' }, verbs: ['create', 'get'] },
  portforward: { kind: { group: '', version: 'v1', kind: 'PodPortForwardOptions' }, verbs: ['create', 'get'] },
  binding: { kind: { group: '', version: 'v1', kind: 'Binding' }, verbs: ['create'] },
  eviction: { kind: { group: 'policy', version: 'v1', kind: 'Eviction' }, verbs: ['create'] },
  finalize: { verbs: ['update'] },
  token: { kind: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' }, verbs: ['create'] },
  ephemeralcontainers: { verbs: ['get', 'patch', 'update'] },
  proxy: { kind: (r) => ({ group: '', version: 'v1', kind: r.kind === 'Pod' ? 'PodProxyOptions' : 'ServiceProxyOptions' }), verbs: ['create', 'delete', 'get', 'patch', 'update'] },
};

function subresourceOf(r: ResourceInfo, name: string): APISubresourceDiscovery {
  const s = SUBRESOURCES[name] ?? { verbs: ['get'] };
  const own = { group: r.group, version: r.version, kind: r.kind };
  const kind = typeof s.kind === 'function' ? s.kind(r) : s.kind ?? own;
  return { subresource: name, responseKind: kind, verbs: [...s.verbs] };
}

/** The served API groups in catalog order, core ("") first. */
export function servedGroups(catalog: ResourceCatalog = BUILTIN_CATALOG): string[] {
  return [...new Set(['', ...catalog.all().map((r) => r.group)])];
}

function resourcesOf(catalog: ResourceCatalog, group: string, version: string): ResourceInfo[] {
  return catalog.all().filter((r) => r.group === group && r.version === version)
    .sort((a, b) => a.plural.localeCompare(b.plural));
}

/**
 * Kubernetes' version priority (apimachinery version.CompareKubeAwareVersionStrings): GA before
 * beta before alpha, higher numbers first, then non-Kubernetes-like versions alphabetically.
 */
export function compareKubeVersions(a: string, b: string): number {
  const parse = (v: string): [number, number, number] | undefined => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return undefined;
    return [m[2] === 'alpha' ? 0 : m[2] === 'beta' ? 1 : 2, Number(m[1]), m[3] ? Number(m[3]) : 0];
  };
  const pa = parse(a), pb = parse(b);
  if (!pa && !pb) return a.localeCompare(b);
  if (!pa) return 1;
  if (!pb) return -1;
  return pb[0] - pa[0] || pb[1] - pa[1] || pb[2] - pa[2];
}

function versionsOf(catalog: ResourceCatalog, group: string): string[] {
  const vs = [...new Set(catalog.all().filter((r) => r.group === group).map((r) => r.version))];
  // Built-in groups keep catalog order (it lists the preferred version first); others by priority.
  const builtin = catalog.all().some((r) => r.group === group && !catalog.customOf(r));
  return builtin ? vs : vs.sort(compareKubeVersions);
}

/** One resource as aggregated discovery lists it. */
export function resourceDiscovery(r: ResourceInfo): APIResourceDiscovery {
  const d: APIResourceDiscovery = {
    resource: r.plural,
    responseKind: { group: r.group, version: r.version, kind: r.kind },
    scope: r.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: r.singular,
    verbs: [...verbsOf(r)],
  };
  if (r.shortNames.length) d.shortNames = [...r.shortNames];
  if (r.categories.length) d.categories = [...r.categories];
  if (r.subresources.length) d.subresources = [...r.subresources].sort().map((s) => subresourceOf(r, s));
  return d;
}

/**
 * The aggregated discovery document: `which` "api" answers GET /api (the core group, whose item has
 * no metadata.name), "apis" answers GET /apis (every named group). Serve it with
 * AGGREGATED_DISCOVERY_CONTENT_TYPE.
 */
export function aggregatedDiscovery(which: 'api' | 'apis', catalog: ResourceCatalog = BUILTIN_CATALOG): APIGroupDiscoveryList {
  const groups = servedGroups(catalog).filter((g) => (which === 'api' ? g === '' : g !== ''));
  return {
    kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {},
    items: groups.map((g) => ({
      metadata: { ...(g ? { name: g } : {}), creationTimestamp: null },
      versions: versionsOf(catalog, g).map((v) => ({ version: v, resources: resourcesOf(catalog, g, v).map(resourceDiscovery), freshness: 'Current' as const })),
    })),
  };
}

/** Legacy GET /api: `APIVersions`. `serverAddress` is the host:port clients reach the server at. */
export function apiVersions(serverAddress = '127.0.0.1:6443', catalog: ResourceCatalog = BUILTIN_CATALOG): object {
  return { kind: 'APIVersions', versions: versionsOf(catalog, ''), serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

/** Legacy GET /apis/<group>: `APIGroup`; undefined when the group is not served. */
export function apiGroup(group: string, catalog: ResourceCatalog = BUILTIN_CATALOG): object | undefined {
  if (!group || !servedGroups(catalog).includes(group)) return undefined;
  const versions = versionsOf(catalog, group).map((v) => ({ groupVersion: `${group}/${v}`, version: v }));
  return { kind: 'APIGroup', apiVersion: 'v1', name: group, versions, preferredVersion: versions[0] };
}

/** Legacy GET /apis: `APIGroupList` of every named group. */
export function apiGroupList(catalog: ResourceCatalog = BUILTIN_CATALOG): object {
  const groups = servedGroups(catalog).filter((g) => g !== '').map((g) => {
    const { kind: _k, apiVersion: _a, ...rest } = apiGroup(g, catalog) as Record<string, unknown>;
    return rest;
  });
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

/**
 * Legacy GET /api/<v> or /apis/<group>/<v>: `APIResourceList`, with one entry per resource and one per
 * subresource ("pods/log", "deployments/scale"); undefined when that group version is not served.
 */
export function apiResourceList(group: string, version: string, catalog: ResourceCatalog = BUILTIN_CATALOG): object | undefined {
  const rs = resourcesOf(catalog, group, version);
  if (!rs.length) return undefined;
  const resources: object[] = [];
  for (const r of rs) {
    resources.push({
      name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: [...verbsOf(r)],
      ...(r.shortNames.length ? { shortNames: [...r.shortNames] } : {}),
      ...(r.categories.length ? { categories: [...r.categories] } : {}),
    });
    for (const s of [...r.subresources].sort()) {
      const d = subresourceOf(r, s);
      resources.push({
        name: `${r.plural}/${s}`, singularName: '', namespaced: r.namespaced,
        ...(d.responseKind.group !== r.group || d.responseKind.version !== r.version ? { group: d.responseKind.group, version: d.responseKind.version } : {}),
        kind: d.responseKind.kind, verbs: d.verbs,
      });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersion(rs[0]!), resources };
}

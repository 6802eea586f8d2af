/**
 * Minimal built-in discovery and OpenAPI documents, derived from the resource catalog, served only
 * when no `ServerExtensions.nonResource` is installed (unit tests, early integration). The real
 * documents (full schemas for `kubectl explain`) belong to src/apiserver/discovery and
 * src/apiserver/openapi; this keeps the front door usable by kubectl without them.
 */
import { ALL_RESOURCES, groupVersion, verbsOf, type ResourceInfo } from '../../api/resources.js';
import { AGGREGATED_DISCOVERY_CONTENT_TYPE, wantsAggregatedDiscovery } from './negotiate.js';
import type { NonResourceAnswer } from './extensions.js';

const SUB_VERBS: Record<string, string[]> = {
  status: ['get', 'patch', 'update'], scale: ['get', 'patch', 'update'], finalize: ['update'], binding: ['create'], ephemeralcontainers: ['get', 'patch', 'update'],
  log: ['get'], exec: ['create', 'get'], attach: ['create', 'get'], portforward: ['create', 'get'], token: ['create'],
};
const SUB_KIND: Record<string, (r: ResourceInfo) => { group: string; version: string; kind: string }> = {
  scale: () => ({ group: 'autoscaling', version: 'v1', kind: 'Scale' }),
  binding: () => ({ group: '', version: 'v1', kind: 'Binding' }),
  log: () => ({ group: '', version: 'v1', kind: 'Pod' }),
  exec: () => ({ group: '', version: 'v1', kind: 'PodExecOptions' }),
  attach: () => ({ group: '', version: 'v1', kind: 'PodAttachOptions' }),
  portforward: () => ({ group: '', version: 'v1', kind: 'PodPortForwardOptions' }),
  token: () => ({ group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' }),
};

function groups(): Map<string, ResourceInfo[]> {
  const m = new Map<string, ResourceInfo[]>();
  for (const r of ALL_RESOURCES) { const k = groupVersion(r); m.set(k, [...(m.get(k) ?? []), r]); }
  return m;
}

function aggregated(core: boolean): object {
  const byGroup = new Map<string, ResourceInfo[]>();
  for (const r of ALL_RESOURCES) if ((r.group === '') === core) byGroup.set(r.group, [...(byGroup.get(r.group) ?? []), r]);
  return {
    kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {},
    items: [...byGroup].map(([g, rs]) => ({
      metadata: { name: g },
      versions: [{ version: rs[0].version, freshness: 'Current', resources: rs.map((r) => ({
        resource: r.plural, responseKind: { group: r.group, version: r.version, kind: r.kind },
        scope: r.namespaced ? 'Namespaced' : 'Cluster', singularResource: r.singular, verbs: [...verbsOf(r)],
        ...(r.shortNames.length ? { shortNames: [...r.shortNames] } : {}),
        ...(r.categories.length ? { categories: [...r.categories] } : {}),
        subresources: r.subresources.map((s) => ({
          subresource: s, responseKind: SUB_KIND[s]?.(r) ?? { group: r.group, version: r.version, kind: r.kind }, verbs: SUB_VERBS[s] ?? ['get'],
        })),
      })) }],
    })),
  };
}

function resourceList(gv: string, rs: ResourceInfo[]): object {
  return {
    kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv,
    resources: rs.flatMap((r) => [
      { name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: [...verbsOf(r)],
        ...(r.shortNames.length ? { shortNames: [...r.shortNames] } : {}), ...(r.categories.length ? { categories: [...r.categories] } : {}) },
      ...r.subresources.map((s) => ({ name: `${r.plural}/${s}`, singularName: '', namespaced: r.namespaced, kind: SUB_KIND[s]?.(r).kind ?? r.kind, verbs: SUB_VERBS[s] ?? ['get'] })),
    ]),
  };
}

function openapiDoc(rs: ResourceInfo[]): object {
  const paths: Record<string, object> = {};
  for (const r of rs) {
    const base = `/${r.group ? `apis/${r.group}` : 'api'}/${r.version}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.plural}/{name}`;
    paths[base] = {
      patch: {
        operationId: `patch${r.kind}`, 'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': { group: r.group, version: r.version, kind: r.kind },
        parameters: [{ name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } }],
        responses: { '200': { description: 'OK' } },
      },
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths, components: { schemas: {} } };
}

const json = (body: object, contentType = 'application/json'): NonResourceAnswer => ({ contentType, body: JSON.stringify(body) });

/** Answers discovery and OpenAPI paths from the catalog; undefined for anything else. */
export function fallbackNonResource(path: string, accept: string | undefined): NonResourceAnswer | undefined {
  const gvs = groups();
  if (path === '/api' || path === '/apis') {
    if (wantsAggregatedDiscovery(accept)) return json(aggregated(path === '/api'), AGGREGATED_DISCOVERY_CONTENT_TYPE);
    if (path === '/api') return json({ kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:6443' }] });
    const named = [...gvs.keys()].filter((gv) => gv.includes('/'));
    return json({ kind: 'APIGroupList', apiVersion: 'v1', groups: named.map((gv) => {
      const [name, version] = gv.split('/');
      return { name, versions: [{ groupVersion: gv, version }], preferredVersion: { groupVersion: gv, version } };
    }) });
  }
  if (path === '/api/v1') return json(resourceList('v1', gvs.get('v1') ?? []));
  let m = /^\/apis\/([^/]+)\/([^/]+)$/.exec(path);
  if (m && gvs.has(`${m[1]}/${m[2]}`)) return json(resourceList(`${m[1]}/${m[2]}`, gvs.get(`${m[1]}/${m[2]}`)!));
  m = /^\/apis\/([^/]+)$/.exec(path);
  if (m) {
    const gv = [...gvs.keys()].find((k) => k.startsWith(`${m![1]}/`));
    if (gv) return json({ kind: 'APIGroup', apiVersion: 'v1', name: m[1], versions: [{ groupVersion: gv, version: gv.split('/')[1] }], preferredVersion: { groupVersion: gv, version: gv.split('/')[1] } });
  }
  if (path === '/openapi/v3') {
    const paths: Record<string, object> = {};
    for (const gv of gvs.keys()) { const p = gv.includes('/') ? `apis/${gv}` : `api/${gv}`; paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=0` }; }
    return json({ paths });
  }
  m = /^\/openapi\/v3\/(api\/v1|apis\/[^/]+\/[^/]+)$/.exec(path);
  if (m) {
    const gv = m[1] === 'api/v1' ? 'v1' : m[1].slice(5);
    if (gvs.has(gv)) return json(openapiDoc(gvs.get(gv)!));
  }
  return undefined;
}

/**
 * Answers the non-resource GETs kubectl makes before anything else: discovery (/api, /apis and
 * their group-version children) and OpenAPI (/openapi/v2, /openapi/v3[/<gv>]). This is the function
 * the HTTP front door plugs in as `ServerExtensions.nonResource`.
 */
import { BUILTIN_CATALOG, type ResourceCatalog } from '../catalog.js';
import type { NonResourceAnswer } from '../http/extensions.js';
import { openapiV2Document } from '../openapi/v2.js';
import { openapiV2Protobuf } from '../openapi/v2proto.js';
import { parseAccept } from '../http/negotiate.js';
import { openapiV3Document, openapiV3Index } from '../openapi/v3.js';
import {
  AGGREGATED_DISCOVERY_CONTENT_TYPE, aggregatedDiscovery, apiGroup, apiGroupList, apiResourceList, apiVersions,
} from './discovery.js';

const JSON_TYPE = 'application/json';

/** True when an Accept header lists the aggregated discovery media type (kubectl ≥ 1.26 does, first). */
export function acceptsAggregatedDiscovery(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some((range) => {
    const params = new Map(range.split(';').slice(1).map((p) => p.trim().split('=') as [string, string]));
    return params.get('g') === 'apidiscovery.k8s.io' && params.get('v') === 'v2' && params.get('as') === 'APIGroupDiscoveryList';
  });
}

const json = (body: unknown): NonResourceAnswer => ({ contentType: JSON_TYPE, body: JSON.stringify(body) });

/** The media type /openapi/v2 answers protobuf with (kube-openapi's handler). */
export const OPENAPI_V2_PROTOBUF_TYPE = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

const OPENAPI_V2_FORMATS: { type: string; subtype: string; format: 'json' | 'protobuf' }[] = [
  { type: 'application', subtype: 'json', format: 'json' },
  { type: 'application', subtype: 'com.github.proto-openapi.spec.v2@v1.0+protobuf', format: 'protobuf' },
  { type: 'application', subtype: 'com.github.proto-openapi.spec.v2.v1.0+protobuf', format: 'protobuf' },
];

/**
 * The format of /openapi/v2 for an Accept header, as kube-openapi's handler chooses it: the
 * accepted ranges by preference (q, then the client's order), the first one JSON or protobuf
 * matches (wildcards included); undefined when none does (406). No Accept means any.
 */
export function openapiV2Format(accept: string | undefined): 'json' | 'protobuf' | undefined {
  const ranges = parseAccept(accept && accept.trim() !== '' ? accept : '*/*')
    .map((r, i) => ({ r, i, q: Number(r.params['q'] ?? '1') }))
    .filter((x) => !(x.q <= 0))
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const { r } of ranges) {
    const [type, subtype = ''] = r.type.split('/');
    const hit = OPENAPI_V2_FORMATS.find((f) => (type === '*' || type === f.type) && (subtype === '*' || subtype === f.subtype));
    if (hit) return hit.format;
  }
  return undefined;
}

/**
 * The answer for `path` (no query string), or undefined when the path is not a discovery/OpenAPI
 * path this server serves (the caller answers 404). `serverAddress` is reported in legacy /api.
 */
export function nonResource(path: string, _query: URLSearchParams, accept: string | undefined, serverAddress?: string, catalog: ResourceCatalog = BUILTIN_CATALOG): NonResourceAnswer | undefined {
  const p = path.length > 1 ? path.replace(/\/+$/, '') : path;
  if (p === '/api' || p === '/apis') {
    if (acceptsAggregatedDiscovery(accept)) {
      return { contentType: AGGREGATED_DISCOVERY_CONTENT_TYPE, body: JSON.stringify(aggregatedDiscovery(p === '/api' ? 'api' : 'apis', catalog)) };
    }
    return json(p === '/api' ? apiVersions(serverAddress, catalog) : apiGroupList(catalog));
  }
  let m = /^\/api\/([^/]+)$/.exec(p);
  if (m) { const l = apiResourceList('', m[1]!, catalog); return l && json(l); }
  m = /^\/apis\/([^/]+)$/.exec(p);
  if (m) { const g = apiGroup(m[1]!, catalog); return g && json(g); }
  m = /^\/apis\/([^/]+)\/([^/]+)$/.exec(p);
  if (m) { const l = apiResourceList(m[1]!, m[2]!, catalog); return l && json(l); }
  if (p === '/openapi/v2') {
    const format = openapiV2Format(accept);
    if (format === 'json') return { contentType: JSON_TYPE, body: openapiV2Document(catalog) };
    if (format === 'protobuf') return { contentType: OPENAPI_V2_PROTOBUF_TYPE, body: openapiV2Protobuf(catalog) };
    return { status: 406, contentType: 'text/plain; charset=utf-8', body: '' };
  }
  if (p === '/openapi/v3') return json(openapiV3Index(catalog));
  m = /^\/openapi\/v3\/(.+)$/.exec(p);
  if (m) { const d = openapiV3Document(m[1]!, catalog); return d === undefined ? undefined : { contentType: JSON_TYPE, body: d }; }
  return undefined;
}

/**
 * Content negotiation of responses. kubectl asks for Tables (`as=Table;v=v1;g=meta.k8s.io`), some
 * clients ask protobuf first; we only speak JSON, so any Accept is answered with JSON (never 406),
 * shaped as a Table or PartialObjectMetadata(List) when one of the accepted media types asks for it.
 */

/** One entry of an Accept header. */
export interface MediaRange {
  type: string;
  params: Record<string, string>;
}

/** What shape the response body should have. */
export type ResponseShape = 'object' | 'Table' | 'PartialObjectMetadata' | 'PartialObjectMetadataList';

/** Parses an Accept header into media ranges, in the client's order (q-values are not reordered). */
export function parseAccept(accept: string | undefined): MediaRange[] {
  if (!accept) return [];
  return accept.split(',').map((part) => {
    const [type, ...ps] = part.split(';').map((s) => s.trim());
    const params: Record<string, string> = {};
    for (const p of ps) {
      const i = p.indexOf('=');
      if (i > 0) params[p.slice(0, i).trim().toLowerCase()] = p.slice(i + 1).trim().replace(/^"|"$/g, '');
    }
    return { type: type.toLowerCase(), params };
  }).filter((m) => m.type !== '');
}

const JSONISH = new Set(['application/json', 'application/*', '*/*', 'application/yaml', 'application/vnd.kubernetes.protobuf']);

/**
 * The shape to answer with: the first accepted range that names a meta.k8s.io conversion we support
 * wins; otherwise the plain object. Protobuf ranges count as "JSON would do" (we never 406).
 */
export function responseShape(accept: string | undefined): ResponseShape {
  for (const m of parseAccept(accept)) {
    if (!JSONISH.has(m.type)) continue;
    const as = m.params['as'];
    if (!as) return 'object';
    if (m.params['g'] !== undefined && m.params['g'] !== 'meta.k8s.io') continue;
    if (as === 'Table' || as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') return as;
  }
  return 'object';
}

/** True when any accepted range asks for aggregated discovery (apidiscovery.k8s.io/v2). */
export function wantsAggregatedDiscovery(accept: string | undefined): boolean {
  return parseAccept(accept).some((m) => m.params['g'] === 'apidiscovery.k8s.io' && m.params['as'] === 'APIGroupDiscoveryList');
}

/** The exact Content-Type kubectl requires on an aggregated discovery answer. */
export const AGGREGATED_DISCOVERY_CONTENT_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

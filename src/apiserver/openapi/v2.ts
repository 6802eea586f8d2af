/**
 * /openapi/v2: one Swagger 2.0 document for every served group version. Old kubectl builds (and
 * clients that do not speak v3) read it for `explain` and for the fieldValidation check. It is derived
 * mechanically from the v3 documents, the way kube-apiserver publishes both from one model.
 */
import { BUILTIN_CATALOG, type ResourceCatalog } from '../catalog.js';
import { openapiV3Document, OPENAPI_INFO, servedGroupVersionPaths } from './v3.js';

type Json = Record<string, unknown>;

/** v3 → v2 schema: refs point at #/definitions, and a described single-element allOf becomes a $ref. */
function schemaV2(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(schemaV2);
  if (!s || typeof s !== 'object') return s;
  const o = s as Json;
  const out: Json = {};
  for (const [k, v] of Object.entries(o)) {
    if (k === '$ref' && typeof v === 'string') out[k] = v.replace('#/components/schemas/', '#/definitions/');
    else if (k === 'allOf' && Array.isArray(v) && v.length === 1) Object.assign(out, schemaV2(v[0]) as Json);
    else if (k === 'default') continue;
    else out[k] = schemaV2(v);
  }
  return out;
}

function paramV2(p: Json): Json {
  const { schema, ...rest } = p;
  return { ...rest, ...(schema as Json) };
}

function operationV2(op: Json): Json {
  const { requestBody, responses, parameters, ...rest } = op;
  const params = ((parameters as Json[] | undefined) ?? []).map(paramV2);
  const body = requestBody as { content: Record<string, { schema: unknown }> } | undefined;
  const consumes = body ? Object.keys(body.content) : undefined;
  if (body) params.unshift({ name: 'body', in: 'body', required: true, schema: schemaV2(Object.values(body.content)[0]!.schema) });
  const res: Json = {};
  for (const [code, r] of Object.entries(responses as Record<string, Json>)) {
    const c = r['content'] as Record<string, { schema: unknown }> | undefined;
    res[code] = { description: r['description'], ...(c ? { schema: schemaV2(Object.values(c)[0]!.schema) } : {}) };
  }
  return {
    ...rest, ...(consumes && consumes[0] !== '*/*' ? { consumes } : { consumes: ['*/*'] }),
    produces: ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'], schemes: ['https'],
    ...(params.length ? { parameters: params } : {}), responses: res,
  };
}

const cache = new WeakMap<ResourceCatalog, { generation: number; text: string }>();

/** The Swagger 2.0 document as JSON text (built once per catalog generation). */
export function openapiV2Document(catalog: ResourceCatalog = BUILTIN_CATALOG): string {
  const hit = cache.get(catalog);
  if (hit && hit.generation === catalog.generation) return hit.text;
  const paths: Json = {};
  const definitions: Json = {};
  for (const gv of servedGroupVersionPaths(catalog)) {
    const doc = JSON.parse(openapiV3Document(gv, catalog)!) as { paths: Record<string, Json>; components: { schemas: Json } };
    for (const [name, s] of Object.entries(doc.components.schemas)) definitions[name] = schemaV2(s);
    for (const [path, item] of Object.entries(doc.paths)) {
      const out: Json = {};
      for (const [k, v] of Object.entries(item)) out[k] = k === 'parameters' ? (v as Json[]).map(paramV2) : operationV2(v as Json);
      paths[path] = out;
    }
  }
  const text = JSON.stringify({ swagger: '2.0', info: OPENAPI_INFO, paths, definitions });
  cache.set(catalog, { generation: catalog.generation, text });
  return text;
}

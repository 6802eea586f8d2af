/**
 * JSON type checking of a request body against the kind's OpenAPI schema: what Kubernetes' typed
 * decoder rejects before defaulting or validation ever run (a string where an int32 belongs, an
 * object where a list belongs). The error is Kubernetes' 400 BadRequest text, e.g.
 * `Service in version "v1" cannot be handled as a Service: json: cannot unmarshal string into Go
 * struct field ServicePort.spec.ports.port of type int32`.
 *
 * Unknown fields are not this module's concern (see openapi/unknown.ts); null is always accepted
 * (Go decodes it as the zero value).
 */
import { badRequest } from '../../api/errors.js';
import type { ResourceInfo } from '../../api/resources.js';
import { SCHEMAS, V3_REF_PREFIX, definitionName, resolveSchema, type Schema } from '../openapi/schemas.js';

const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';

function refName(s: Schema): string | undefined {
  const r = s.$ref ?? (s.allOf?.length === 1 ? s.allOf[0]!.$ref : undefined);
  return r?.slice(V3_REF_PREFIX.length);
}

/** The Go type name Kubernetes' decoder would print for a schema (`int32`, `[]v1.ServicePort`, `v1.ServiceSpec`). */
function goType(s: Schema): string {
  const ref = refName(s);
  if (ref) {
    if (ref === QUANTITY) return 'resource.Quantity';
    const parts = ref.split('.');
    return `${parts[parts.length - 2]}.${parts[parts.length - 1]}`;
  }
  switch (s.type) {
    case 'integer': return s.format === 'int64' ? 'int64' : 'int32';
    case 'number': return 'float64';
    case 'boolean': return 'bool';
    case 'string': return 'string';
    case 'array': return `[]${s.items ? goType(s.items) : 'interface {}'}`;
    case 'object': return typeof s.additionalProperties === 'object' ? `map[string]${goType(s.additionalProperties)}` : 'map[string]interface {}';
    default: return 'interface {}';
  }
}

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  if (typeof v === 'boolean') return 'bool';
  return typeof v; // string, number
}

class Mismatch extends Error {}

function fail(v: unknown, structName: string, jsonPath: string, s: Schema): never {
  const what = typeof v === 'number' ? `number ${v}` : jsonKind(v);
  const where = structName ? `Go struct field ${structName}.${jsonPath}` : 'Go value';
  throw new Mismatch(`json: cannot unmarshal ${what} into ${where} of type ${goType(s)}`);
}

function walk(s: Schema, v: unknown, structName: string, jsonPath: string): void {
  if (v === null || v === undefined) return;
  const ref = refName(s);
  if (ref === QUANTITY) {
    if (typeof v !== 'string' && typeof v !== 'number') fail(v, structName, jsonPath, s);
    return;
  }
  const r = resolveSchema(s);
  if (r.format === 'int-or-string' || r['x-kubernetes-int-or-string']) {
    if (typeof v === 'string') return;
    if (typeof v === 'number' && Number.isInteger(v)) return;
    fail(v, structName, jsonPath, s);
  }
  switch (r.type) {
    case 'string': if (typeof v !== 'string') fail(v, structName, jsonPath, s); return;
    case 'boolean': if (typeof v !== 'boolean') fail(v, structName, jsonPath, s); return;
    case 'integer': if (typeof v !== 'number' || !Number.isInteger(v)) fail(v, structName, jsonPath, s); return;
    case 'number': if (typeof v !== 'number') fail(v, structName, jsonPath, s); return;
    case 'array':
      if (!Array.isArray(v)) fail(v, structName, jsonPath, s);
      if (r.items) for (const x of v) walk(r.items, x, structName, jsonPath);
      return;
    case 'object': {
      if (typeof v !== 'object' || Array.isArray(v)) fail(v, structName, jsonPath, s);
      const o = v as Record<string, unknown>;
      if (r.properties) {
        // Fields of a named struct are reported relative to that struct's Go name.
        const struct = ref ? ref.split('.').pop()! : structName;
        for (const [k, p] of Object.entries(r.properties)) {
          if (k in o) walk(p, o[k], struct, jsonPath ? `${jsonPath}.${k}` : k);
        }
      } else if (typeof r.additionalProperties === 'object') {
        for (const x of Object.values(o)) walk(r.additionalProperties, x, structName, jsonPath);
      }
      return;
    }
    default:
  }
}

/**
 * Throws 400 BadRequest when `obj` has a value of the wrong JSON type for `info`'s kind. Kinds
 * without a published schema are not checked.
 */
export function checkTypes(info: Pick<ResourceInfo, 'group' | 'version' | 'kind'>, obj: unknown): void {
  const name = definitionName(info as ResourceInfo);
  const root = SCHEMAS[name];
  if (!root) return;
  const prefix = `${info.kind} in version "${info.version}" cannot be handled as a ${info.kind}: `;
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw badRequest(`${prefix}json: cannot unmarshal ${obj === null ? 'null' : jsonKind(obj)} into Go value of type ${goType({ $ref: `${V3_REF_PREFIX}${name}` })}`);
  }
  try {
    const o = obj as Record<string, unknown>;
    const props = resolveSchema(root).properties ?? {};
    for (const [k, p] of Object.entries(props)) if (k in o) walk(p, o[k], info.kind, k);
  } catch (e) {
    if (e instanceof Mismatch) throw badRequest(prefix + e.message);
    throw e;
  }
}

/**
 * Drops null struct fields, replaces null elements of lists of structs with `{}` and null values of
 * string maps with "" — what Go's decoder produces for them (zero values, omitted when encoded) —
 * so defaulting and validation see well-formed items.
 * Mutates `obj`; call after checkTypes.
 */
export function normalizeNulls(info: Pick<ResourceInfo, 'group' | 'version' | 'kind'>, obj: unknown): void {
  const root = SCHEMAS[definitionName(info as ResourceInfo)];
  if (root) fix(root, obj);
  else if (obj && typeof obj === 'object' && (obj as { metadata?: unknown }).metadata === null) delete (obj as { metadata?: unknown }).metadata;
}

function fix(s: Schema, v: unknown): void {
  if (v === null || typeof v !== 'object') return;
  const r = resolveSchema(s);
  if (Array.isArray(v)) {
    if (r.type !== 'array' || !r.items) return;
    const item = resolveSchema(r.items);
    v.forEach((x, i) => {
      if (x === null && item.type === 'object' && item.properties) v[i] = {};
      else fix(r.items!, v[i]);
    });
    return;
  }
  const o = v as Record<string, unknown>;
  if (r.properties) {
    for (const [k, p] of Object.entries(r.properties)) {
      if (!(k in o)) continue;
      if (o[k] === null) delete o[k]; // a struct field decoded from null is its zero value: omitted
      else fix(p, o[k]);
    }
  } else if (typeof r.additionalProperties === 'object') {
    const ap = resolveSchema(r.additionalProperties);
    for (const k of Object.keys(o)) {
      if (o[k] === null && ap.type === 'string') o[k] = '';
      else fix(r.additionalProperties, o[k]);
    }
  }
}

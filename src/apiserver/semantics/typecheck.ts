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

/**
 * A schema prepared for walking, made once per schema object and kept: every write type-checks and
 * null-normalizes its body (twice: defaulting, then validation), so resolving `$ref`s, listing
 * properties and naming Go structs on each visit cost more than the checks themselves.
 * Children are prepared on first use, so recursive schemas are fine.
 */
class SchemaNode {
  /** What a value must be, as Go's decoder sees it ('any' = not checked). */
  readonly kind: 'quantity' | 'int-or-string' | 'string' | 'boolean' | 'integer' | 'number' | 'array' | 'object' | 'any';
  /** The schema the `$ref` leads to (the schema itself when it is not a reference). */
  readonly resolved: Schema;
  /** Go struct name fields of this schema are reported under (undefined: the enclosing one's). */
  readonly structName: string | undefined;
  private _props?: readonly (readonly [string, SchemaNode])[];
  private _items?: SchemaNode;
  private _additional?: SchemaNode;

  /** `schema` as referenced: error messages name its Go type (`v1.ObjectMeta`, `[]string`). */
  constructor(readonly schema: Schema) {
    const ref = refName(schema);
    const r = resolveSchema(schema);
    this.resolved = r;
    this.structName = ref && r.properties ? ref.split('.').pop()! : undefined;
    if (ref === QUANTITY) this.kind = 'quantity';
    else if (r.format === 'int-or-string' || r['x-kubernetes-int-or-string']) this.kind = 'int-or-string';
    else if (r.type === 'string' || r.type === 'boolean' || r.type === 'integer' || r.type === 'number' || r.type === 'array' || r.type === 'object') this.kind = r.type;
    else this.kind = 'any';
  }

  /** The declared properties, in schema order (the order errors are found in). */
  get props(): readonly (readonly [string, SchemaNode])[] {
    return (this._props ??= Object.entries(this.resolved.properties ?? {}).map(([k, p]) => [k, node(p)] as const));
  }

  get items(): SchemaNode | undefined {
    const items = this.resolved.items;
    return items ? (this._items ??= node(items)) : undefined;
  }

  /** The schema of a map's values (`additionalProperties` when it is a schema). */
  get additional(): SchemaNode | undefined {
    const ap = this.resolved.additionalProperties;
    return typeof ap === 'object' ? (this._additional ??= node(ap)) : undefined;
  }
}

const nodes = new WeakMap<Schema, SchemaNode>();

function node(s: Schema): SchemaNode {
  let n = nodes.get(s);
  if (!n) nodes.set(s, n = new SchemaNode(s));
  return n;
}

/**
 * True when `v` has the right JSON types throughout — the same traversal as `walk`, without
 * building struct names and JSON paths, which only the error message needs. Bodies are nearly
 * always well typed, so the fast pass runs first and `walk` only re-runs to word the error.
 */
function wellTyped(n: SchemaNode, v: unknown): boolean {
  if (v === null || v === undefined) return true;
  switch (n.kind) {
    case 'quantity': return typeof v === 'string' || typeof v === 'number';
    case 'int-or-string': return typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v));
    case 'string': return typeof v === 'string';
    case 'boolean': return typeof v === 'boolean';
    case 'integer': return typeof v === 'number' && Number.isInteger(v);
    case 'number': return typeof v === 'number';
    case 'array': {
      if (!Array.isArray(v)) return false;
      const items = n.items;
      if (items) for (const x of v) if (!wellTyped(items, x)) return false;
      return true;
    }
    case 'object': {
      if (typeof v !== 'object' || Array.isArray(v)) return false;
      const o = v as Record<string, unknown>;
      if (n.resolved.properties) {
        for (const [k, p] of n.props) if (k in o && !wellTyped(p, o[k])) return false;
      } else {
        const values = n.additional;
        if (values) for (const k in o) if (!wellTyped(values, o[k])) return false;
      }
      return true;
    }
    default: return true;
  }
}

/** Throws a Mismatch for the first wrongly typed value, in schema order (the Go decoder's wording). */
function walk(n: SchemaNode, v: unknown, structName: string, jsonPath: string): void {
  if (v === null || v === undefined) return;
  switch (n.kind) {
    case 'quantity': if (typeof v !== 'string' && typeof v !== 'number') fail(v, structName, jsonPath, n.schema); return;
    case 'int-or-string':
      if (typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v))) return;
      fail(v, structName, jsonPath, n.schema);
    // falls through (fail throws)
    case 'string': if (typeof v !== 'string') fail(v, structName, jsonPath, n.schema); return;
    case 'boolean': if (typeof v !== 'boolean') fail(v, structName, jsonPath, n.schema); return;
    case 'integer': if (typeof v !== 'number' || !Number.isInteger(v)) fail(v, structName, jsonPath, n.schema); return;
    case 'number': if (typeof v !== 'number') fail(v, structName, jsonPath, n.schema); return;
    case 'array': {
      if (!Array.isArray(v)) fail(v, structName, jsonPath, n.schema);
      const items = n.items;
      if (items) for (const x of v) walk(items, x, structName, jsonPath);
      return;
    }
    case 'object': {
      if (typeof v !== 'object' || Array.isArray(v)) fail(v, structName, jsonPath, n.schema);
      const o = v as Record<string, unknown>;
      if (n.resolved.properties) {
        // Fields of a named struct are reported relative to that struct's Go name.
        const struct = n.structName ?? structName;
        for (const [k, p] of n.props) {
          if (k in o) walk(p, o[k], struct, jsonPath ? `${jsonPath}.${k}` : k);
        }
      } else {
        const values = n.additional;
        if (values) for (const k in o) walk(values, o[k], structName, jsonPath);
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
    for (const [k, p] of node(root).props) if (k in o && !wellTyped(p, o[k])) walk(p, o[k], info.kind, k);
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
  if (root) fix(node(root), obj);
  else if (obj && typeof obj === 'object' && (obj as { metadata?: unknown }).metadata === null) delete (obj as { metadata?: unknown }).metadata;
}

function fix(n: SchemaNode, v: unknown): void {
  if (v === null || typeof v !== 'object') return;
  const r = n.resolved;
  if (Array.isArray(v)) {
    const items = r.type === 'array' ? n.items : undefined;
    if (!items) return;
    const emptyForNull = items.resolved.type === 'object' && !!items.resolved.properties;
    for (let i = 0; i < v.length; i++) {
      if (v[i] === null && emptyForNull) v[i] = {};
      else fix(items, v[i]);
    }
    return;
  }
  const o = v as Record<string, unknown>;
  if (r.properties) {
    for (const [k, p] of n.props) {
      if (!(k in o)) continue;
      if (o[k] === null) delete o[k]; // a struct field decoded from null is its zero value: omitted
      else fix(p, o[k]);
    }
  } else {
    const values = n.additional;
    if (!values) return;
    const emptyForNull = values.resolved.type === 'string';
    for (const k of Object.keys(o)) {
      if (o[k] === null && emptyForNull) o[k] = '';
      else fix(values, o[k]);
    }
  }
}

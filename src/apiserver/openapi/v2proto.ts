/**
 * /openapi/v2 in protobuf: the Swagger 2.0 document (v2.ts) encoded as gnostic's
 * `openapi.v2.Document` message, which is what kubectl asks for
 * (`Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf`) before it validates a
 * manifest whose kind the OpenAPI v3 documents do not describe. Kubernetes serves this form; a JSON
 * answer makes kubectl fail with "proto: cannot parse invalid wire-format data".
 *
 * The mapping follows gnostic's compiler (JSON maps become repeated Named* pairs, `type` a TypeItem,
 * a parameter a oneof of body / query / path sub-schemas, `x-` extensions NamedAny values holding
 * their YAML text — JSON is YAML). Field numbers are those of gnostic's openapiv2/OpenAPIv2.proto.
 * The wire encoding is written here (varints and length-delimited fields, sixty lines): no JS
 * library implements gnostic's model, and a generic protobuf library would still need all of this
 * mapping plus a copy of the .proto; the other direction (decoding request bodies) is hand-written
 * the same way in ../http/protobuf.
 */
import { BUILTIN_CATALOG, type ResourceCatalog } from '../catalog.js';
import { openapiV2Document } from './v2.js';

type Json = Record<string, unknown>;

/** Builds one protobuf message (proto3: unset scalars are simply not written). */
class Message {
  private readonly parts: Buffer[] = [];

  private varint(n: number): void {
    const bytes: number[] = [];
    let v = n;
    while (v > 0x7f) { bytes.push((v % 128) | 0x80); v = Math.floor(v / 128); }
    bytes.push(v);
    this.parts.push(Buffer.from(bytes));
  }

  private key(field: number, wireType: 0 | 2): void {
    this.varint(field * 8 + wireType);
  }

  string(field: number, v: unknown): this {
    if (typeof v !== 'string' || v === '') return this;
    const b = Buffer.from(v, 'utf8');
    this.key(field, 2); this.varint(b.length); this.parts.push(b);
    return this;
  }

  strings(field: number, v: unknown): this {
    if (Array.isArray(v)) for (const s of v) this.string(field, String(s));
    return this;
  }

  bool(field: number, v: unknown): this {
    if (v !== true) return this;
    this.key(field, 0); this.varint(1);
    return this;
  }

  message(field: number, m: Message | undefined): this {
    if (!m) return this;
    const b = m.bytes();
    this.key(field, 2); this.varint(b.length); this.parts.push(b);
    return this;
  }

  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** `x-` keys as repeated NamedAny { name, value: Any { yaml } } at `field`. */
function vendorExtensions(m: Message, field: number, o: Json): void {
  for (const [k, v] of Object.entries(o)) {
    if (k.startsWith('x-')) m.message(field, new Message().string(1, k).message(2, new Message().string(2, JSON.stringify(v))));
  }
}

/** A JSON map of schemas as repeated NamedSchema { name, value } at field 1 (Properties, Definitions). */
function namedSchemas(map: Json): Message {
  const m = new Message();
  for (const [name, s] of Object.entries(map)) m.message(1, new Message().string(1, name).message(2, schema(s)));
  return m;
}

/** openapi.v2.Schema */
function schema(s: unknown): Message {
  const m = new Message();
  if (!isObject(s)) return m;
  m.string(1, s.$ref).string(2, s.format).string(3, s.title).string(4, s.description);
  m.bool(16, s.uniqueItems).strings(19, s.required);
  if (isObject(s.additionalProperties)) m.message(21, new Message().message(1, schema(s.additionalProperties)));
  else if (s.additionalProperties === true) m.message(21, new Message().bool(2, true));
  if (s.type !== undefined) m.message(22, new Message().strings(1, Array.isArray(s.type) ? s.type : [s.type]));
  if (s.items !== undefined) m.message(23, new Message().message(1, schema(s.items)));
  if (Array.isArray(s.allOf)) for (const a of s.allOf) m.message(24, schema(a));
  if (isObject(s.properties)) m.message(25, namedSchemas(s.properties));
  m.bool(27, s.readOnly);
  vendorExtensions(m, 31, s);
  return m;
}

/** openapi.v2.ParametersItem { parameter: Parameter { body_parameter | non_body_parameter } } */
function parameter(p: Json): Message {
  let param: Message;
  if (p.in === 'body') {
    const body = new Message().string(1, p.description).string(2, p.name).string(3, p.in).bool(4, p.required).message(5, schema(p.schema));
    vendorExtensions(body, 6, p);
    param = new Message().message(1, body);
  } else {
    // Query sub-schema: type is field 6, uniqueItems 20; path sub-schema: 5 and 19.
    const query = p.in === 'query';
    const sub = new Message().bool(1, p.required).string(2, p.in).string(3, p.description).string(4, p.name)
      .string(query ? 6 : 5, p.type).bool(query ? 20 : 19, p.uniqueItems);
    vendorExtensions(sub, query ? 23 : 22, p);
    param = new Message().message(2, new Message().message(query ? 3 : 4, sub));
  }
  return new Message().message(1, param);
}

/** openapi.v2.Operation */
function operation(op: Json): Message {
  const m = new Message().strings(1, op.tags).string(2, op.summary).string(3, op.description).string(5, op.operationId)
    .strings(6, op.produces).strings(7, op.consumes);
  for (const p of (op.parameters as Json[] | undefined) ?? []) m.message(8, parameter(p));
  const responses = new Message();
  for (const [code, r] of Object.entries((op.responses as Record<string, Json> | undefined) ?? {})) {
    const response = new Message().string(1, r.description);
    if (r.schema !== undefined) response.message(2, new Message().message(1, schema(r.schema)));
    responses.message(1, new Message().string(1, code).message(2, new Message().message(1, response)));
  }
  m.message(9, responses).strings(10, op.schemes).bool(11, op.deprecated);
  vendorExtensions(m, 13, op);
  return m;
}

const PATH_ITEM_FIELDS: Record<string, number> = { get: 2, put: 3, post: 4, delete: 5, options: 6, head: 7, patch: 8 };

/** openapi.v2.PathItem */
function pathItem(item: Json): Message {
  const m = new Message();
  for (const [k, v] of Object.entries(item)) {
    if (PATH_ITEM_FIELDS[k] !== undefined) m.message(PATH_ITEM_FIELDS[k], operation(v as Json));
  }
  for (const p of (item.parameters as Json[] | undefined) ?? []) m.message(9, parameter(p));
  vendorExtensions(m, 10, item);
  return m;
}

/** Encodes a Swagger 2.0 document (parsed JSON) as an openapi.v2.Document. */
export function encodeOpenApiV2(doc: Json): Buffer {
  const info = isObject(doc.info) ? doc.info : {};
  const paths = new Message();
  for (const [p, item] of Object.entries((doc.paths as Record<string, Json> | undefined) ?? {})) {
    paths.message(2, new Message().string(1, p).message(2, pathItem(item)));
  }
  return new Message()
    .string(1, doc.swagger)
    .message(2, new Message().string(1, info.title).string(2, info.version).string(3, info.description))
    .message(8, paths)
    .message(9, namedSchemas((doc.definitions as Json | undefined) ?? {}))
    .bytes();
}

const cached = new WeakMap<ResourceCatalog, { generation: number; buf: Buffer }>();

/** The served Swagger 2.0 document as an openapi.v2.Document (built once). */
export function openapiV2Protobuf(catalog: ResourceCatalog = BUILTIN_CATALOG): Buffer {
  const hit = cached.get(catalog);
  if (hit && hit.generation === catalog.generation) return hit.buf;
  const buf = encodeOpenApiV2(JSON.parse(openapiV2Document(catalog)) as Json);
  cached.set(catalog, { generation: catalog.generation, buf });
  return buf;
}

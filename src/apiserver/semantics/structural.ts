/**
 * Custom resources against their CRD's structural schema (apiextensions-apiserver): pruning of
 * fields the schema does not specify, defaulting from `default`, and validation with the field
 * errors Kubernetes returns (kube-openapi's messages, converted as apiextensions' validation does:
 * `spec.replicas: Invalid value: 15: spec.replicas in body should be less than or equal to 10`,
 * `spec.cronSpec: Required value`, `spec.mode: Unsupported value: "x": supported values: "a", "b"`).
 *
 * Pure functions over plain JSON. Written here because no JavaScript JSON-Schema validator produces
 * Kubernetes' field paths and wording, and pruning/defaulting are Kubernetes' own semantics, not
 * JSON Schema's (a validator library would still need all of the error mapping).
 */
import type { JSONSchemaProps } from 'kubernetes-types/apiextensions/v1.js';
import type { FieldError } from '../../api/errors.js';
import { invalidField, notSupported, path, required, tooLong, tooMany, type FieldPath } from './field.js';

type Json = unknown;
type Obj = Record<string, Json>;

const isObj = (v: Json): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Fields every object has, kept at the root whatever the schema says. */
const ROOT_FIELDS = new Set(['apiVersion', 'kind', 'metadata']);

function additional(s: JSONSchemaProps): JSONSchemaProps | undefined {
  const a = s.additionalProperties as JSONSchemaProps | boolean | undefined;
  return typeof a === 'object' ? a : undefined;
}

function preserves(s: JSONSchemaProps): boolean {
  return (s as Record<string, unknown>)['x-kubernetes-preserve-unknown-fields'] === true;
}

function embedded(s: JSONSchemaProps): boolean {
  return (s as Record<string, unknown>)['x-kubernetes-embedded-resource'] === true;
}

function intOrString(s: JSONSchemaProps): boolean {
  return (s as Record<string, unknown>)['x-kubernetes-int-or-string'] === true;
}

/**
 * Removes (in place) every field `schema` does not specify, and returns their paths in the order
 * found (`spec.unknown`, `spec.items[0].x`) — what `fieldValidation=Strict` reports as unknown.
 * `x-kubernetes-preserve-unknown-fields` keeps them (until nested properties say otherwise).
 */
export function prune(obj: Json, schema: JSONSchemaProps | undefined, isRoot = true): string[] {
  const out: string[] = [];
  if (schema) walkPrune(obj, schema, '', isRoot, out);
  return out;
}

function walkPrune(v: Json, s: JSONSchemaProps, p: string, root: boolean, out: string[]): void {
  if (Array.isArray(v)) {
    const items = s.items as JSONSchemaProps | undefined;
    if (items && !Array.isArray(items)) v.forEach((x, i) => walkPrune(x, items, `${p}[${i}]`, false, out));
    return;
  }
  if (!isObj(v)) return;
  const props = s.properties;
  const add = additional(s);
  const keepMeta = root || embedded(s);
  for (const k of Object.keys(v)) {
    const child = p ? `${p}.${k}` : k;
    if (keepMeta && ROOT_FIELDS.has(k)) continue;
    const ps = props?.[k];
    if (ps) { walkPrune(v[k], ps, child, false, out); continue; }
    if (add) { walkPrune(v[k], add, child, false, out); continue; }
    if (preserves(s) || (!props && s.additionalProperties === true)) continue;
    out.push(child);
    delete v[k];
  }
}

/** Sets (in place) every absent field that has a `default`, in objects that exist. */
export function applySchemaDefaults(v: Json, s: JSONSchemaProps | undefined): void {
  if (!s) return;
  if (Array.isArray(v)) {
    const items = s.items as JSONSchemaProps | undefined;
    if (items && !Array.isArray(items)) for (const x of v) applySchemaDefaults(x, items);
    return;
  }
  if (!isObj(v)) return;
  for (const [k, ps] of Object.entries(s.properties ?? {})) {
    if ((!(k in v) || (v[k] === null && !ps.nullable)) && ps.default !== undefined) v[k] = structuredClone(ps.default);
    if (k in v) applySchemaDefaults(v[k], ps);
  }
  const add = additional(s);
  if (add) for (const k of Object.keys(v)) if (!s.properties?.[k]) applySchemaDefaults(v[k], add);
}

function typeName(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v; // string, boolean, object
}

function typeMatches(type: string, v: Json): boolean {
  switch (type) {
    case 'object': return isObj(v);
    case 'array': return Array.isArray(v);
    case 'string': return typeof v === 'string';
    case 'boolean': return typeof v === 'boolean';
    case 'integer': return typeof v === 'number' && Number.isInteger(v);
    case 'number': return typeof v === 'number';
    default: return true;
  }
}

/** Runs the checks of one schema; `name` is the dotted path kube-openapi puts in its messages. */
function check(v: Json, s: JSONSchemaProps, fp: FieldPath, errs: FieldError[]): void {
  const name = String(fp);
  if (v === null) {
    if (s.nullable) return;
    if (s.type) errs.push({ type: 'FieldValueTypeInvalid', field: name, value: null, detail: `${name} in body must be of type ${s.type}: "null"` });
    return;
  }
  if (intOrString(s)) {
    if (!(typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v)))) {
      errs.push({ type: 'FieldValueTypeInvalid', field: name, value: v, detail: `${name} in body must be of type integer-or-string: "${typeName(v)}"` });
      return;
    }
  } else if (s.type && !typeMatches(s.type, v)) {
    errs.push({ type: 'FieldValueTypeInvalid', field: name, value: v, detail: `${name} in body must be of type ${s.type}: "${typeName(v)}"` });
    return;
  }
  if (s.enum && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(v))) {
    errs.push(notSupported(fp, v, s.enum.map((e) => (typeof e === 'string' ? e : JSON.stringify(e)))));
  }
  if (typeof v === 'number') {
    if (s.maximum !== undefined && (s.exclusiveMaximum ? v >= s.maximum : v > s.maximum)) {
      errs.push(invalidField(fp, v, `${name} in body should be less than ${s.exclusiveMaximum ? '' : 'or equal to '}${s.maximum}`));
    }
    if (s.minimum !== undefined && (s.exclusiveMinimum ? v <= s.minimum : v < s.minimum)) {
      errs.push(invalidField(fp, v, `${name} in body should be greater than ${s.exclusiveMinimum ? '' : 'or equal to '}${s.minimum}`));
    }
    if (s.multipleOf !== undefined && s.multipleOf > 0 && Math.abs(v / s.multipleOf - Math.round(v / s.multipleOf)) > 1e-9) {
      errs.push(invalidField(fp, v, `${name} in body should be a multiple of ${s.multipleOf}`));
    }
  }
  if (typeof v === 'string') {
    const len = [...v].length;
    if (s.maxLength !== undefined && len > s.maxLength) errs.push({ ...tooLong(fp, s.maxLength), detail: `may not be more than ${s.maxLength} bytes` });
    if (s.minLength !== undefined && len < s.minLength) errs.push(invalidField(fp, v, `${name} in body should be at least ${s.minLength} chars long`));
    if (s.pattern !== undefined) {
      let re: RegExp | undefined;
      try { re = new RegExp(s.pattern, 'u'); } catch { re = undefined; }
      if (re && !re.test(v)) errs.push(invalidField(fp, v, `${name} in body should match '${s.pattern}'`));
    }
  }
  if (Array.isArray(v)) {
    if (s.maxItems !== undefined && v.length > s.maxItems) errs.push(tooMany(fp, v.length, s.maxItems));
    if (s.minItems !== undefined && v.length < s.minItems) errs.push(invalidField(fp, v, `${name} in body should have at least ${s.minItems} items`));
    if (s.uniqueItems) {
      const seen = new Set<string>();
      for (const x of v) {
        const k = JSON.stringify(x);
        if (seen.has(k)) { errs.push({ type: 'FieldValueDuplicate', field: name, value: x }); break; }
        seen.add(k);
      }
    }
    const items = s.items as JSONSchemaProps | undefined;
    if (items && !Array.isArray(items)) v.forEach((x, i) => check(x, items, fp.index(i), errs));
  }
  if (isObj(v)) {
    const n = Object.keys(v).length;
    if (s.maxProperties !== undefined && n > s.maxProperties) errs.push(tooMany(fp, n, s.maxProperties));
    if (s.minProperties !== undefined && n < s.minProperties) errs.push(invalidField(fp, n, `${name} in body should have at least ${s.minProperties} properties`));
    for (const r of s.required ?? []) if (!(r in v)) errs.push(required(fp.child(r)));
    for (const [k, ps] of Object.entries(s.properties ?? {})) if (k in v) check(v[k], ps, fp.child(k), errs);
    const add = additional(s);
    if (add) for (const k of Object.keys(v)) if (!s.properties?.[k]) check(v[k], add, fp.key(k), errs);
  }
  for (const sub of s.allOf ?? []) check(v, sub, fp, errs);
  if (s.anyOf?.length && !s.anyOf.some((sub) => { const e: FieldError[] = []; check(v, sub, fp, e); return e.length === 0; })) {
    errs.push(invalidField(fp, v, `${name} in body must validate at least one schema (anyOf)`));
  }
  if (s.oneOf?.length) {
    const ok = s.oneOf.filter((sub) => { const e: FieldError[] = []; check(v, sub, fp, e); return e.length === 0; }).length;
    if (ok !== 1) errs.push(invalidField(fp, v, `${name} in body must validate one and only one schema (oneOf)`));
  }
  if (s.not) {
    const e: FieldError[] = [];
    check(v, s.not, fp, e);
    if (e.length === 0) errs.push(invalidField(fp, v, `${name} in body must not validate the schema (not)`));
  }
}

/**
 * Validates a custom object (already pruned and defaulted) against its version's schema. The root's
 * apiVersion, kind and metadata are the API machinery's, not the schema's.
 */
export function validateAgainstSchema(obj: Json, schema: JSONSchemaProps | undefined): FieldError[] {
  if (!schema || !isObj(obj)) return [];
  const errs: FieldError[] = [];
  const { properties, required: req, ...rest } = schema;
  const rootProps = Object.fromEntries(Object.entries(properties ?? {}).filter(([k]) => !ROOT_FIELDS.has(k)));
  const rootReq = (req ?? []).filter((k) => !ROOT_FIELDS.has(k));
  const body = Object.fromEntries(Object.entries(obj).filter(([k]) => !ROOT_FIELDS.has(k)));
  const rootSchema: JSONSchemaProps = { ...rest, properties: rootProps, required: rootReq };
  for (const r of rootSchema.required ?? []) if (!(r in body)) errs.push(required(path(r)));
  for (const [k, ps] of Object.entries(rootProps)) if (k in body) check(body[k], ps, path(k), errs);
  const add = additional(schema);
  if (add) for (const k of Object.keys(body)) if (!rootProps[k]) check(body[k], add, path(k), errs);
  return errs;
}

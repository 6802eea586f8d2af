/**
 * Unknown-field detection for `fieldValidation=Strict` (kubectl's default since 1.25): the fields of
 * a request body that the kind's schema does not declare, as the dotted paths Kubernetes prints in
 * `strict decoding error: unknown field "spec.portz"`.
 */
import { badRequest, type ApiError } from '../../api/errors.js';
import type { ResourceInfo } from '../../api/resources.js';
import type { CustomResourceVersion } from '../catalog.js';
import { prune } from '../semantics/structural.js';
import { definitionName, resolveSchema, SCHEMAS, type Schema } from './schemas.js';

/**
 * Paths of every field in `obj` that the schema of `info`'s kind does not declare, in the order the
 * body lists them: `spec.portz`, `spec.ports[0].portz`, `metadata.labelz`. Map-typed fields (labels,
 * annotations, selector, data) accept any key; untyped fields (RawExtension, FieldsV1) accept anything.
 * Values of the wrong JSON type are not reported here (that is validation's job). Returns [] for a
 * kind without a schema.
 */
export function findUnknownFields(info: ResourceInfo, obj: unknown, custom?: CustomResourceVersion): string[] {
  // A custom resource's unknown fields are those its structural schema prunes.
  if (custom) return custom.schema ? prune(structuredClone(obj), custom.schema) : [];
  const root = SCHEMAS[definitionName(info)];
  const out: string[] = [];
  if (root) walk(root, obj, '', out);
  return out;
}

/** The message Kubernetes returns (400 BadRequest) for the paths `findUnknownFields` found. */
export function strictDecodingMessage(paths: readonly string[]): string {
  return `strict decoding error: ${paths.map((p) => `unknown field "${p}"`).join(', ')}`;
}

/**
 * The error for a request body under `fieldValidation=Strict`: 400 BadRequest with Kubernetes'
 * message (kubectl prints `Error from server (BadRequest): error when creating "x.yaml": strict
 * decoding error: unknown field "spec.portz"`); undefined when every field is known.
 */
export function strictFieldError(info: ResourceInfo, obj: unknown): ApiError | undefined {
  const paths = findUnknownFields(info, obj);
  return paths.length ? badRequest(strictDecodingMessage(paths)) : undefined;
}

function walk(schema: Schema, value: unknown, path: string, out: string[]): void {
  const s = resolveSchema(schema);
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    if (s.type === 'array' && s.items) value.forEach((v, i) => walk(s.items!, v, `${path}[${i}]`, out));
    return;
  }
  if (s.type !== 'object') return;
  const entries = Object.entries(value as Record<string, unknown>);
  if (s.properties) {
    for (const [k, v] of entries) {
      const child = path ? `${path}.${k}` : k;
      const p = s.properties[k];
      if (!p) out.push(child);
      else walk(p, v, child, out);
    }
    return;
  }
  if (s.additionalProperties && typeof s.additionalProperties === 'object') {
    for (const [k, v] of entries) walk(s.additionalProperties, v, `${path}.${k}`, out);
  }
  // An object schema without properties (RawExtension, FieldsV1) is free-form.
}

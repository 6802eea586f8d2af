/**
 * Builders for field errors, mirroring k8s.io/apimachinery/pkg/util/validation/field (Invalid,
 * Required, Duplicate, NotSupported, Forbidden, TooLong, NotFound, TooMany) so validation code reads
 * like Kubernetes' and produces the same field paths and texts.
 */
import type { FieldError } from '../../api/errors.js';

/** A field path: `spec.ports[0].port`, `metadata.labels`, `spec.template.spec.containers[1]`. */
export class FieldPath {
  private constructor(private readonly text: string) {}

  /** A root path from one or more names: `path('spec', 'ports')` → `spec.ports`. */
  static of(...names: string[]): FieldPath {
    return new FieldPath(names.join('.'));
  }

  /** `parent.name` (several names chain). */
  child(...names: string[]): FieldPath {
    return new FieldPath([this.text, ...names].filter((x) => x !== '').join('.'));
  }

  /** `parent[i]` */
  index(i: number): FieldPath {
    return new FieldPath(`${this.text}[${i}]`);
  }

  /** `parent[key]` (map entries, e.g. `metadata.annotations[x]`). */
  key(k: string): FieldPath {
    return new FieldPath(`${this.text}[${k}]`);
  }

  toString(): string {
    return this.text;
  }
}

/** Shorthand for FieldPath.of. */
export const path = FieldPath.of;

/** `<field>: Invalid value: <value>: <detail>` */
export function invalidField(p: FieldPath, value: unknown, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field: String(p), value, detail };
}

/** `<field>: Required value[: detail]` */
export function required(p: FieldPath, detail = ''): FieldError {
  return { type: 'FieldValueRequired', field: String(p), detail: detail || undefined };
}

/** `<field>: Duplicate value: <value>` */
export function duplicate(p: FieldPath, value: unknown): FieldError {
  return { type: 'FieldValueDuplicate', field: String(p), value };
}

/** `<field>: Unsupported value: <value>: supported values: "a", "b"` (values in the order given). */
export function notSupported(p: FieldPath, value: unknown, valid: readonly string[]): FieldError {
  const detail = valid.length > 0 ? `supported values: ${valid.map((v) => JSON.stringify(v)).join(', ')}` : undefined;
  return { type: 'FieldValueNotSupported', field: String(p), value, detail };
}

/** `<field>: Forbidden: <detail>` */
export function forbidden(p: FieldPath, detail: string): FieldError {
  return { type: 'FieldValueForbidden', field: String(p), detail };
}

/** `<field>: Too long: may not be more than N bytes` */
export function tooLong(p: FieldPath, maxLength: number): FieldError {
  return { type: 'FieldValueTooLong', field: String(p), detail: `may not be more than ${maxLength} ${maxLength === 1 ? 'byte' : 'bytes'}` };
}

/** `<field>: Not found: <value>` */
export function notFoundField(p: FieldPath, value: unknown): FieldError {
  return { type: 'FieldValueNotFound', field: String(p), value };
}

/** `<field>: Too many: <n>: must have at most M items` */
export function tooMany(p: FieldPath, actual: number, max: number): FieldError {
  return { type: 'FieldValueTooMany', field: String(p), value: actual, detail: `must have at most ${max} ${max === 1 ? 'item' : 'items'}` };
}

/** `must be greater than or equal to 0` on a negative number (ValidateNonnegativeField). */
export function nonNegative(value: number | undefined, p: FieldPath): FieldError[] {
  return value !== undefined && value < 0 ? [invalidField(p, value, 'must be greater than or equal to 0')] : [];
}

/** One Invalid error per message, all for the same value (the common `for _, msg := range ...` loop). */
export function eachInvalid(p: FieldPath, value: unknown, msgs: string[]): FieldError[] {
  return msgs.map((m) => invalidField(p, value, m));
}

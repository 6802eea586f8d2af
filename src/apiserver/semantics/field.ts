/**
 * Builders for field errors, mirroring k8s.io/apimachinery/pkg/util/validation/field (Invalid,
 * Required, Duplicate, NotSupported, Forbidden, TooLong, NotFound, TooMany) so validation code reads
 * like Kubernetes' and produces the same field paths and texts.
 */
import type { FieldError } from '../../api/errors.js';

/**
 * A field path: `spec.ports[0].port`, `metadata.labels`, `spec.template.spec.containers[1]`.
 * The text is built only when asked for (`toString`): validators derive a path for every field they
 * visit but need the text only for the rare field in error, and building it eagerly made validation
 * the largest source of garbage on the API server's write path.
 */
export class FieldPath {
  private text: string | undefined;

  private constructor(
    private readonly parent: FieldPath | undefined,
    /** root: its text; child: the names appended; index / key: the subscript. */
    private readonly part: string | number | readonly string[],
    private readonly op: 'root' | 'child' | 'subscript',
  ) {
    if (op === 'root') this.text = part as string;
  }

  /** A root path from one or more names: `path('spec', 'ports')` → `spec.ports`. */
  static of(...names: string[]): FieldPath {
    return new FieldPath(undefined, names.join('.'), 'root');
  }

  /** `parent.name` (several names chain). */
  child(...names: string[]): FieldPath {
    return new FieldPath(this, names, 'child');
  }

  /** `parent[i]` */
  index(i: number): FieldPath {
    return new FieldPath(this, i, 'subscript');
  }

  /** `parent[key]` (map entries, e.g. `metadata.annotations[x]`). */
  key(k: string): FieldPath {
    return new FieldPath(this, k, 'subscript');
  }

  toString(): string {
    if (this.text === undefined) {
      const base = this.parent!.toString();
      this.text = this.op === 'child'
        ? [base, ...(this.part as readonly string[])].filter((x) => x !== '').join('.')
        : `${base}[${String(this.part)}]`;
    }
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

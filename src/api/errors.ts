/**
 * Typed API errors. Every failure the API server (or the in-process client) reports is one of these;
 * `toStatus()` is the one place that maps them to a Kubernetes `Status` object, with the HTTP code,
 * reason and wording Kubernetes uses (k8s.io/apimachinery/pkg/api/errors).
 */
import type { ResourceInfo } from './resources.js';

/** One entry of `Status.details.causes`. */
export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

/** A Kubernetes meta/v1 Status object. */
export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { name?: string; group?: string; kind?: string; uid?: string; causes?: StatusCause[]; retryAfterSeconds?: number };
  code: number;
}

/** Base class: an API failure with an HTTP code and a Kubernetes reason. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Status['details'],
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The Status object a client sees for this error. */
  toStatus(): Status {
    const s: Status = {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: this.message, reason: this.reason, code: this.code,
    };
    if (this.details) s.details = this.details;
    return s;
  }

  /** Rebuilds an ApiError from a Status received over the wire (HTTP client side). */
  static fromStatus(status: Partial<Status>, httpCode?: number): ApiError {
    return new ApiError(status.code ?? httpCode ?? 500, status.reason ?? 'InternalError',
      status.message ?? 'unknown error', status.details);
  }
}

function qualified(info: Pick<ResourceInfo, 'group' | 'plural'>): string {
  return info.group ? `${info.plural}.${info.group}` : info.plural;
}

/** 404: `services "x" not found`. */
export function notFound(info: Pick<ResourceInfo, 'group' | 'plural'>, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualified(info)} "${name}" not found`,
    { name, group: info.group || undefined, kind: info.plural });
}

/** 409: `services "x" already exists`. */
export function alreadyExists(info: Pick<ResourceInfo, 'group' | 'plural'>, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${qualified(info)} "${name}" already exists`,
    { name, group: info.group || undefined, kind: info.plural });
}

/** 409: the optimistic-concurrency failure, worded as Kubernetes words it. */
export function conflict(info: Pick<ResourceInfo, 'group' | 'plural'>, name: string, why?: string): ApiError {
  const msg = `Operation cannot be fulfilled on ${qualified(info)} "${name}": ` +
    (why ?? 'the object has been modified; please apply your changes to the latest version and try again');
  return new ApiError(409, 'Conflict', msg, { name, group: info.group || undefined, kind: info.plural });
}

/** One field error, as k8s.io/apimachinery/pkg/util/validation/field reports it. */
export interface FieldError {
  /** The field.ErrorType string Kubernetes puts in `Status.details.causes[].reason`. */
  type: 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueDuplicate' | 'FieldValueNotSupported' | 'FieldValueForbidden' | 'FieldValueTooLong' | 'FieldValueTypeInvalid' | 'FieldValueNotFound' | 'FieldValueTooMany' | 'InternalError';
  field: string;
  /**
   * The offending value, rendered the way field.Error.ErrorBody() does: strings Go-quoted (%q),
   * numbers and booleans bare, null as `null`, objects with their own toString() through it,
   * anything else as JSON (json.Marshal). Leave it undefined to print no value at all (Go's
   * field.OmitValueType).
   */
  value?: unknown;
  detail?: string;
}

const TYPE_TEXT: Record<FieldError['type'], string> = {
  FieldValueInvalid: 'Invalid value', FieldValueRequired: 'Required value', FieldValueDuplicate: 'Duplicate value',
  FieldValueNotSupported: 'Unsupported value', FieldValueForbidden: 'Forbidden', FieldValueTooLong: 'Too long',
  FieldValueTypeInvalid: 'Invalid value', FieldValueNotFound: 'Not found', FieldValueTooMany: 'Too many',
  InternalError: 'Internal error',
};

/** Go's strconv.Quote (what %q prints) for the strings validation reports. */
export function goQuote(s: string): string {
  // JSON escaping equals Go's for the common cases; Go prints other control bytes as \xNN and
  // escapes DEL, JSON writes \u00NN and leaves DEL raw.
  return JSON.stringify(s)
    .replace(/\\u00([01][0-9a-f])/g, (_m, h: string) => `\\x${h}`)
    .replace(/\x7f/g, '\\x7f');
}

/** Go's json.Marshal output for a JSON-shaped value (it escapes <, > and & for HTML safety). */
function goJSON(v: unknown): string {
  return (JSON.stringify(v) ?? 'null').replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
}

/** The text after `<field>: ` in a field error, as field.Error.ErrorBody() renders it. */
export function fieldErrorBody(e: FieldError): string {
  let s = TYPE_TEXT[e.type] ?? e.type;
  const printsValue = !['FieldValueRequired', 'FieldValueForbidden', 'FieldValueTooLong', 'InternalError'].includes(e.type);
  if (printsValue && e.value !== undefined) {
    const v = e.value;
    const text = typeof v === 'string' ? goQuote(v)
      : typeof v === 'number' || typeof v === 'boolean' ? String(v)
        : v === null ? 'null'
          // An object with its own toString() prints through it, like a Go fmt.Stringer.
          : typeof v === 'object' && !Array.isArray(v) && (v as object).toString !== Object.prototype.toString ? String(v)
            : goJSON(v);
    s += `: ${text}`;
  }
  if (e.detail) s += `: ${e.detail}`;
  return s;
}

/** Renders one field error the way Kubernetes' field.Error.Error() does: `<field>: <body>`. */
export function fieldErrorMessage(e: FieldError): string {
  return `${e.field}: ${fieldErrorBody(e)}`;
}

/**
 * 422: `The Service "x" is invalid: spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive`.
 * Like errors.NewInvalid: every error becomes a cause; the message lists each distinct text once,
 * bracketed when there is more than one (utilerrors.Aggregate).
 */
export function invalid(kind: string, group: string, name: string, errs: FieldError[]): ApiError {
  const msgs = [...new Set(errs.map(fieldErrorMessage))];
  const qualifiedKind = `${kind}${group ? `.${group}` : ''}`;
  const message = msgs.length === 0 ? `${qualifiedKind} "${name}" is invalid`
    : `${qualifiedKind} "${name}" is invalid: ${msgs.length === 1 ? msgs[0] : `[${msgs.join(', ')}]`}`;
  return new ApiError(422, 'Invalid', message, {
    name, group: group || undefined, kind,
    causes: errs.map((e) => ({ reason: e.type, message: fieldErrorBody(e), field: e.field })),
  });
}

/** 400 BadRequest with a message. */
export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}

/** 410: the watch/list resourceVersion fell out of the retained history. */
export function gone(message = 'too old resource version'): ApiError {
  return new ApiError(410, 'Expired', message);
}

/** 405 MethodNotAllowed. */
export function methodNotAllowed(message = 'the server does not allow this method on the requested resource'): ApiError {
  return new ApiError(405, 'MethodNotAllowed', message);
}

/** 401 Unauthorized. */
export function unauthorized(): ApiError {
  return new ApiError(401, 'Unauthorized', 'Unauthorized');
}

/** 403 Forbidden. */
export function forbidden(message: string): ApiError {
  return new ApiError(403, 'Forbidden', message);
}

/** 500 InternalError (never leaks a stack). */
export function internalError(message: string): ApiError {
  return new ApiError(500, 'InternalError', `Internal error occurred: ${message}`);
}

/** 503 ServiceUnavailable: the storage cannot serve now (etcd down, no leader); clients retry. */
export function serviceUnavailable(message: string): ApiError {
  return new ApiError(503, 'ServiceUnavailable', message, { retryAfterSeconds: 1 });
}

/** 413 RequestEntityTooLarge. */
export function tooLarge(limitBytes: number): ApiError {
  return new ApiError(413, 'RequestEntityTooLarge', `the request body exceeds the limit of ${limitBytes} bytes`);
}

/** 415 UnsupportedMediaType. */
export function unsupportedMediaType(contentType: string): ApiError {
  return new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json; got ${contentType}`);
}

/** True for an ApiError with code 404 (NotFound is success for deletes and cleanups). */
export function isNotFound(e: unknown): boolean {
  return e instanceof ApiError && e.code === 404;
}

/** True for an ApiError with code 409 Conflict (optimistic concurrency). */
export function isConflict(e: unknown): boolean {
  return e instanceof ApiError && e.code === 409 && e.reason === 'Conflict';
}

/** True for an ApiError with code 409 AlreadyExists. */
export function isAlreadyExists(e: unknown): boolean {
  return e instanceof ApiError && e.code === 409 && e.reason === 'AlreadyExists';
}

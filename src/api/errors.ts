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
  /** FieldValueInvalid, FieldValueRequired, FieldValueDuplicate, FieldValueNotSupported, FieldValueForbidden, FieldValueTooLong */
  type: 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueDuplicate' | 'FieldValueNotSupported' | 'FieldValueForbidden' | 'FieldValueTooLong' | 'FieldValueTypeInvalid';
  field: string;
  /** The offending value, printed the way Go's %v / strconv.Quote prints it (strings quoted). */
  value?: unknown;
  detail?: string;
}

/** Renders one field error the way Kubernetes' field.Error.Error() does. */
export function fieldErrorMessage(e: FieldError): string {
  const v = e.value === undefined ? '' : typeof e.value === 'string' ? JSON.stringify(e.value) : String(e.value);
  switch (e.type) {
    case 'FieldValueRequired': return `${e.field}: Required value${e.detail ? `: ${e.detail}` : ''}`;
    case 'FieldValueForbidden': return `${e.field}: Forbidden${e.detail ? `: ${e.detail}` : ''}`;
    case 'FieldValueDuplicate': return `${e.field}: Duplicate value: ${v}`;
    case 'FieldValueNotSupported': return `${e.field}: Unsupported value: ${v}${e.detail ? `: ${e.detail}` : ''}`;
    case 'FieldValueTooLong': return `${e.field}: Too long: ${e.detail ?? ''}`;
    case 'FieldValueTypeInvalid': return `${e.field}: Invalid value: ${v}${e.detail ? `: ${e.detail}` : ''}`;
    default: return `${e.field}: Invalid value: ${v}${e.detail ? `: ${e.detail}` : ''}`;
  }
}

/** 422: `The Service "x" is invalid: spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive`. */
export function invalid(kind: string, group: string, name: string, errs: FieldError[]): ApiError {
  const msgs = errs.map(fieldErrorMessage);
  const joined = msgs.length === 1 ? msgs[0] : `[${msgs.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${joined}`, {
    name, group: group || undefined, kind,
    causes: errs.map((e, i) => ({ reason: e.type, message: msgs[i].slice(e.field.length + 2), field: e.field })),
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

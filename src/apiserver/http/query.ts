/**
 * Query parameters as kube-apiserver reads them. Kubernetes converts url.Values into the options of
 * each verb (ListOptions, CreateOptions, UpdateOptions, PatchOptions, DeleteOptions) with the
 * generic runtime conversions, then validates the options (apimachinery meta/v1 validation):
 *
 * - booleans (watch, allowWatchBookmarks, sendInitialEvents, force, orphanDependents):
 *   runtime.Convert_Slice_string_To_bool — only `0` and `false` (any case) are false; any other
 *   value, the empty one included, is true. Never an error: `watch=True` (the official Python
 *   client) is a watch, and so is `watch=yes`.
 * - `pretty`: strconv.ParseBool (`1 t T TRUE true True` / `0 f F FALSE false False`); any other
 *   value means "not pretty", as in Kubernetes' isPrettyPrint.
 * - integers (limit, timeoutSeconds, gracePeriodSeconds): strconv.ParseInt(s, 10, 64); a bad one is
 *   400 BadRequest with Go's message: `strconv.ParseInt: parsing "abc": invalid syntax`.
 * - enumerations (dryRun, fieldValidation, propagationPolicy, resourceVersionMatch) and forbidden
 *   combinations are field errors of the options object: 422 Invalid, e.g.
 *   `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "x": supported values: "Foreground", "Background", "Orphan", "nil"`.
 *
 * Pure functions of the query (and a DELETE body); the handlers in rest.ts and watch.ts call them.
 */
import { badRequest, invalid, type FieldError } from '../../api/errors.js';
import type { DeleteOptions, ListOptions, PatchType, PropagationPolicy, WatchOptions, WriteOptions } from '../../api/requests.js';
import { forbidden, invalidField, notSupported, path, required, tooLong } from '../semantics/field.js';

/** The first value of `name`, or undefined when absent (Go reads values[0]). */
function first(q: URLSearchParams, name: string): string | undefined {
  return q.has(name) ? q.getAll(name)[0] : undefined;
}

/** runtime.Convert_Slice_string_To_bool: absent → undefined; `0`/`false` (any case) → false; anything else → true. */
export function boolParam(q: URLSearchParams, name: string): boolean | undefined {
  const v = first(q, name);
  if (v === undefined) return undefined;
  return !(v === '0' || v.toLowerCase() === 'false');
}

const PARSE_BOOL_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const PARSE_BOOL_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Go's strconv.ParseBool: true, false, or undefined for anything else (which Go reports as an error). */
export function parseGoBool(s: string): boolean | undefined {
  if (PARSE_BOOL_TRUE.has(s)) return true;
  if (PARSE_BOOL_FALSE.has(s)) return false;
  return undefined;
}

/** `pretty`: strconv.ParseBool, errors ignored (not pretty), as Kubernetes' isPrettyPrint. */
export function prettyParam(q: URLSearchParams): boolean {
  const v = first(q, 'pretty');
  return v !== undefined && v !== '' && parseGoBool(v) === true;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** strconv.ParseInt(s, 10, 64) as a JS number; 400 with Go's error text when `s` is not one. */
export function parseGoInt64(s: string): number {
  if (!/^[+-]?\d+$/.test(s)) throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = BigInt(s);
  if (n < INT64_MIN || n > INT64_MAX) throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(s)}: value out of range`);
  return Number(n);
}

/** An int64 parameter: absent → undefined, else strconv.ParseInt of its first value. */
export function int64Param(q: URLSearchParams, name: string): number | undefined {
  const v = first(q, name);
  return v === undefined ? undefined : parseGoInt64(v);
}

/** 422 `<Kind>.meta.k8s.io "" is invalid: ...` when `errs` is not empty (how every handler reports bad options). */
function check(kind: string, errs: FieldError[]): void {
  if (errs.length) throw invalid(kind, 'meta.k8s.io', '', errs);
}

/** ListOptions (list and deletecollection): selectors, limit/continue, resourceVersion(+Match); ValidateListOptions for a list. */
export function listOptions(q: URLSearchParams): ListOptions {
  const o: ListOptions = {};
  const ls = q.get('labelSelector'); if (ls) o.labelSelector = ls;
  const fs = q.get('fieldSelector'); if (fs) o.fieldSelector = fs;
  // Kubernetes pages only for limit > 0; zero or negative means "everything".
  const limit = int64Param(q, 'limit');
  if (limit !== undefined && limit > 0) o.limit = limit;
  const c = q.get('continue'); if (c) o.continue = c;
  const rv = q.get('resourceVersion'); if (rv) o.resourceVersion = rv;
  const errs: FieldError[] = [];
  const match = q.get('resourceVersionMatch') ?? '';
  const p = path('resourceVersionMatch');
  if (match) {
    if (!rv) errs.push(forbidden(p, 'resourceVersionMatch is forbidden unless resourceVersion is provided'));
    if (c) errs.push(forbidden(p, 'resourceVersionMatch is forbidden when continue is provided'));
    if (match !== 'Exact' && match !== 'NotOlderThan') errs.push(notSupported(p, match, ['Exact', 'NotOlderThan', '']));
    if (match === 'Exact' && rv === '0') errs.push(forbidden(p, 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'));
  }
  if (boolParam(q, 'sendInitialEvents') !== undefined) errs.push(forbidden(path('sendInitialEvents'), 'sendInitialEvents is forbidden for list'));
  check('ListOptions', errs);
  return o;
}

/**
 * ListOptions of a watch: selectors (a named watch adds a metadata.name field selector),
 * resourceVersion (unset means "" — ADDED for the current state first), allowWatchBookmarks,
 * timeoutSeconds, and the watch-list protocol (sendInitialEvents + resourceVersionMatch=NotOlderThan).
 */
export function watchOptions(q: URLSearchParams, name?: string): WatchOptions {
  const o: WatchOptions = {};
  const ls = q.get('labelSelector'); if (ls) o.labelSelector = ls;
  const fs = [q.get('fieldSelector'), name !== undefined ? `metadata.name=${name}` : undefined].filter(Boolean);
  if (fs.length) o.fieldSelector = fs.join(',');
  o.resourceVersion = q.get('resourceVersion') ?? '';
  if (boolParam(q, 'allowWatchBookmarks')) o.allowWatchBookmarks = true;
  const ts = int64Param(q, 'timeoutSeconds');
  // A negative timeout ends the watch at once, as Kubernetes' timer would.
  if (ts !== undefined) o.timeoutSeconds = Math.max(ts, 0);
  const send = boolParam(q, 'sendInitialEvents');
  const match = q.get('resourceVersionMatch') ?? '';
  const errs: FieldError[] = [];
  const p = path('resourceVersionMatch');
  if (send !== undefined && match !== 'NotOlderThan') errs.push(forbidden(p, 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan'));
  if (match) {
    if (send === undefined) errs.push(forbidden(p, 'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided'));
    if (match !== 'NotOlderThan') errs.push(notSupported(p, match, ['NotOlderThan']));
    if (q.get('continue')) errs.push(forbidden(p, 'resourceVersionMatch is forbidden when continue is provided'));
  }
  check('ListOptions', errs);
  if (send !== undefined) o.sendInitialEvents = send;
  return o;
}

const DRY_RUN_VALUES = ['All'];
const FIELD_VALIDATION_VALUES = ['', 'Ignore', 'Strict', 'Warn'];
const FIELD_MANAGER_MAX_LENGTH = 128;

/** The checks every write's options share: fieldManager, dryRun, fieldValidation (ValidateCreateOptions & co). */
function writeOptionErrors(fieldManager: string, dryRun: string[], fieldValidation: string): FieldError[] {
  const errs: FieldError[] = [];
  if (fieldManager.length > FIELD_MANAGER_MAX_LENGTH) errs.push(tooLong(path('fieldManager'), FIELD_MANAGER_MAX_LENGTH));
  // Go ranges over the UTF-8 bytes: the position is a byte offset.
  let at = 0;
  for (const ch of fieldManager) {
    if (!isGoPrintable(ch)) errs.push(invalidField(path('fieldManager'), fieldManager, `invalid character ${unicodeName(ch)} (at position ${at})`));
    at += Buffer.byteLength(ch);
  }
  if (dryRun.some((d) => !DRY_RUN_VALUES.includes(d))) errs.push(notSupported(path('dryRun'), dryRun, DRY_RUN_VALUES));
  if (!FIELD_VALIDATION_VALUES.includes(fieldValidation)) errs.push(notSupported(path('fieldValidation'), fieldValidation, FIELD_VALIDATION_VALUES));
  return errs;
}

/** Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
function isGoPrintable(ch: string): boolean {
  return ch === ' ' || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch);
}

/** Go's %#U of a character that is not printable: `U+0009`. */
function unicodeName(ch: string): string {
  return `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

function toWriteOptions(fieldManager: string, dryRun: string[], fieldValidation: string): WriteOptions {
  const o: WriteOptions = {};
  if (dryRun.length) o.dryRun = 'All';
  if (fieldManager) o.fieldManager = fieldManager;
  if (fieldValidation) o.fieldValidation = fieldValidation as WriteOptions['fieldValidation'];
  return o;
}

/** CreateOptions / UpdateOptions from the query (422 with Kubernetes' wording when invalid). */
export function writeOptions(q: URLSearchParams, kind: 'CreateOptions' | 'UpdateOptions'): WriteOptions {
  const fm = q.get('fieldManager') ?? '';
  const dry = q.getAll('dryRun');
  const fv = q.get('fieldValidation') ?? '';
  check(kind, writeOptionErrors(fm, dry, fv));
  return toWriteOptions(fm, dry, fv);
}

/** PatchOptions: as CreateOptions, plus `force` (apply patches only) and a fieldManager required for apply. */
export function patchOptions(q: URLSearchParams, type: PatchType): WriteOptions & { force?: boolean } {
  const fm = q.get('fieldManager') ?? '';
  const dry = q.getAll('dryRun');
  const fv = q.get('fieldValidation') ?? '';
  const force = boolParam(q, 'force');
  const errs: FieldError[] = [];
  if (type !== 'application/apply-patch+yaml') {
    if (force !== undefined) errs.push(forbidden(path('force'), 'may not be specified for non-apply patch'));
  } else if (!fm) {
    errs.push(required(path('fieldManager'), 'is required for apply patch'));
  }
  errs.push(...writeOptionErrors(fm, dry, fv));
  check('PatchOptions', errs);
  return { ...toWriteOptions(fm, dry, fv), ...(force !== undefined ? { force } : {}) };
}

const PROPAGATION: readonly string[] = ['Foreground', 'Background', 'Orphan'];

/** 400 for a DELETE body field of the wrong JSON type, in the decoder's words. */
function undecodable(got: string, field: string, goType: string) {
  return badRequest(`DeleteOptions in version "v1" cannot be handled as a DeleteOptions: json: cannot unmarshal ${got} into Go struct field DeleteOptions.${field} of type ${goType}`);
}

type JsonType = { string: string; boolean: boolean; number: number; array: unknown[] };

/** A DeleteOptions body field of the given JSON type; null and absent are unset; any other type is 400. */
function bodyField<K extends keyof JsonType>(b: Record<string, unknown>, field: string, type: K, goType: string): JsonType[K] | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  const got = Array.isArray(v) ? 'array' : typeof v === 'object' ? 'object' : typeof v;
  if (got !== type) throw undecodable(got, field, goType);
  return v as JsonType[K];
}

/**
 * DeleteOptions from a DELETE body (already decoded; may be undefined) and the query (query values
 * win), then ValidateDeleteOptions: propagationPolicy, orphanDependents with propagationPolicy,
 * dryRun. gracePeriodSeconds: int64 (a negative one means 1 second, decided by the registry).
 */
export function deleteOptions(body: Record<string, unknown> | undefined, q: URLSearchParams): DeleteOptions {
  const b = body ?? {};
  const errs: FieldError[] = [];
  let propagation = bodyField(b, 'propagationPolicy', 'string', 'v1.DeletionPropagation');
  let orphan = bodyField(b, 'orphanDependents', 'boolean', 'bool');
  let grace = bodyField(b, 'gracePeriodSeconds', 'number', 'int64');
  if (grace !== undefined && !Number.isInteger(grace)) throw undecodable('number', 'gracePeriodSeconds', 'int64');
  let dryRun = bodyField(b, 'dryRun', 'array', '[]string')?.map(String) ?? [];
  const pp = first(q, 'propagationPolicy'); if (pp !== undefined) propagation = pp;
  const od = boolParam(q, 'orphanDependents'); if (od !== undefined) orphan = od;
  const gp = int64Param(q, 'gracePeriodSeconds'); if (gp !== undefined) grace = gp;
  if (q.has('dryRun')) dryRun = q.getAll('dryRun');
  if (orphan !== undefined && propagation !== undefined) {
    errs.push(invalidField(path('propagationPolicy'), propagation, 'orphanDependents and deletionPropagation cannot be both set'));
  }
  if (propagation !== undefined && !PROPAGATION.includes(propagation)) {
    errs.push(notSupported(path('propagationPolicy'), propagation, [...PROPAGATION, 'nil']));
  }
  if (dryRun.some((d) => !DRY_RUN_VALUES.includes(d))) errs.push(notSupported(path('dryRun'), dryRun, DRY_RUN_VALUES));
  check('DeleteOptions', errs);
  const o: DeleteOptions = {};
  // The deprecated orphanDependents is a propagation policy of its own.
  const policy = propagation ?? (orphan === undefined ? undefined : orphan ? 'Orphan' : 'Background');
  if (policy !== undefined) o.propagationPolicy = policy as PropagationPolicy;
  if (grace !== undefined) o.gracePeriodSeconds = grace;
  if (b.preconditions !== undefined && b.preconditions !== null) o.preconditions = b.preconditions as DeleteOptions['preconditions'];
  if (dryRun.length) o.dryRun = 'All';
  return o;
}

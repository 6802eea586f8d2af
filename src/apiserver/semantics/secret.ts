/**
 * Secrets and ServiceAccounts (pkg/apis/core/validation ValidateSecret / ValidateSecretUpdate,
 * ValidateServiceAccount) with Kubernetes' wording, and the Secret's decoding rules: `data` values
 * are base64 (a value that is not is a 400 from the decoder, before any validation) and
 * `stringData` is merged into `data` on the way in (it is never stored).
 */
import type { FieldError } from '../../api/errors.js';
import { badRequest } from '../../api/errors.js';
import type { Secret } from 'kubernetes-types/core/v1.js';
import { eachInvalid, forbidden, invalidField, path, required, tooLong } from './field.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { isConfigMapKey, nameIsDNSSubdomain } from './namevalidation.js';

/** core.MaxSecretSize: the decoded bytes of all `data` values together. */
export const MAX_SECRET_SIZE = 1024 * 1024;

/** Well-known Secret types and the keys they require (core/v1 types.go). */
export const SECRET_TYPES = {
  opaque: 'Opaque',
  serviceAccountToken: 'kubernetes.io/service-account-token',
  dockercfg: 'kubernetes.io/dockercfg',
  dockerConfigJson: 'kubernetes.io/dockerconfigjson',
  basicAuth: 'kubernetes.io/basic-auth',
  sshAuth: 'kubernetes.io/ssh-auth',
  tls: 'kubernetes.io/tls',
  bootstrapToken: 'bootstrap.kubernetes.io/token',
} as const;

/** Annotation naming the ServiceAccount a legacy token Secret belongs to. */
export const SERVICE_ACCOUNT_NAME_ANNOTATION = 'kubernetes.io/service-account.name';
/** Annotation with that ServiceAccount's uid (filled by the token controller). */
export const SERVICE_ACCOUNT_UID_ANNOTATION = 'kubernetes.io/service-account.uid';

const STD_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Length in bytes of a standard (padded) base64 string, or the offset Go's decoder reports as
 * `illegal base64 data at input byte N` when it is not one.
 */
export function base64Length(s: string): { bytes: number } | { illegalAt: number } {
  if (s.length % 4 !== 0 || !STD_BASE64.test(s)) {
    for (let i = 0; i < s.length; i++) {
      const c = s[i]!;
      if (c === '=') {
        // Padding only in the last two positions of a full quantum.
        const rest = s.slice(i);
        if (!/^={1,2}$/.test(rest) || s.length % 4 !== 0) return { illegalAt: i };
        break;
      }
      if (!/[A-Za-z0-9+/]/.test(c)) return { illegalAt: i };
    }
    // Only the length is wrong: Go reports the end of the last full quantum.
    return { illegalAt: s.length - (s.length % 4) };
  }
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  return { bytes: (s.length / 4) * 3 - pad };
}

/**
 * What the decoder does to a Secret before anything else: every `data` value must be base64
 * (400 `Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte N`),
 * then `stringData` is written over `data` (as UTF-8, base64-encoded) and dropped. Mutates `obj`.
 */
export function decodeSecret(obj: Record<string, unknown>): void {
  const data = obj.data;
  if (data && typeof data === 'object' && !Array.isArray(data)) {
    for (const v of Object.values(data as Record<string, unknown>)) {
      if (typeof v !== 'string') continue; // the type check words that one
      const r = base64Length(v);
      if ('illegalAt' in r) throw badRequest(`Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte ${r.illegalAt}`);
    }
  }
  const sd = obj.stringData;
  if (sd && typeof sd === 'object' && !Array.isArray(sd)) {
    const merged: Record<string, unknown> = data && typeof data === 'object' && !Array.isArray(data) ? { ...(data as Record<string, unknown>) } : {};
    for (const [k, v] of Object.entries(sd as Record<string, unknown>)) {
      if (typeof v !== 'string') throw badRequest(`Secret in version "v1" cannot be handled as a Secret: json: cannot unmarshal ${Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v === 'object' ? 'object' : typeof v === 'boolean' ? 'bool' : typeof v} into Go struct field Secret.stringData of type string`);
      merged[k] = Buffer.from(v, 'utf8').toString('base64');
    }
    obj.data = merged;
  }
  delete obj.stringData;
}

/** SetDefaults_Secret: the type defaults to Opaque. */
export function defaultSecret(s: Secret): void {
  if (!s.type) (s as { type?: string }).type = SECRET_TYPES.opaque;
}

/** The error text Go's json.Unmarshal gives for `text` decoded into a map (the common cases). */
export function goJsonMapError(text: string): string | undefined {
  const t = text.trim();
  if (t === '') return 'unexpected end of JSON input';
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch {
    const first = t[0]!;
    if (!'{["-0123456789tfn'.includes(first)) return `invalid character '${first}' looking for beginning of value`;
    return 'unexpected end of JSON input';
  }
  if (v === null) return undefined; // null decodes into a map as nil
  if (typeof v !== 'object' || Array.isArray(v)) {
    const what = Array.isArray(v) ? 'array' : typeof v === 'boolean' ? 'bool' : typeof v === 'number' ? 'number' : 'string';
    return `json: cannot unmarshal ${what} into Go value of type map[string]interface {}`;
  }
  return undefined;
}

function decoded(s: Secret, key: string): string | undefined {
  const v = s.data?.[key];
  return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
}

/** ValidateSecret. */
export function validateSecret(s: Secret): FieldError[] {
  const errs = validateObjectMeta(s.metadata, true, nameIsDNSSubdomain, path('metadata'));
  const dataPath = path('data');
  let total = 0;
  for (const k of Object.keys(s.data ?? {}).sort()) {
    errs.push(...eachInvalid(dataPath.key(k), k, isConfigMapKey(k)));
    const r = base64Length(String(s.data![k] ?? ''));
    total += 'bytes' in r ? r.bytes : 0;
  }
  if (total > MAX_SECRET_SIZE) errs.push(tooLong(dataPath, MAX_SECRET_SIZE));
  const has = (k: string): boolean => s.data !== undefined && k in s.data;
  switch (s.type) {
    case SECRET_TYPES.serviceAccountToken:
      if (!s.metadata?.annotations?.[SERVICE_ACCOUNT_NAME_ANNOTATION]) {
        errs.push(required(path('metadata', 'annotations').key(SERVICE_ACCOUNT_NAME_ANNOTATION)));
      }
      break;
    case SECRET_TYPES.dockercfg:
    case SECRET_TYPES.dockerConfigJson: {
      const key = s.type === SECRET_TYPES.dockercfg ? '.dockercfg' : '.dockerconfigjson';
      if (!has(key)) { errs.push(required(dataPath.key(key))); break; }
      const e = goJsonMapError(decoded(s, key) ?? '');
      if (e) errs.push(invalidField(dataPath.key(key), '<secret contents redacted>', e));
      break;
    }
    case SECRET_TYPES.basicAuth:
      // Kubernetes writes these two paths with a literal "[%s]" (NewPath("data[%s]").Key(...)).
      if (!has('username') && !has('password')) {
        errs.push(required(path('data[%s]').key('username')), required(path('data[%s]').key('password')));
      }
      break;
    case SECRET_TYPES.sshAuth:
      if (!decoded(s, 'ssh-privatekey')) errs.push(required(path('data[%s]').key('ssh-privatekey')));
      break;
    case SECRET_TYPES.tls:
      if (!has('tls.crt')) errs.push(required(dataPath.key('tls.crt')));
      if (!has('tls.key')) errs.push(required(dataPath.key('tls.key')));
      break;
    default:
  }
  return errs;
}

/** ValidateSecretUpdate: type immutable; an `immutable` Secret keeps its data and the flag. */
export function validateSecretUpdate(s: Secret, old: Secret): FieldError[] {
  const errs = validateObjectMetaUpdate(s.metadata, old.metadata, path('metadata'));
  if ((s.type ?? '') !== (old.type ?? '')) errs.push(invalidField(path('type'), s.type ?? '', 'field is immutable'));
  if (old.immutable) {
    if (!s.immutable) errs.push(forbidden(path('immutable'), 'field is immutable when `immutable` is set'));
    if (JSON.stringify(sorted(s.data)) !== JSON.stringify(sorted(old.data))) errs.push(forbidden(path('data'), 'field is immutable when `immutable` is set'));
  }
  errs.push(...validateSecret(s));
  return errs;
}

function sorted(m: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.keys(m ?? {}).sort().map((k) => [k, m![k]!]));
}

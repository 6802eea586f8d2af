/**
 * Impersonation (k8s.io/apiserver's WithImpersonation filter): `kubectl --as=<user> --as-group=<g>`
 * sends Impersonate-User / Impersonate-Group / Impersonate-Uid / Impersonate-Extra-<key> headers;
 * the request then runs as that user, if the real user may `impersonate` each part (users, groups,
 * serviceaccounts in their namespace, uids and userextras in authentication.k8s.io). The admin is
 * in system:masters, so `kubectl auth can-i list pods --as=system:serviceaccount:default:default`
 * works out of the box.
 */
import type { IncomingMessage } from 'node:http';
import { badRequest, type ApiError } from '../../api/errors.js';
import { forbiddenError, type Attributes } from './attributes.js';
import type { Authorizer } from './authorizer.js';
import { ALL_AUTHENTICATED, ALL_UNAUTHENTICATED, parseServiceAccountUsername, serviceAccountGroups, type UserInfo } from './user.js';

const EXTRA_PREFIX = 'impersonate-extra-';

function values(req: IncomingMessage, name: string): string[] {
  const all: string[] = [];
  const raw = req.headersDistinct?.[name];
  for (const v of raw ?? []) all.push(v);
  return all;
}

/** Whether any header name starts with Impersonate- (any case). */
function asksImpersonation(req: IncomingMessage): boolean {
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const h = raw[i]!;
    if (h.length >= 12 && (h.charCodeAt(0) | 0x20) === 0x69 /* i */ && h.slice(0, 12).toLowerCase() === 'impersonate-') return true;
  }
  return false;
}

function check(authorizer: Authorizer, real: UserInfo, a: Omit<Attributes, 'user' | 'verb' | 'resourceRequest' | 'path' | 'apiVersion'>): ApiError | undefined {
  const attrs: Attributes = { ...a, user: real, verb: 'impersonate', resourceRequest: true, path: '', apiVersion: '' };
  const d = authorizer.authorize(attrs);
  return d.decision === 'allow' ? undefined : forbiddenError(attrs, d.reason);
}

/**
 * The user a request acts as: `real` when it asks for no impersonation, the impersonated user when
 * `real` may be them. Throws 400 for impersonation headers without Impersonate-User, 403 when a part
 * is not allowed.
 */
export function impersonatedUser(req: IncomingMessage, real: UserInfo, authorizer: Authorizer): UserInfo {
  // Nearly every request asks for no impersonation: tell from the raw header names, without building
  // `headersDistinct` (an object of every header, made on first use).
  if (!asksImpersonation(req)) return real;
  const users = values(req, 'impersonate-user');
  const groups = values(req, 'impersonate-group');
  const uids = values(req, 'impersonate-uid');
  const extra: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(req.headersDistinct ?? {})) {
    if (k.startsWith(EXTRA_PREFIX) && v) extra[decodeURIComponent(k.slice(EXTRA_PREFIX.length)).toLowerCase()] = [...v];
  }
  if (!users.length) {
    if (groups.length || uids.length || Object.keys(extra).length) {
      throw badRequest(`requested [${[...groups.map((g) => `{Group  ${g}}`), ...uids.map((u) => `{UID  ${u}}`)].join(' ')}] without impersonating a user`);
    }
    return real;
  }
  const name = users[0]!;
  const sa = parseServiceAccountUsername(name);
  const userErr = sa
    ? check(authorizer, real, { apiGroup: '', resource: 'serviceaccounts', subresource: '', namespace: sa.namespace, name: sa.name })
    : check(authorizer, real, { apiGroup: '', resource: 'users', subresource: '', namespace: '', name });
  if (userErr) throw userErr;
  for (const g of groups) {
    const e = check(authorizer, real, { apiGroup: '', resource: 'groups', subresource: '', namespace: '', name: g });
    if (e) throw e;
  }
  for (const u of uids) {
    const e = check(authorizer, real, { apiGroup: 'authentication.k8s.io', resource: 'uids', subresource: '', namespace: '', name: u });
    if (e) throw e;
  }
  for (const [k, vs] of Object.entries(extra)) {
    for (const v of vs) {
      const e = check(authorizer, real, { apiGroup: 'authentication.k8s.io', resource: 'userextras', subresource: k, namespace: '', name: v });
      if (e) throw e;
    }
  }
  const out: UserInfo = { name, groups: groups.length ? [...groups] : sa ? serviceAccountGroups(sa.namespace).filter((g) => g !== ALL_AUTHENTICATED) : [] };
  if (uids[0]) out.uid = uids[0];
  if (Object.keys(extra).length) out.extra = extra;
  // A non-anonymous user is authenticated, unless system:unauthenticated was asked for.
  if (name !== 'system:anonymous' && !out.groups.includes(ALL_AUTHENTICATED) && !out.groups.includes(ALL_UNAUTHENTICATED)) out.groups.push(ALL_AUTHENTICATED);
  return out;
}

/**
 * What a request asks to do, in authorization terms (k8s.io/apiserver's RequestInfoFactory and
 * authorizer.Attributes), read from the method, path and query alone — before routing, so an
 * unknown resource is a 403 for someone who may not see it, as in Kubernetes — and the 403 a denied
 * request gets, in kube-apiserver's words (responsewriters.Forbidden).
 */
import { ApiError } from '../../api/errors.js';
import { parseFieldSelector } from '../../api/selectors.js';
import type { UserInfo } from './user.js';

/** authorizer.Attributes: a resource request (verb on group/resource/subresource in a namespace) or a path. */
export interface Attributes {
  user: UserInfo;
  /** RBAC verb: get list watch create update patch delete deletecollection (resources); get post put ... (paths). */
  verb: string;
  resourceRequest: boolean;
  /** Request path (non-resource requests are authorized by it). */
  path: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
}

/** Subresources whose requests are streams: a WebSocket GET needs `create` like the POST (KEP-4006). */
const STREAM_SUBRESOURCES = new Set(['exec', 'attach', 'portforward']);
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

function isValidPathSegmentName(name: string): boolean {
  return name !== '.' && name !== '..' && !name.includes('/') && !name.includes('%');
}

/**
 * RequestInfoFactory.NewRequestInfo: /api/{version}/... and /apis/{group}/{version}/... are resource
 * requests; everything else (/api, /apis/apps/v1, /version, /healthz, /openapi/v2) is a path.
 */
export function requestAttributes(user: UserInfo, method: string, pathname: string, query: URLSearchParams): Attributes {
  const m = method.toUpperCase();
  const a: Attributes = {
    user, verb: m.toLowerCase(), resourceRequest: false, path: pathname,
    apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '',
  };
  let parts: string[];
  try { parts = pathname.split('/').filter((p) => p !== '').map((p) => decodeURIComponent(p)); } catch { return a; }
  if (parts.length < 3 || (parts[0] !== 'api' && parts[0] !== 'apis')) return a;
  let rest = parts.slice(1);
  let group = '';
  if (parts[0] === 'apis') {
    if (rest.length < 3) return a;
    group = rest[0]!;
    rest = rest.slice(1);
  }
  const version = rest[0]!;
  rest = rest.slice(1);
  let verb: string;
  if (rest[0] === 'watch' || rest[0] === 'proxy') {
    if (rest.length < 2) return a;
    verb = rest[0];
    rest = rest.slice(1);
  } else {
    verb = m === 'POST' ? 'create' : m === 'GET' || m === 'HEAD' ? 'get' : m === 'PUT' ? 'update' : m === 'PATCH' ? 'patch' : m === 'DELETE' ? 'delete' : '';
  }
  let namespace = '';
  if (rest[0] === 'namespaces') {
    if (rest.length > 1) {
      namespace = rest[1]!;
      if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2]!)) rest = rest.slice(2);
    }
  }
  const resource = rest[0] ?? '';
  let name = rest[1] ?? '';
  const subresource = rest.length >= 3 && verb !== 'proxy' ? rest[2]! : '';
  if (!name && verb === 'get') {
    const w = query.get('watch');
    verb = w !== null && !(w === '0' || w.toLowerCase() === 'false') ? 'watch' : 'list';
    const fs = query.get('fieldSelector');
    if (fs) {
      try {
        const exact = parseFieldSelector(fs).requirements.filter((r) => r.field === 'metadata.name' && r.op === '=');
        if (exact.length === 1 && isValidPathSegmentName(exact[0]!.value)) name = exact[0]!.value;
      } catch { /* a bad selector is the handler's 400; authorization sees a plain list */ }
    }
  }
  if (!name && verb === 'delete') verb = 'deletecollection';
  if (STREAM_SUBRESOURCES.has(subresource) && verb === 'get') verb = 'create';
  return { user, verb, resourceRequest: true, path: pathname, apiGroup: group, apiVersion: version, resource, subresource, namespace, name };
}

/** responsewriters' forbiddenMessage: `User "u" cannot list resource "pods" in API group "" in the namespace "default"`. */
export function forbiddenMessage(a: Attributes): string {
  const user = JSON.stringify(a.user.name);
  if (!a.resourceRequest) return `User ${user} cannot ${a.verb} path ${JSON.stringify(a.path)}`;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const where = a.namespace ? `in the namespace ${JSON.stringify(a.namespace)}` : 'at the cluster scope';
  return `User ${user} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.apiGroup)} ${where}`;
}

/**
 * The 403 of a denied request, as kube-apiserver writes it: errors.NewForbidden over the request's
 * group/resource and name, with the authorizers' reason appended (`...: RBAC: role... not found`).
 */
export function forbiddenError(a: Attributes, reason = ''): ApiError {
  const msg = (reason ? `${forbiddenMessage(a)}: ${reason}` : forbiddenMessage(a)).replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
  return forbiddenFor({ group: a.apiGroup, resource: a.resource }, a.name, msg);
}

/** errors.NewForbidden(qualifiedResource, name, err). */
export function forbiddenFor(gr: { group: string; resource: string }, name: string, err: string): ApiError {
  const qualified = gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
  const message = !gr.resource && !gr.group ? `forbidden: ${err}`
    : name ? `${qualified} ${JSON.stringify(name)} is forbidden: ${err}` : `${qualified} is forbidden: ${err}`;
  return new ApiError(403, 'Forbidden', message, { name: name || undefined, group: gr.group || undefined, kind: gr.resource || undefined });
}

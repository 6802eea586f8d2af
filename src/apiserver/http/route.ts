/**
 * URL → REST request parsing for every resource of the catalog (src/api/resources.ts). Pure: no I/O,
 * so the whole URL grammar is unit-tested without a server.
 *
 * Grammar (as kube-apiserver serves it):
 *   /api/v1[/watch][/namespaces/{ns}]/{plural}[/{name}[/{subresource}]]
 *   /apis/{group}/{version}[/watch][/namespaces/{ns}]/{plural}[/{name}[/{subresource}]]
 *   /api/v1/namespaces/{name}[/status|/finalize]       (the Namespace object itself)
 */
import { resourceByPlural, verbsOf, type ResourceInfo } from '../../api/resources.js';
import { ApiError, badRequest, methodNotAllowed } from '../../api/errors.js';

/** The REST verb a request maps to (Kubernetes' RBAC verb names, plus the streaming subresources). */
export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection'
  | 'log' | 'exec' | 'attach' | 'portforward';

/** A parsed resource request. */
export interface ResourceRoute {
  res: ResourceInfo;
  verb: Verb;
  /** Namespace from the URL; undefined for cluster-scoped resources and all-namespace lists. */
  namespace?: string;
  name?: string;
  subresource?: string;
}

/** 404 for a URL that names no served resource (Kubernetes' wording). */
export function notFoundPath(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
}

const STREAMING = new Set(['log', 'exec', 'attach', 'portforward']);
/** Subresources created with a POST to the named object (pods/NAME/binding, serviceaccounts/NAME/token). */
const POSTED_SUBRESOURCES = new Set(['binding', 'eviction', 'token']);
/** The verbs of each non-streaming subresource, as kube-apiserver installs them. */
const SUBRESOURCE_VERBS: Record<string, readonly Verb[]> = {
  status: ['get', 'update', 'patch'], scale: ['get', 'update', 'patch'], finalize: ['update'],
  binding: ['create'], eviction: ['create'], token: ['create'], ephemeralcontainers: ['get', 'update', 'patch'],
};

/**
 * Parses `pathname` (no query) + method into a ResourceRoute. Returns undefined when the path is not
 * under /api or /apis resource space (discovery documents, /version, ... are served elsewhere).
 * Throws ApiError 404 for an unknown resource/subresource, 405 for a verb the path does not allow.
 * `watchParam` is the `?watch=` query flag: it turns a GET of a collection into a watch (a GET of a
 * named object stays a get, as in Kubernetes' RequestInfo; the /watch/ prefix watches one object).
 */
export function parseResourcePath(method: string, pathname: string, watchParam = false,
  lookup: (group: string, version: string, plural: string) => ResourceInfo | undefined = resourceByPlural): ResourceRoute | undefined {
  let parts: string[];
  try { parts = pathname.split('/').filter((p) => p !== '').map((p) => decodeURIComponent(p)); } catch {
    throw badRequest(`invalid URL escape in path ${JSON.stringify(pathname)}`);
  }
  let group: string; let version: string; let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) { group = ''; version = parts[1]; rest = parts.slice(2); }
  else if (parts[0] === 'apis' && parts.length >= 4) { group = parts[1]; version = parts[2]; rest = parts.slice(3); }
  else return undefined;

  let watchPrefix = false;
  if (rest[0] === 'watch') { watchPrefix = true; rest = rest.slice(1); }
  if (rest.length === 0) throw notFoundPath();

  let namespace: string | undefined;
  let plural: string; let name: string | undefined; let subresource: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3 && !(group === '' && rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))) {
    // /namespaces/{ns}/{plural}[/{name}[/{sub}]]
    namespace = rest[1]; plural = rest[2]; name = rest[3]; subresource = rest[4];
    if (rest.length > 5) throw notFoundPath();
  } else {
    plural = rest[0]; name = rest[1]; subresource = rest[2];
    if (rest.length > 3) throw notFoundPath();
  }
  const res = lookup(group, version, plural);
  if (!res) throw notFoundPath();
  if (namespace !== undefined && !res.namespaced) throw notFoundPath();
  if (subresource !== undefined && !res.subresources.includes(subresource)) throw notFoundPath();
  // A named namespaced object needs a namespace in the URL.
  if (res.namespaced && namespace === undefined && name !== undefined) throw notFoundPath();
  if (name === '') throw notFoundPath();

  const m = method.toUpperCase();
  const watch = watchPrefix || (watchParam && name === undefined);
  let verb: Verb;
  if (subresource && STREAMING.has(subresource)) {
    // exec/attach/portforward: GET (WebSocket upgrade) or POST (SPDY); log: GET.
    if (m !== 'GET' && !(m === 'POST' && subresource !== 'log')) throw methodNotAllowed();
    verb = subresource as Verb;
  } else if (m === 'GET' || m === 'HEAD') {
    verb = watch ? 'watch' : name === undefined ? 'list' : 'get';
  } else if (watchPrefix) {
    throw methodNotAllowed();
  } else if (m === 'POST') {
    if (name !== undefined && !POSTED_SUBRESOURCES.has(subresource ?? '')) throw methodNotAllowed();
    verb = 'create';
  } else if (m === 'PUT') {
    if (name === undefined) throw methodNotAllowed();
    verb = 'update';
  } else if (m === 'PATCH') {
    if (name === undefined) throw methodNotAllowed();
    verb = 'patch';
  } else if (m === 'DELETE') {
    if (subresource) throw methodNotAllowed();
    verb = name === undefined ? 'deletecollection' : 'delete';
  } else {
    throw methodNotAllowed();
  }
  // Review kinds serve only create, metrics.k8s.io only get and list: every kind only the verbs the catalog lists; each
  // subresource only its own verbs (a GET of serviceaccounts/NAME/token is 405, not the account).
  if (!subresource && !verbsOf(res).includes(verb)) throw methodNotAllowed();
  if (subresource && !STREAMING.has(subresource) && !(SUBRESOURCE_VERBS[subresource] ?? []).includes(verb)) throw methodNotAllowed();
  return { res, verb, namespace, name, subresource };
}

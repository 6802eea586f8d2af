/**
 * /openapi/v3: the index of group versions and one OpenAPI 3.0 document per group version, shaped
 * like kube-apiserver's. kubectl reads them for `apply --validate=strict` (the PATCH operation of a
 * kind must declare the `fieldValidation` query parameter, else kubectl validates client-side) and for
 * `kubectl explain` (component schemas with descriptions).
 */
import { createHash } from 'node:crypto';
import type { ResourceInfo } from '../../api/resources.js';
import { BUILTIN_CATALOG, type ResourceCatalog } from '../catalog.js';
import { customDefinitionName, customSchemas } from './custom.js';
import { definitionName, schemaClosure, SCHEMAS, V3_REF_PREFIX, type Schema } from './schemas.js';

/** The Kubernetes version the documents claim (kubectl does not check it; humans reading them do). */
export const OPENAPI_INFO = { title: 'Kubernetes', version: 'v1.32.0' } as const;

/** OpenAPI path-relative key of a group version: "api/v1" or "apis/apps/v1". */
export function groupVersionPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

interface Param { name: string; in: 'query' | 'path'; description: string; required?: boolean; schema: Schema }

const q = (name: string, description: string, type = 'string', extra: Schema = {}): Param =>
  ({ name, in: 'query', description, schema: { type, uniqueItems: true, ...extra } as Schema });

// Descriptions are Kubernetes' own parameter documentation (abridged where it runs to pages).
const P = {
  dryRun: q('dryRun', 'When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed'),
  fieldManager: q('fieldManager', 'fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.'),
  fieldValidation: q('fieldValidation', 'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.'),
  force: q('force', 'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.', 'boolean'),
  pretty: q('pretty', "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget)."),
  labelSelector: q('labelSelector', 'A selector to restrict the list of returned objects by their labels. Defaults to everything.'),
  fieldSelector: q('fieldSelector', 'A selector to restrict the list of returned objects by their fields. Defaults to everything.'),
  limit: q('limit', 'limit is a maximum number of responses to return for a list call.', 'integer'),
  cont: q('continue', 'The continue option should be set when retrieving more results from the server.'),
  resourceVersion: q('resourceVersion', 'resourceVersion sets a constraint on what resource versions a request may be served from.'),
  watch: q('watch', 'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion.', 'boolean'),
  timeoutSeconds: q('timeoutSeconds', 'Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity.', 'integer'),
  gracePeriodSeconds: q('gracePeriodSeconds', 'The duration in seconds before the object should be deleted. Value must be non-negative integer.', 'integer'),
  propagationPolicy: q('propagationPolicy', "Whether and how garbage collection will be performed. Either this field or OrphanDependents may be set, but not both. Acceptable values are: 'Orphan' - orphan the dependents; 'Background' - allow the garbage collector to delete the dependents in the background; 'Foreground' - a cascading policy that deletes all dependents in the foreground."),
  name: (kind: string): Param => ({ name: 'name', in: 'path', description: `name of the ${kind}`, required: true, schema: { type: 'string', uniqueItems: true } as Schema }),
  namespace: { name: 'namespace', in: 'path', description: 'object name and auth scope, such as for teams and projects', required: true, schema: { type: 'string', uniqueItems: true } as Schema } as Param,
};

const PATCH_TYPES = ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'];
const RESPONSE_TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];

const ref = (name: string): Schema => ({ $ref: `${V3_REF_PREFIX}${name}` });
function content(types: string[], schema: Schema): Record<string, { schema: Schema }> {
  return Object.fromEntries(types.map((t) => [t, { schema }]));
}
function ok(schema: Schema, codes = ['200']): Record<string, unknown> {
  const r: Record<string, unknown> = Object.fromEntries(codes.map((c) => [c, { description: c === '201' ? 'Created' : c === '202' ? 'Accepted' : 'OK', content: content(RESPONSE_TYPES, schema) }]));
  r['401'] = { description: 'Unauthorized' };
  return r;
}

/** "CoreV1" / "AppsV1" / "DiscoveryV1": the infix of Kubernetes' operationIds. */
function opInfix(group: string, version: string): string {
  const g = group === '' ? 'core' : group.split('.')[0]!;
  return `${g[0]!.toUpperCase()}${g.slice(1)}${version[0]!.toUpperCase()}${version.slice(1)}`;
}

type Gvk = { group: string; version: string; kind: string };

function op(action: string, opId: string, description: string, gvk: Gvk, params: Param[], response: Record<string, unknown>, body?: Schema, bodyTypes?: string[]): Record<string, unknown> {
  return {
    tags: [opInfix(gvk.group, gvk.version).replace(/V\d.*$/, (m) => `_${m.toLowerCase()}`).toLowerCase()],
    description, operationId: opId,
    ...(params.length ? { parameters: params } : {}),
    ...(body ? { requestBody: { content: content(bodyTypes ?? ['*/*'], body), required: true } } : {}),
    responses: response,
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk,
  };
}

/** The paths of one resource (collection, item, all-namespaces list, status, scale and ephemeralcontainers subresources). */
function resourcePaths(info: ResourceInfo, def: string): Record<string, unknown> {
  const base = info.group === '' ? `/api/${info.version}` : `/apis/${info.group}/${info.version}`;
  const gvk: Gvk = { group: info.group, version: info.version, kind: info.kind };
  const verbs = new Set(info.verbs ?? ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']);
  const ns = info.namespaced ? 'Namespaced' : '';
  const id = opInfix(info.group, info.version);
  const coll = info.namespaced ? `${base}/namespaces/{namespace}/${info.plural}` : `${base}/${info.plural}`;
  const nsParam = info.namespaced ? [P.namespace] : [];
  const listParams = [P.cont, P.fieldSelector, P.labelSelector, P.limit, P.resourceVersion, P.timeoutSeconds, P.watch];
  const writeParams = [P.dryRun, P.fieldManager, P.fieldValidation];
  const paths: Record<string, unknown> = {};
  if (info.review) {
    // A review kind: only POST (answered, never stored).
    paths[coll] = {
      post: op('post', `create${id}${ns}${info.kind}`, `create ${article(info.kind)} ${info.kind}`, gvk, writeParams, ok(ref(def), ['200', '201', '202']), ref(def)),
      parameters: [...nsParam, P.pretty],
    };
    return paths;
  }
  paths[coll] = {
    get: op('list', `list${id}${ns}${info.kind}`, `list or watch objects of kind ${info.kind}`, gvk, listParams, ok(ref(`${def}List`))),
    post: op('post', `create${id}${ns}${info.kind}`, `create ${article(info.kind)} ${info.kind}`, gvk, writeParams, ok(ref(def), ['200', '201', '202']), ref(def)),
    delete: op('deletecollection', `deleteCollection${id}${ns}${info.kind}`, `delete collection of ${info.kind}`, gvk,
      [...listParams.filter((p) => p !== P.watch), P.dryRun, P.gracePeriodSeconds, P.propagationPolicy], ok(ref('io.k8s.apimachinery.pkg.apis.meta.v1.Status')),
      ref('io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions')),
    parameters: [...nsParam, P.pretty],
  };
  const item = (path: string, what: string, sub: string, schema: string, g: Gvk): void => {
    what = what ? `${what} of` : '';
    const suffix = sub === 'status' ? 'Status' : sub === 'scale' ? 'Scale' : sub === 'ephemeralcontainers' ? 'Ephemeralcontainers' : '';
    paths[path] = {
      get: op('get', `read${id}${ns}${info.kind}${suffix}`, `read ${what}${what ? ' ' : ''}the specified ${info.kind}`, g, [], ok(ref(schema))),
      put: op('put', `replace${id}${ns}${info.kind}${suffix}`, `replace ${what}${what ? ' ' : ''}the specified ${info.kind}`, g, writeParams, ok(ref(schema), ['200', '201']), ref(schema)),
      patch: op('patch', `patch${id}${ns}${info.kind}${suffix}`, `partially update ${what}${what ? ' ' : ''}the specified ${info.kind}`, g,
        [...writeParams, P.force], ok(ref(schema), ['200', '201']), ref('io.k8s.apimachinery.pkg.apis.meta.v1.Patch'), PATCH_TYPES),
      ...(sub === '' ? {
        delete: op('delete', `delete${id}${ns}${info.kind}`, `delete ${article(info.kind)} ${info.kind}`, g,
          [P.dryRun, P.gracePeriodSeconds, P.propagationPolicy], ok(ref('io.k8s.apimachinery.pkg.apis.meta.v1.Status'), ['200', '202']),
          ref('io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions')),
      } : {}),
      parameters: [P.name(sub === '' ? info.kind : sub === 'scale' ? 'Scale' : info.kind), ...nsParam, P.pretty],
    };
  };
  item(`${coll}/{name}`, '', '', def, gvk);
  if (info.subresources.includes('status')) item(`${coll}/{name}/status`, 'status', 'status', def, gvk);
  if (info.subresources.includes('ephemeralcontainers')) item(`${coll}/{name}/ephemeralcontainers`, 'ephemeralcontainers', 'ephemeralcontainers', def, gvk);
  if (info.subresources.includes('scale')) {
    item(`${coll}/{name}/scale`, 'scale', 'scale', 'io.k8s.api.autoscaling.v1.Scale', { group: 'autoscaling', version: 'v1', kind: 'Scale' });
  }
  if (info.subresources.includes('eviction')) {
    paths[`${coll}/{name}/eviction`] = {
      post: op('post', `create${id}${ns}${info.kind}Eviction`, `create eviction of ${article(info.kind)} ${info.kind}`,
        { group: 'policy', version: 'v1', kind: 'Eviction' }, writeParams, ok(ref('io.k8s.api.policy.v1.Eviction'), ['200', '201', '202']), ref('io.k8s.api.policy.v1.Eviction')),
      parameters: [P.name('Eviction'), ...nsParam, P.pretty],
    };
  }
  if (info.subresources.includes('token')) {
    const tr = 'io.k8s.api.authentication.v1.TokenRequest';
    const trGvk = { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' };
    paths[`${coll}/{name}/token`] = {
      post: op('post', `create${id}${ns}${info.kind}Token`, `create token of ${article(info.kind)} ${info.kind}`, trGvk, writeParams, ok(ref(tr), ['200', '201', '202']), ref(tr)),
      parameters: [P.name('TokenRequest'), ...nsParam, P.pretty],
    };
  }
  if (info.namespaced) {
    paths[`${base}/${info.plural}`] = {
      get: op('list', `list${id}${info.kind}ForAllNamespaces`, `list or watch objects of kind ${info.kind}`, gvk, listParams, ok(ref(`${def}List`))),
      parameters: [P.pretty],
    };
  }
  // Read-only resources (metrics.k8s.io) publish only the operations of their verbs.
  if (info.verbs) {
    for (const item of Object.values(paths) as Record<string, Record<string, unknown> | undefined>[]) {
      for (const m of ['post', 'put', 'patch', 'delete']) {
        const verb = VERB_OF_ACTION[String(item[m]?.['x-kubernetes-action'])];
        if (verb && !verbs.has(verb)) delete item[m];
      }
    }
  }
  return paths;
}

const VERB_OF_ACTION: Record<string, string> = { post: 'create', put: 'update', patch: 'patch', delete: 'delete', deletecollection: 'deletecollection' };

function article(kind: string): string { return /^[AEIOU]/.test(kind) ? 'an' : 'a'; }

/** Group versions served, as OpenAPI paths ("api/v1", "apis/apps/v1", ...), in catalog order. */
export function servedGroupVersionPaths(catalog: ResourceCatalog = BUILTIN_CATALOG): string[] {
  return [...new Set(catalog.all().map((r) => groupVersionPath(r.group, r.version)))];
}

/** Built documents; an entry is reused while its group version serves the very same resources. */
const docCache = new WeakMap<ResourceCatalog, Map<string, { body: string; hash: string; inputs: readonly unknown[] }>>();

function build(gvPath: string, catalog: ResourceCatalog): { body: string; hash: string } | undefined {
  const resources = catalog.all().filter((r) => groupVersionPath(r.group, r.version) === gvPath);
  if (!resources.length) return undefined;
  // What the document depends on: the resources and, for custom ones, their CRD's version.
  const inputs = resources.flatMap((r) => [r, catalog.customOf(r)]);
  let byPath = docCache.get(catalog);
  if (!byPath) docCache.set(catalog, byPath = new Map());
  const cached = byPath.get(gvPath);
  if (cached && cached.inputs.length === inputs.length && cached.inputs.every((x, i) => x === inputs[i])) return cached;
  const roots: string[] = [];
  const custom: Record<string, Schema> = {};
  const defs = new Map<ResourceInfo, string>();
  for (const r of resources) {
    const cv = catalog.customOf(r);
    if (cv) {
      Object.assign(custom, customSchemas(cv));
      defs.set(r, customDefinitionName(r));
    } else {
      roots.push(...(r.review ? [definitionName(r)] : [definitionName(r), `${definitionName(r)}List`]));
      defs.set(r, definitionName(r));
    }
  }
  if (resources.some((r) => r.subresources.includes('token'))) roots.push('io.k8s.api.authentication.v1.TokenRequest');
  roots.push('io.k8s.apimachinery.pkg.apis.meta.v1.Status', 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions', 'io.k8s.apimachinery.pkg.apis.meta.v1.Patch');
  if (Object.keys(custom).length) roots.push('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta');
  if (resources.some((r) => r.subresources.includes('scale'))) roots.push('io.k8s.api.autoscaling.v1.Scale');
  if (resources.some((r) => r.subresources.includes('eviction'))) roots.push('io.k8s.api.policy.v1.Eviction');
  const schemas = Object.fromEntries([...schemaClosure(roots).map((n) => [n, SCHEMAS[n]] as const), ...Object.entries(custom)]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const paths: Record<string, unknown> = {};
  for (const r of resources) Object.assign(paths, resourcePaths(r, defs.get(r)!));
  const doc = { openapi: '3.0.0', info: OPENAPI_INFO, paths, components: { schemas } };
  const body = JSON.stringify(doc);
  const hash = createHash('sha512').update(body).digest('hex').toUpperCase();
  const built = { body, hash, inputs };
  byPath.set(gvPath, built);
  return built;
}

/** The /openapi/v3 index: `{"paths":{"api/v1":{"serverRelativeURL":"/openapi/v3/api/v1?hash=..."},...}}`. */
export function openapiV3Index(catalog: ResourceCatalog = BUILTIN_CATALOG): { paths: Record<string, { serverRelativeURL: string }> } {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const gv of servedGroupVersionPaths(catalog)) paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=${build(gv, catalog)!.hash}` };
  return { paths };
}

/**
 * The OpenAPI 3.0 document of one group version as JSON text, for `gvPath` like "api/v1" or
 * "apis/apps/v1" (the part after /openapi/v3/); undefined when that group version is not served.
 * Cached until the resources of that group version change (a CRD created, updated or deleted).
 */
export function openapiV3Document(gvPath: string, catalog: ResourceCatalog = BUILTIN_CATALOG): string | undefined {
  return build(gvPath.replace(/^\/+|\/+$/g, ''), catalog)?.body;
}

/**
 * The CRUD verbs of a resource route, translated onto the in-process `Client`. This layer owns only
 * the wire: query parameters, body decoding, URL/body consistency, status codes and response
 * shaping; semantics (defaults, validation, concurrency, patch application) belong to the core.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../../api/object.js';
import { ApiError, badRequest } from '../../api/errors.js';
import type { Client, DeleteOptions, ListOptions, PatchType, WriteOptions } from '../../client/client.js';
import type { ResourceRoute } from './route.js';
import { readBody, decodeBody, mediaType } from './body.js';
import { responseShape } from './negotiate.js';
import { shapeList, shapeObject } from './transform.js';
import { sendJson } from './respond.js';
import type { ServerExtensions } from './extensions.js';

/** Everything a handler needs from the server. */
export interface HandlerContext {
  client: Client;
  ext: ServerExtensions;
  bodyLimit: number;
}

const PATCH_TYPES = new Set<string>(['application/merge-patch+json', 'application/json-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml']);

/** List options from the query (limit/continue/selectors/resourceVersion). */
export function listOptions(q: URLSearchParams): ListOptions {
  const o: ListOptions = {};
  const ls = q.get('labelSelector'); if (ls) o.labelSelector = ls;
  const fs = q.get('fieldSelector'); if (fs) o.fieldSelector = fs;
  const lim = q.get('limit');
  if (lim) {
    const n = Number(lim);
    if (!Number.isInteger(n) || n < 0) throw badRequest(`invalid value for limit: "${lim}"`);
    if (n > 0) o.limit = n;
  }
  const c = q.get('continue'); if (c) o.continue = c;
  const rv = q.get('resourceVersion'); if (rv) o.resourceVersion = rv;
  return o;
}

/** Write options from the query (dryRun, fieldManager, fieldValidation). */
export function writeOptions(q: URLSearchParams): WriteOptions {
  const o: WriteOptions = {};
  const dry = q.getAll('dryRun');
  if (dry.length) {
    if (dry.some((d) => d !== 'All')) throw badRequest(`Invalid dry run value: ${dry.find((d) => d !== 'All')}; supported values: All`);
    o.dryRun = 'All';
  }
  const fm = q.get('fieldManager'); if (fm) o.fieldManager = fm;
  const fv = q.get('fieldValidation');
  if (fv) {
    if (fv !== 'Strict' && fv !== 'Warn' && fv !== 'Ignore') throw badRequest(`fieldValidation must be one of "Ignore", "Warn", or "Strict", got "${fv}"`);
    o.fieldValidation = fv;
  }
  return o;
}

function asObject(body: unknown): KubeObject {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the body of the request must be a JSON or YAML object');
  return body as KubeObject;
}

/** Puts the URL's namespace/name into the object, rejecting contradictions the way Kubernetes does. */
function reconcileIdentity(route: ResourceRoute, obj: KubeObject, needName: boolean): void {
  obj.metadata ??= {};
  if (route.res.namespaced && route.namespace !== undefined) {
    if (obj.metadata.namespace && obj.metadata.namespace !== route.namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    obj.metadata.namespace = route.namespace;
  }
  if (needName && route.name !== undefined) {
    if (obj.metadata.name && obj.metadata.name !== route.name) {
      throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${route.name})`);
    }
    obj.metadata.name = route.name;
  }
}

/** Parses DeleteOptions from a body (may be empty) and query parameters (which win when both given). */
async function deleteOptions(ctx: HandlerContext, req: IncomingMessage, q: URLSearchParams): Promise<DeleteOptions> {
  const buf = await readBody(req, ctx.bodyLimit);
  let o: DeleteOptions = {};
  if (buf.length && buf.toString('utf8').trim() !== '') {
    const b = asObject(decodeBody(buf, req.headers['content-type'] || 'application/json')) as Record<string, unknown>;
    o = {};
    if (b.propagationPolicy !== undefined) o.propagationPolicy = b.propagationPolicy as DeleteOptions['propagationPolicy'];
    if (b.gracePeriodSeconds !== undefined) o.gracePeriodSeconds = b.gracePeriodSeconds as number;
    if (b.preconditions !== undefined) o.preconditions = b.preconditions as DeleteOptions['preconditions'];
    if (Array.isArray(b.dryRun) && b.dryRun.includes('All')) o.dryRun = 'All';
  }
  Object.assign(o, writeOptions(q));
  const pp = q.get('propagationPolicy'); if (pp) o.propagationPolicy = pp as DeleteOptions['propagationPolicy'];
  const gp = q.get('gracePeriodSeconds');
  if (gp) {
    const n = Number(gp);
    if (!Number.isInteger(n)) throw badRequest(`invalid value for gracePeriodSeconds: "${gp}"`);
    o.gracePeriodSeconds = n;
  }
  if (o.propagationPolicy && !['Background', 'Foreground', 'Orphan'].includes(o.propagationPolicy)) {
    throw badRequest(`propagationPolicy: Unsupported value: "${o.propagationPolicy}": supported values: "Foreground", "Background", "Orphan"`);
  }
  return o;
}

/**
 * fieldValidation for a request body: Strict → 400 `strict decoding error: unknown field "spec.portz"`
 * (Kubernetes' wording), Warn → one `Warning` header per field, Ignore/unset → nothing. Patch
 * directives (`$patch`, `$setElementOrder/...`, `$retainKeys`) are not fields.
 */
function checkUnknownFields(ctx: HandlerContext, route: ResourceRoute, body: unknown, mode: string | undefined, res: ServerResponse): void {
  if (!ctx.ext.unknownFields || (mode !== 'Strict' && mode !== 'Warn') || route.subresource) return;
  const paths = ctx.ext.unknownFields(route.res, body).filter((p) => !p.includes('$'));
  if (paths.length === 0) return;
  if (mode === 'Strict') throw badRequest(`strict decoding error: ${paths.map((p) => `unknown field "${p}"`).join(', ')}`);
  res.setHeader('Warning', paths.map((p) => `299 - "unknown field \\"${p}\\""`));
}

/**
 * Serves get/list/create/update/patch/delete/deletecollection. Throws ApiError on failure. Resolves
 * with the object a single-object write stored (or deleted), for the server's write observers.
 */
export async function handleRest(ctx: HandlerContext, route: ResourceRoute, req: IncomingMessage, res: ServerResponse, q: URLSearchParams): Promise<KubeObject | undefined> {
  const { client } = ctx;
  const shape = responseShape(req.headers.accept);
  const ns = route.res.namespaced ? route.namespace : undefined;
  switch (route.verb) {
    case 'get': {
      const sub = route.subresource === 'status' || route.subresource === 'scale' ? route.subresource : undefined;
      const obj = await client.get(route.res, ns, route.name!, sub);
      sendJson(res, 200, sub === 'scale' ? obj : shapeObject(ctx.ext, shape, route.res, obj, q));
      return undefined;
    }
    case 'list': {
      const list = await client.list(route.res, ns, listOptions(q));
      sendJson(res, 200, shapeList(ctx.ext, shape, route.res, list, q));
      return undefined;
    }
    case 'create': {
      const obj = asObject(decodeBody(await readBody(req, ctx.bodyLimit), req.headers['content-type']));
      const wo = writeOptions(q);
      if (route.subresource === 'binding') {
        reconcileIdentity({ ...route, name: undefined }, obj, false);
        const out = await client.create(route.res, ns, obj, { ...wo, subresource: 'binding', name: route.name });
        sendJson(res, 201, out);
        return out;
      }
      reconcileIdentity(route, obj, false);
      checkUnknownFields(ctx, route, obj, wo.fieldValidation, res);
      const out = await client.create(route.res, ns, obj, wo);
      sendJson(res, 201, shapeObject(ctx.ext, shape, route.res, out, q));
      return out;
    }
    case 'update': {
      const obj = asObject(decodeBody(await readBody(req, ctx.bodyLimit), req.headers['content-type']));
      reconcileIdentity(route, obj, true);
      // 'finalize' (namespaces) is passed through as a subresource the core understands.
      const sub = route.subresource as 'status' | 'scale' | undefined;
      checkUnknownFields(ctx, route, obj, q.get('fieldValidation') ?? undefined, res);
      const out = await client.update(route.res, ns, obj, { ...writeOptions(q), subresource: sub });
      sendJson(res, 200, sub === 'scale' ? out : shapeObject(ctx.ext, shape, route.res, out, q));
      return out;
    }
    case 'patch': {
      const ct = mediaType(req.headers['content-type']);
      if (!PATCH_TYPES.has(ct)) {
        throw new ApiError(415, 'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`);
      }
      const patch = decodeBody(await readBody(req, ctx.bodyLimit), ct);
      if (ct === 'application/json-patch+json' ? !Array.isArray(patch) : (patch === null || typeof patch !== 'object' || Array.isArray(patch))) {
        throw badRequest(ct === 'application/json-patch+json' ? 'the JSON patch must be an array of operations' : 'the patch must be a JSON object');
      }
      const sub = route.subresource as 'status' | 'scale' | undefined;
      const wo = writeOptions(q);
      if (ct !== 'application/json-patch+json') checkUnknownFields(ctx, route, patch, wo.fieldValidation, res);
      const force = q.get('force');
      const out = await client.patch(route.res, ns, route.name!, ct as PatchType, patch, { ...wo, subresource: sub, ...(force ? { force: force === 'true' } : {}) });
      sendJson(res, 200, sub === 'scale' ? out : shapeObject(ctx.ext, shape, route.res, out, q));
      return out;
    }
    case 'delete': {
      const out = await client.delete(route.res, ns, route.name!, await deleteOptions(ctx, req, q));
      sendJson(res, 200, shapeObject(ctx.ext, shape, route.res, out, q));
      return out;
    }
    case 'deletecollection': {
      const opts = await deleteOptions(ctx, req, q);
      const lo = listOptions(q);
      const out = await client.deleteCollection(route.res, ns, { labelSelector: lo.labelSelector, fieldSelector: lo.fieldSelector }, opts);
      sendJson(res, 200, shapeList(ctx.ext, shape, route.res, out, q));
      return undefined;
    }
    default:
      throw badRequest(`unsupported verb ${route.verb}`);
  }
}

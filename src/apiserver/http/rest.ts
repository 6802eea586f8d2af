/**
 * The CRUD verbs of a resource route, translated onto the in-process `Client`. This layer owns only
 * the wire: query parameters, body decoding, URL/body consistency, status codes and response
 * shaping; semantics (defaults, validation, concurrency, patch application) belong to the core.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../../api/object.js';
import { ApiError, badRequest, methodNotAllowed } from '../../api/errors.js';
import { PATCH_TYPES, type DeleteOptions, type PatchSubresource, type PatchType, type UpdateSubresource } from '../../api/requests.js';
import type { Client } from '../../client/client.js';
import { deleteOptions, listOptions, patchOptions, prettyParam, writeOptions } from './query.js';
import type { ResourceRoute } from './route.js';
import { readBody, decodeBody, mediaType } from './body.js';
import { responseShape } from './negotiate.js';
import { shapeList, shapeObject } from './transform.js';
import { sendJson } from './respond.js';
import type { ServerExtensions } from './extensions.js';
import type { ResourceInfo } from '../../api/resources.js';
import type { UserInfo } from '../auth/user.js';

/** Everything a handler needs from the server. */
export interface HandlerContext {
  client: Client;
  ext: ServerExtensions;
  bodyLimit: number;
  /** Answers a create of a review kind (`stored: false`) for `user`; absent: 405. */
  review?: (info: ResourceInfo, body: unknown, user: UserInfo, namespace: string | undefined) => Promise<KubeObject>;
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

/** DeleteOptions from the body (may be empty) and the query (query.ts has the rules). */
async function readDeleteOptions(ctx: HandlerContext, req: IncomingMessage, q: URLSearchParams): Promise<DeleteOptions> {
  const buf = await readBody(req, ctx.bodyLimit);
  const body = buf.length && buf.toString('utf8').trim() !== ''
    ? asObject(decodeBody(buf, req.headers['content-type'] || 'application/json')) as Record<string, unknown>
    : undefined;
  return deleteOptions(body, q);
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
export async function handleRest(ctx: HandlerContext, route: ResourceRoute, req: IncomingMessage, res: ServerResponse, q: URLSearchParams, user?: UserInfo): Promise<KubeObject | undefined> {
  const { client } = ctx;
  const shape = responseShape(req.headers.accept);
  const ns = route.res.namespaced ? route.namespace : undefined;
  const pretty = prettyParam(q);
  const send = (code: number, body: unknown): void => sendJson(res, code, body, 'application/json', {}, pretty);
  switch (route.verb) {
    case 'get': {
      const sub = route.subresource === 'status' || route.subresource === 'scale' ? route.subresource : undefined;
      const obj = await client.get(route.res, ns, route.name!, sub);
      send(200, sub === 'scale' ? obj : shapeObject(ctx.ext, shape, route.res, obj, q));
      return undefined;
    }
    case 'list': {
      const list = await client.list(route.res, ns, listOptions(q));
      send(200, shapeList(ctx.ext, shape, route.res, list, q));
      return undefined;
    }
    case 'create': {
      const wo = writeOptions(q, 'CreateOptions');
      const obj = asObject(decodeBody(await readBody(req, ctx.bodyLimit), req.headers['content-type']));
      if (route.res.review) {
        // A review: answered for the caller, nothing stored (201, as kube-apiserver answers a create).
        if (!ctx.review || !user) throw methodNotAllowed();
        reconcileIdentity(route, obj, false);
        send(201, await ctx.review(route.res, obj, user, ns));
        return undefined;
      }
      if (route.subresource === 'token') {
        const out = await client.create(route.res, ns, obj, { ...wo, subresource: 'token', name: route.name });
        send(201, out);
        return undefined;
      }
      if (route.subresource === 'binding' || route.subresource === 'eviction') {
        reconcileIdentity({ ...route, name: undefined }, obj, false);
        const out = await client.create(route.res, ns, obj, { ...wo, subresource: route.subresource, name: route.name });
        send(201, out);
        return out;
      }
      reconcileIdentity(route, obj, false);
      checkUnknownFields(ctx, route, obj, wo.fieldValidation, res);
      const out = await client.create(route.res, ns, obj, wo);
      send(201, shapeObject(ctx.ext, shape, route.res, out, q));
      return out;
    }
    case 'update': {
      const wo = writeOptions(q, 'UpdateOptions');
      const obj = asObject(decodeBody(await readBody(req, ctx.bodyLimit), req.headers['content-type']));
      reconcileIdentity(route, obj, true);
      const sub = route.subresource as UpdateSubresource | undefined;
      checkUnknownFields(ctx, route, obj, wo.fieldValidation, res);
      const out = await client.update(route.res, ns, obj, { ...wo, subresource: sub });
      send(200, sub === 'scale' ? out : shapeObject(ctx.ext, shape, route.res, out, q));
      return out;
    }
    case 'patch': {
      const ct = mediaType(req.headers['content-type']);
      if (!(PATCH_TYPES as readonly string[]).includes(ct)) {
        throw new ApiError(415, 'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`);
      }
      const patch = decodeBody(await readBody(req, ctx.bodyLimit), ct);
      if (ct === 'application/json-patch+json' ? !Array.isArray(patch) : (patch === null || typeof patch !== 'object' || Array.isArray(patch))) {
        throw badRequest(ct === 'application/json-patch+json' ? 'the JSON patch must be an array of operations' : 'the patch must be a JSON object');
      }
      const sub = route.subresource as PatchSubresource | undefined;
      const wo = patchOptions(q, ct as PatchType);
      if (ct !== 'application/json-patch+json') checkUnknownFields(ctx, route, patch, wo.fieldValidation, res);
      const out = await client.patch(route.res, ns, route.name!, ct as PatchType, patch, { ...wo, subresource: sub });
      send(200, sub === 'scale' ? out : shapeObject(ctx.ext, shape, route.res, out, q));
      return out;
    }
    case 'delete': {
      const out = await client.delete(route.res, ns, route.name!, await readDeleteOptions(ctx, req, q));
      send(200, shapeObject(ctx.ext, shape, route.res, out, q));
      return out;
    }
    case 'deletecollection': {
      const opts = await readDeleteOptions(ctx, req, q);
      const lo = listOptions(q);
      const out = await client.deleteCollection(route.res, ns, { labelSelector: lo.labelSelector, fieldSelector: lo.fieldSelector }, opts);
      send(200, shapeList(ctx.ext, shape, route.res, out, q));
      return undefined;
    }
    default:
      throw badRequest(`unsupported verb ${route.verb}`);
  }
}

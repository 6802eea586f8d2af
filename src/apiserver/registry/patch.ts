/**
 * Applies a PATCH body to an object: JSON merge patch (RFC 7386, written here — it is ten lines),
 * JSON patch (RFC 6902, fast-json-patch), strategic merge patch (semantics/strategicmerge.ts), and a
 * server-side-apply approximation (the applied config is strategically merged). Pure: returns a new
 * object. Malformed patches become 400/422 ApiErrors, never exceptions of another type.
 */
import jsonpatch from 'fast-json-patch';
import { ApiError, badRequest } from '../../api/errors.js';
import type { KubeObject } from '../../api/object.js';
import type { ResourceInfo } from '../../api/resources.js';
import type { PatchType } from '../../api/requests.js';
import { strategicMergePatch } from '../semantics/strategicmerge.js';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** RFC 7386 JSON merge patch. */
export function jsonMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = jsonMergePatch(out[k], v);
  }
  return out;
}

/** Parses a patch body given as a string or Buffer; objects pass through. */
function body(patch: unknown): unknown {
  if (typeof patch === 'string' || patch instanceof Uint8Array) {
    try {
      return JSON.parse(typeof patch === 'string' ? patch : Buffer.from(patch).toString('utf8'));
    } catch (e) {
      throw badRequest(`error decoding patch: ${(e as Error).message}`);
    }
  }
  return patch;
}

/** Returns `original` with `patch` applied. */
export function applyPatch(info: ResourceInfo, original: KubeObject, type: PatchType, patchIn: unknown): KubeObject {
  const patch = body(patchIn);
  switch (type) {
    case 'application/merge-patch+json': {
      if (!isPlainObject(patch)) throw badRequest('json: cannot unmarshal into Go value of type map[string]interface {}');
      return jsonMergePatch(original, patch) as KubeObject;
    }
    case 'application/json-patch+json': {
      if (!Array.isArray(patch)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
      try {
        const res = jsonpatch.applyPatch(structuredClone(original), patch as jsonpatch.Operation[], true, true, true).newDocument;
        if (!isPlainObject(res)) throw new Error('result is not an object');
        return res as KubeObject;
      } catch (e) {
        throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    case 'application/strategic-merge-patch+json':
    case 'application/apply-patch+yaml': {
      if (!isPlainObject(patch)) throw badRequest('json: cannot unmarshal into Go value of type map[string]interface {}');
      try {
        return strategicMergePatch(info, original, patch);
      } catch (e) {
        if (e instanceof ApiError) throw e;
        throw badRequest(`unable to apply strategic merge patch: ${(e as Error).message}`);
      }
    }
    default:
      throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`);
  }
}

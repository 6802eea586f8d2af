/**
 * What Kubernetes' decoder refuses before any semantics run: a body that is not an object, metadata
 * fields of the wrong JSON type, an apiVersion/kind that names another resource (400 BadRequest,
 * with the decoder's wording).
 */
import { badRequest } from '../../api/errors.js';
import type { KubeObject } from '../../api/object.js';
import { groupVersion, type ResourceInfo } from '../../api/resources.js';

/** True for a JSON object (not null, not an array). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Rejects bodies whose shape Kubernetes' decoder would refuse (400), before any semantics run. */
export function checkShape(info: ResourceInfo, obj: unknown): asserts obj is KubeObject {
  const err = (msg: string) => badRequest(`${info.kind} in version "${info.version}" cannot be handled as a ${info.kind}: ${msg}`);
  if (!isObject(obj)) throw err(`json: cannot unmarshal ${Array.isArray(obj) ? 'array' : obj === null ? 'null' : typeof obj} into Go value of type struct`);
  const md = obj.metadata;
  if (md !== undefined && md !== null && !isObject(md)) throw err('json: cannot unmarshal into Go struct field .metadata of type v1.ObjectMeta');
  if (isObject(md)) {
    for (const f of ['name', 'namespace', 'generateName', 'resourceVersion', 'uid']) {
      if (md[f] !== undefined && md[f] !== null && typeof md[f] !== 'string') throw err(`json: cannot unmarshal ${typeof md[f]} into Go struct field ObjectMeta.metadata.${f} of type string`);
    }
    for (const f of ['labels', 'annotations']) {
      const m = md[f];
      if (m === undefined || m === null) continue;
      if (!isObject(m) || Object.values(m).some((v) => typeof v !== 'string')) throw err(`json: cannot unmarshal into Go struct field ObjectMeta.metadata.${f} of type map[string]string`);
    }
    if (md.finalizers !== undefined && md.finalizers !== null && (!Array.isArray(md.finalizers) || md.finalizers.some((v) => typeof v !== 'string'))) {
      throw err('json: cannot unmarshal into Go struct field ObjectMeta.metadata.finalizers of type []string');
    }
    if (md.ownerReferences !== undefined && md.ownerReferences !== null && (!Array.isArray(md.ownerReferences) || md.ownerReferences.some((v) => !isObject(v)))) {
      throw err('json: cannot unmarshal into Go struct field ObjectMeta.metadata.ownerReferences of type []v1.OwnerReference');
    }
  }
  for (const f of ['spec', 'status']) {
    const v = obj[f];
    if (v !== undefined && v !== null && !isObject(v)) throw err(`json: cannot unmarshal ${Array.isArray(v) ? 'array' : typeof v} into Go struct field ${info.kind}.${f}`);
  }
  if (obj.apiVersion !== undefined && obj.apiVersion !== null && typeof obj.apiVersion !== 'string') throw err('json: cannot unmarshal apiVersion');
  if (obj.kind !== undefined && obj.kind !== null && typeof obj.kind !== 'string') throw err('json: cannot unmarshal kind');
  if (obj.apiVersion && obj.apiVersion !== groupVersion(info)) {
    throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${groupVersion(info)})`);
  }
  if (obj.kind && obj.kind !== info.kind) {
    throw badRequest(`${String(obj.kind)} in version "${info.version}" cannot be handled as a ${info.kind}: no kind "${String(obj.kind)}" is registered for version "${groupVersion(info)}"`);
  }
}

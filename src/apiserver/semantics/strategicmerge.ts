/**
 * Strategic merge patch (application/strategic-merge-patch+json) with Kubernetes' merge keys and
 * directives ($patch, $setElementOrder/<list>, $retainKeys, $deleteFromPrimitiveList/<list>), after
 * k8s.io/apimachinery/pkg/util/strategicpatch (mergeMap / mergeSlice / normalizeElementOrder), with
 * the options the API server uses (MergeParallelList, IgnoreUnmatchedNulls). Kinds without patch
 * metadata (see patchschema.ts: Kubernetes' OpenAPI definitions) get RFC 7386 JSON merge patch semantics.
 *
 * Pure: returns a new object, never mutates its inputs. Malformed patches throw an ApiError
 * (400 BadRequest for directive format errors, as the API server maps them).
 */
import { badRequest, internalError } from '../../api/errors.js';
import type { KubeObject } from '../../api/object.js';
import type { ResourceInfo } from '../../api/resources.js';
import { type FieldMeta, type TypeSchema, patchSchemaFor } from './patchschema.js';

type JMap = Record<string, unknown>;

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ELEMENT_ORDER = '$setElementOrder/';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList/';

function isMap(v: unknown): v is JMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** reflect.Kind-like classification used to decide merge vs replace. */
function kindOf(v: unknown): string {
  if (Array.isArray(v)) return 'slice';
  if (v === null) return 'nil';
  return isMap(v) ? 'map' : typeof v;
}

/** Go's %v rendering of decoded JSON, for error messages (`map[image:nginx name:a]`). */
function goValue(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goValue).join(' ')}]`;
  if (isMap(v)) return `map[${Object.keys(v).sort().map((k) => `${k}:${goValue(v[k])}`).join(' ')}]`;
  return String(v);
}

function errNoMergeKey(m: JMap, key: string): Error {
  return internalError(`map: ${goValue(m)} does not contain declared merge key: ${key}`);
}

/** Applies a strategic merge patch to `original` for the kind described by `info`. */
export function strategicMergePatch(info: ResourceInfo, original: KubeObject, patch: unknown): KubeObject {
  if (!isMap(patch)) throw badRequest(`json: cannot unmarshal ${Array.isArray(patch) ? 'array' : typeof patch} into Go value of type map[string]interface {}`);
  const schema = patchSchemaFor(info);
  const o = structuredClone(original) as unknown as JMap;
  const p = structuredClone(patch);
  if (!schema) return jsonMergePatch(o, p) as KubeObject;
  return mergeMap(o, p, schema) as KubeObject;
}

/** RFC 7386 JSON merge patch: objects merge recursively, null deletes, anything else replaces. */
export function jsonMergePatch(target: unknown, patch: unknown): unknown {
  if (!isMap(patch)) return patch;
  const out: JMap = isMap(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = jsonMergePatch(out[k], v);
  }
  return out;
}

function fieldMeta(schema: TypeSchema | undefined, key: string): FieldMeta | undefined {
  return schema?.field(key);
}

/** A value being added where the original had none: directives inside it are resolved, not stored. */
function fresh(v: unknown, meta: FieldMeta | undefined): unknown {
  if (isMap(v)) return mergeMap({}, v, meta?.type);
  if (Array.isArray(v) && meta?.strategy === 'merge') return mergeSlice([], v, meta);
  return v;
}

function mergeMap(original: JMap, patch: JMap, schema: TypeSchema | undefined): JMap {
  if (DIRECTIVE in patch) {
    const d = patch[DIRECTIVE];
    if (d === 'replace') { delete patch[DIRECTIVE]; return patch; }
    if (d === 'delete') return {};
    if (d !== 'merge') throw badRequest(`unknown patch type: ${goValue(d)} in map: ${goValue(patch)}`);
    delete patch[DIRECTIVE];
  }
  applyRetainKeys(original, patch);
  mergeSetElementOrderLists(original, patch, schema);

  for (const [rawKey, pv] of Object.entries(patch)) {
    if (rawKey.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      const k = rawKey.slice(DELETE_FROM_PRIMITIVE_LIST.length);
      if (!k) throw badRequest('invalid patch format of primitive list');
      if (!Array.isArray(pv)) throw badRequest('invalid patch format of primitive list');
      const cur = original[k];
      if (Array.isArray(cur)) original[k] = cur.filter((x) => !pv.includes(x));
      continue;
    }
    const k = rawKey;
    const meta = fieldMeta(schema, k);
    if (pv === null) { delete original[k]; continue; }
    if (!(k in original) || original[k] === null || original[k] === undefined) { original[k] = fresh(pv, meta); continue; }
    const ov = original[k];
    if (kindOf(ov) !== kindOf(pv)) { original[k] = fresh(pv, meta); continue; }
    if (isMap(ov)) original[k] = meta?.strategy === 'replace' ? fresh(pv, undefined) : mergeMap(ov, pv as JMap, meta?.type);
    else if (Array.isArray(ov)) original[k] = meta?.strategy === 'merge' ? mergeSlice(ov, pv as unknown[], meta) : fresh(pv, meta);
    else original[k] = pv;
  }
  return original;
}

/** `$retainKeys`: drop every original key the list does not name (the patch may only use listed keys). */
function applyRetainKeys(original: JMap, patch: JMap): void {
  if (!(RETAIN_KEYS in patch)) return;
  const list = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(list)) throw badRequest('invalid patch format of retainKeys');
  const keep = new Set(list);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(DELETE_FROM_PRIMITIVE_LIST) || k.startsWith(SET_ELEMENT_ORDER)) continue;
    if (!keep.has(k)) throw badRequest('invalid patch format of retainKeys');
  }
  for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
}

/** `$setElementOrder/<list>`: merge that list now and order it as the directive says. */
function mergeSetElementOrderLists(original: JMap, patch: JMap, schema: TypeSchema | undefined): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ELEMENT_ORDER)) continue;
    const order = patch[key];
    delete patch[key];
    const field = key.slice(SET_ELEMENT_ORDER.length);
    if (!field || !Array.isArray(order)) throw badRequest('invalid patch format of setElementOrder list');
    const foundOriginal = Array.isArray(original[field]);
    const foundPatch = Array.isArray(patch[field]);
    if (original[field] !== undefined && original[field] !== null && !foundOriginal) continue;
    const meta = fieldMeta(schema, field);
    const mergeKey = meta?.mergeKey ?? '';
    const originalList = (foundOriginal ? original[field] : []) as unknown[];
    const patchList = (foundPatch ? patch[field] : []) as unknown[];
    let merged: unknown[];
    if (foundOriginal && !foundPatch) merged = originalList;
    else if (!foundOriginal && foundPatch) merged = fresh(patchList, meta) as unknown[];
    else if (foundOriginal && foundPatch) merged = meta?.strategy === 'merge' ? mergeSlice(originalList, patchList, meta) : (fresh(patchList, meta) as unknown[]);
    else continue;
    const kind = elementKind([...originalList, ...patchList]);
    if (kind !== undefined) {
      const { inList, rest } = partition(merged, order, mergeKey, kind);
      merged = normalizeElementOrder(inList, rest, order, originalList, mergeKey, kind);
    }
    original[field] = merged;
    delete patch[field];
  }
}

function elementKind(items: unknown[]): string | undefined {
  let kind: string | undefined;
  for (const v of items) {
    const k = kindOf(v);
    if (k === 'slice') throw internalError('lists of lists are not supported');
    if (kind === undefined) kind = k;
    else if (kind !== k) throw internalError(`list element types are not identical: ${goValue(items)}`);
  }
  return kind;
}

function keyOf(item: unknown, kind: string, mergeKey: string): unknown {
  return kind === 'map' ? (isMap(item) ? item[mergeKey] : undefined) : item;
}

function indexIn(list: unknown[], item: unknown, kind: string, mergeKey: string): number {
  const v = keyOf(item, kind, mergeKey);
  return list.findIndex((x) => keyOf(x, kind, mergeKey) === v);
}

/** Splits `items` into those present in `by` (by merge key, or by value for primitives) and the rest. */
function partition(items: unknown[], by: unknown[], mergeKey: string, kind: string): { inList: unknown[]; rest: unknown[] } {
  const inList: unknown[] = [];
  const rest: unknown[] = [];
  for (const it of items) {
    if (kind === 'map') {
      if (!isMap(it)) throw internalError(`value for key ${goValue(it)} is not a map.`);
      if (!(mergeKey in it)) throw errNoMergeKey(it, mergeKey);
    }
    (indexIn(by, it, kind, mergeKey) >= 0 ? inList : rest).push(it);
  }
  return { inList, rest };
}

function mergeSlice(original: unknown[], patch: unknown[], meta: FieldMeta): unknown[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = elementKind([...original, ...patch])!;
  const mergeKey = meta.mergeKey ?? '';
  let merged: unknown[];
  let orig = original;
  let pat = patch;
  if (kind !== 'map') {
    merged = [];
    for (const v of [...original, ...patch]) if (!merged.includes(v)) merged.push(v);
  } else {
    if (!mergeKey) throw internalError('cannot merge lists without merge key for type map');
    ({ original: orig, patch: pat } = applySpecialElements(original as JMap[], patch as JMap[], mergeKey));
    merged = [...orig];
    for (const pv of pat as JMap[]) {
      if (!(mergeKey in pv)) throw errNoMergeKey(pv, mergeKey);
      const i = merged.findIndex((x) => isMap(x) && x[mergeKey] === pv[mergeKey]);
      if (i >= 0) merged[i] = mergeMap(merged[i] as JMap, pv, meta.type);
      else merged.push(mergeMap({}, pv, meta.type));
    }
  }
  const { inList, rest } = partition(merged, pat, mergeKey, kind);
  return normalizeElementOrder(inList, rest, pat, orig, mergeKey, kind);
}

/** `{"$patch": "delete", key: v}` removes matching elements; `{"$patch": "replace"}` replaces the list. */
function applySpecialElements(original: JMap[], patch: JMap[], mergeKey: string): { original: JMap[]; patch: JMap[] } {
  const plain: JMap[] = [];
  let replace = false;
  let orig = original;
  for (const v of patch) {
    if (!isMap(v)) throw internalError(`value for key ${goValue(v)} is not a map.`);
    if (!(DIRECTIVE in v)) { plain.push(v); continue; }
    switch (v[DIRECTIVE]) {
      case 'delete':
        if (!(mergeKey in v)) throw errNoMergeKey(v, mergeKey);
        orig = orig.filter((x) => !(isMap(x) && x[mergeKey] === v[mergeKey]));
        break;
      case 'replace':
        replace = true;
        break;
      case 'merge':
        throw internalError('merging lists cannot yet be specified in the patch');
      default:
        throw badRequest(`unknown patch type: ${goValue(v[DIRECTIVE])} in map: ${goValue(v)}`);
    }
  }
  return replace ? { original: plain, patch: [] } : { original: orig, patch: plain };
}

/**
 * Orders a merged list: patch items in patch (or $setElementOrder) order, server-only items in
 * their live order, the two interleaved by live position (normalizeElementOrder + mergeSortedSlice).
 */
function normalizeElementOrder(patchItems: unknown[], serverOnly: unknown[], patchOrder: unknown[], serverOrder: unknown[], mergeKey: string, kind: string): unknown[] {
  const sortBy = (items: unknown[], order: unknown[]): unknown[] => {
    const keep = items.filter((x) => !(kind === 'map' && isMap(x) && x[DIRECTIVE] === 'delete'));
    const dels = items.filter((x) => kind === 'map' && isMap(x) && x[DIRECTIVE] === 'delete');
    const indexed = keep.map((x, i) => ({ x, i, o: indexIn(order, x, kind, mergeKey) }));
    indexed.sort((a, b) => (a.o >= 0 && b.o >= 0 ? a.o - b.o : a.i - b.i));
    return [...indexed.map((e) => e.x), ...dels];
  };
  const right = sortBy(patchItems, patchOrder);
  const left = sortBy(serverOnly, serverOrder);
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexIn(serverOrder, left[i], kind, mergeKey);
      const ri = indexIn(serverOrder, right[j], kind, mergeKey);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

/**
 * Strategic-merge metadata of the served kinds — which lists merge (and by which key), which maps
 * are replaced — read from the `x-kubernetes-patch-strategy` / `x-kubernetes-patch-merge-key`
 * extensions of Kubernetes' own OpenAPI definitions (src/apiserver/openapi), which carry the
 * `patchStrategy` / `patchMergeKey` struct tags of k8s.io/api. A field without them is a plain
 * field: maps merge key by key, lists are replaced wholesale.
 */
import type { ResourceInfo } from '../../api/resources.js';
import { SCHEMAS, definitionName, resolveSchema, type Schema } from '../openapi/schemas.js';

/** Patch metadata of one field. */
export interface FieldMeta {
  /** `merge` for lists merged element-wise, `replace` for values replaced whole; absent otherwise. */
  readonly strategy?: 'merge' | 'replace';
  /** For lists of objects: the key identifying elements ("name", "containerPort", ...). */
  readonly mergeKey?: string;
  /** Schema of the value (for lists: of each element). */
  readonly type?: TypeSchema;
}

/** Patch metadata of an object type: looks up its fields. */
export interface TypeSchema {
  field(name: string): FieldMeta | undefined;
}

const cache = new WeakMap<Schema, TypeSchema>();

/** Adapts an OpenAPI schema node (object or map) to a TypeSchema. */
function typeSchema(s: Schema): TypeSchema {
  const resolved = resolveSchema(s);
  const hit = cache.get(resolved);
  if (hit) return hit;
  const metas = new Map<string, FieldMeta | undefined>();
  const ts: TypeSchema = {
    field(name) {
      if (metas.has(name)) return metas.get(name);
      const props = resolved.properties;
      const raw = props ? props[name] : (typeof resolved.additionalProperties === 'object' ? resolved.additionalProperties : undefined);
      const meta = raw ? fieldMeta(raw) : undefined;
      metas.set(name, meta);
      return meta;
    },
  };
  cache.set(resolved, ts);
  return ts;
}

function fieldMeta(raw: Schema): FieldMeta {
  const strategies = String(raw['x-kubernetes-patch-strategy'] ?? '').split(',');
  const strategy = strategies.includes('merge') ? 'merge' : strategies.includes('replace') ? 'replace' : undefined;
  const mergeKey = raw['x-kubernetes-patch-merge-key'] as string | undefined;
  const target = resolveSchema(raw);
  const valueSchema = target.type === 'array' && target.items ? target.items : raw;
  const v = resolveSchema(valueSchema);
  const type = v.properties || typeof v.additionalProperties === 'object' ? typeSchema(valueSchema) : undefined;
  return { strategy, mergeKey, type };
}

/** The patch schema of a served kind; undefined when Kubernetes publishes none (JSON merge semantics). */
export function patchSchemaFor(info: Pick<ResourceInfo, 'group' | 'version' | 'kind'>): TypeSchema | undefined {
  const root = SCHEMAS[definitionName(info as ResourceInfo)];
  return root ? typeSchema(root) : undefined;
}

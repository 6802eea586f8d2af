/**
 * The OpenAPI schemas of a custom resource version, as kube-apiserver publishes them for a CRD
 * (apiextensions-apiserver's builder): the version's openAPIV3Schema with `apiVersion`, `kind` and
 * `metadata` (a reference to ObjectMeta) added, tagged with its group/version/kind, plus the List.
 * Definition names are the group reversed, then version and kind: `com.example.stable.v1.CronTab`.
 */
import type { JSONSchemaProps } from 'kubernetes-types/apiextensions/v1.js';
import type { ResourceInfo } from '../../api/resources.js';
import type { CustomResourceVersion } from '../catalog.js';
import { SCHEMAS, V3_REF_PREFIX, type Schema } from './schemas.js';

/** `com.example.stable.v1.CronTab` for group stable.example.com, version v1, kind CronTab. */
export function customDefinitionName(info: Pick<ResourceInfo, 'group' | 'version' | 'kind'>): string {
  return `${info.group.split('.').reverse().join('.')}.${info.version}.${info.kind}`;
}

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const typeMetaDoc = (f: 'apiVersion' | 'kind'): string => SCHEMAS['io.k8s.api.core.v1.Pod']?.properties?.[f]?.description ?? '';

/** A JSONSchemaProps as an OpenAPI schema: what OpenAPI has no place for is dropped. */
function toSchema(p: JSONSchemaProps): Schema {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) {
    if (k === 'properties' && v && typeof v === 'object') {
      out[k] = Object.fromEntries(Object.entries(v as Record<string, JSONSchemaProps>).map(([n, s]) => [n, toSchema(s)]));
    } else if ((k === 'items' || k === 'additionalProperties' || k === 'not') && v && typeof v === 'object' && !Array.isArray(v)) {
      out[k] = toSchema(v as JSONSchemaProps);
    } else if ((k === 'allOf' || k === 'anyOf' || k === 'oneOf') && Array.isArray(v)) {
      out[k] = (v as JSONSchemaProps[]).map(toSchema);
    } else {
      out[k] = v;
    }
  }
  return out as Schema;
}

/** The published schemas of one custom resource version (the kind and its List), by definition name. */
export function customSchemas(cv: CustomResourceVersion): Record<string, Schema> {
  const { info } = cv;
  const name = customDefinitionName(info);
  const gvk = [{ group: info.group, kind: info.kind, version: info.version }];
  const base = cv.schema ? toSchema(cv.schema) : { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } as Schema;
  const props: Record<string, Schema> = { ...(base.properties ?? {}) };
  props.apiVersion = { description: typeMetaDoc('apiVersion'), type: 'string' };
  props.kind = { description: typeMetaDoc('kind'), type: 'string' };
  props.metadata = { allOf: [{ $ref: `${V3_REF_PREFIX}${META}.ObjectMeta` }], description: "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata" };
  const kindSchema: Schema = { ...base, type: 'object', properties: props, 'x-kubernetes-group-version-kind': gvk };
  const list: Schema = {
    description: `${info.kind}List is a list of ${info.kind}`,
    type: 'object', required: ['items'],
    properties: {
      apiVersion: { description: typeMetaDoc('apiVersion'), type: 'string' },
      items: { description: `List of ${info.plural}. More info: https://git.k8s.io/community/contributors/devel/api-conventions.md`, type: 'array', items: { $ref: `${V3_REF_PREFIX}${name}` } },
      kind: { description: typeMetaDoc('kind'), type: 'string' },
      metadata: { allOf: [{ $ref: `${V3_REF_PREFIX}${META}.ListMeta` }], description: 'Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds' },
    },
    'x-kubernetes-group-version-kind': [{ group: info.group, kind: `${info.kind}List`, version: info.version }],
  };
  return { [name]: kindSchema, [`${name}List`]: list };
}

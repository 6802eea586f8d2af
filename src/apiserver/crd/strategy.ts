/**
 * The strategy of one custom resource (apiextensions-apiserver's customResourceStrategy): objects
 * are pruned to their CRD's structural schema, defaulted from it and validated against it (plus
 * ObjectMeta); with the status subresource, main-resource writes keep the stored status and status
 * writes change nothing else; generation counts spec changes.
 */
import type { FieldError } from '../../api/errors.js';
import { invalid } from '../../api/errors.js';
import { fieldsOf, type KubeObject } from '../../api/object.js';
import type { ResourceInfo } from '../../api/resources.js';
import type { CustomResourceVersion } from '../catalog.js';
import { copyOf, genericStrategy, type Strategy } from '../registry/strategy.js';
import { path } from '../semantics/field.js';
import { validateObjectMeta, validateObjectMetaUpdate } from '../semantics/meta.js';
import { nameIsDNSSubdomain } from '../semantics/namevalidation.js';
import { applySchemaDefaults, prune, validateAgainstSchema } from '../semantics/structural.js';
import type { JSONSchemaProps } from 'kubernetes-types/apiextensions/v1.js';

/** `storage`: the version objects are stored at (its schema prunes, defaults and validates them). */
export function customResourceStrategy(info: ResourceInfo, storage: CustomResourceVersion): Strategy {
  const base = genericStrategy({ ...info, subresources: storage.status ? ['status'] : [] });
  const schema = storage.schema;
  const statusSchema = schema?.properties?.status;
  const admit = (obj: KubeObject, old?: KubeObject): void => {
    prune(obj, schema);
    applySchemaDefaults(obj, schema);
    const errs: FieldError[] = old ? validateObjectMetaUpdate(obj.metadata, old.metadata, path('metadata')) : [];
    errs.push(...validateObjectMeta(obj.metadata, info.namespaced, nameIsDNSSubdomain, path('metadata')));
    errs.push(...validateAgainstSchema(obj, schema));
    if (errs.length) throw invalid(info.kind, info.group, obj.metadata?.name ?? '', errs);
  };
  return {
    ...base,
    info,
    tracksGeneration: true,
    prepareForCreate(obj) {
      // With the status subresource, a create cannot set status (PrepareForCreate drops it).
      if (storage.status) delete fieldsOf(obj).status;
    },
    admit,
    statusUpdate(cur, input) {
      const next = copyOf(cur);
      const st = fieldsOf(input).status;
      if (st === undefined) delete fieldsOf(next).status;
      else {
        const status = copyOf(st);
        if (statusSchema) {
          const holder = { status };
          prune(holder, { type: 'object', properties: { status: statusSchema as JSONSchemaProps } }, false);
          applySchemaDefaults(holder, { type: 'object', properties: { status: statusSchema as JSONSchemaProps } });
          fieldsOf(next).status = holder.status;
        } else fieldsOf(next).status = status;
      }
      const errs = validateAgainstSchema(next, schema);
      if (errs.length) throw invalid(info.kind, info.group, next.metadata?.name ?? '', errs);
      return next;
    },
  };
}

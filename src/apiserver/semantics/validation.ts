/**
 * Validation with Kubernetes' own wording and field paths (pkg/apis/<group>/validation). Called by
 * the registry after defaulting. Returns the field errors; the registry turns a non-empty result
 * into `invalid(kind, group, name, errors)` (422). `old` is set on update.
 */
import type { FieldError } from '../../api/errors.js';
import type { KubeObject } from '../../api/object.js';
import type { ResourceInfo } from '../../api/resources.js';

export function validateObject(info: ResourceInfo, obj: KubeObject, old?: KubeObject): FieldError[] {
  void info; void obj; void old;
  return [];
}

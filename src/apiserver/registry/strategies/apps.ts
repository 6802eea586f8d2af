/**
 * Deployments, ReplicaSets and StatefulSets: a new object starts with an empty status (the
 * controllers fill it), and ReplicaSets can be selected by status.replicas.
 */
import { fieldsOf } from '../../../api/object.js';
import type { ResourceInfo } from '../../../api/resources.js';
import { genericStrategy, type Strategy } from '../strategy.js';

/** `extraFields`: field selectors beyond name and namespace (ReplicaSets: status.replicas). */
export function workloadStrategy(info: ResourceInfo, extraFields: readonly string[] = []): Strategy {
  const base = genericStrategy(info);
  return {
    ...base,
    selectableFields: [...base.selectableFields, ...extraFields],
    prepareForCreate(obj) {
      fieldsOf(obj).status = {};
    },
  };
}

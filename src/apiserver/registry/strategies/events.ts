/** Events: the field selectors kubectl describe and event consumers use (`source` means source.component). */
import type { ResourceInfo } from '../../../api/resources.js';
import { dig, genericStrategy, type Strategy } from '../strategy.js';

export function eventStrategy(info: ResourceInfo): Strategy {
  const base = genericStrategy(info);
  return {
    ...base,
    selectableFields: [...base.selectableFields, 'involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'],
    fieldValue: (obj, f) => (f === 'source' ? dig(obj, 'source.component') ?? '' : base.fieldValue(obj, f)),
  };
}

/** Nodes: selectable by spec.unschedulable (unset reads as "false", as Kubernetes' field set has it). */
import type { ResourceInfo } from '../../../api/resources.js';
import { dig, genericStrategy, type Strategy } from '../strategy.js';

export function nodeStrategy(info: ResourceInfo): Strategy {
  const base = genericStrategy(info);
  return {
    ...base,
    selectableFields: [...base.selectableFields, 'spec.unschedulable'],
    fieldValue: (obj, f) => (f === 'spec.unschedulable' ? dig(obj, f) ?? 'false' : base.fieldValue(obj, f)),
  };
}

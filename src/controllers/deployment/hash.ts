/**
 * pod-template-hash: a short, stable hash of a Deployment's Pod template (controller.ComputeHash):
 * FNV-1a 32 of the template (here its canonical JSON; Kubernetes hashes its Go dump, so values
 * differ from a real cluster's but have the same shape and stability), plus the collision count,
 * rendered with rand.SafeEncodeString.
 */
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { canonicalJson, fnv32a, safeEncodeString } from '../util/names.js';

/** Label carrying the template hash on ReplicaSets and their Pods. */
export const LABEL_POD_TEMPLATE_HASH = 'pod-template-hash';

/** The template without the pod-template-hash label (what EqualIgnoreHash compares). */
export function templateWithoutHash(t: PodTemplateSpec | undefined): PodTemplateSpec {
  const c = structuredClone(t ?? {});
  if (c.metadata?.labels) {
    delete c.metadata.labels[LABEL_POD_TEMPLATE_HASH];
    if (Object.keys(c.metadata.labels).length === 0) delete c.metadata.labels;
  }
  return c;
}

/** The hash of `template` (and `collisionCount`, when set). */
export function computeTemplateHash(template: PodTemplateSpec | undefined, collisionCount?: number): string {
  let s = canonicalJson(templateWithoutHash(template));
  if (collisionCount !== undefined && collisionCount !== null) s += `#${collisionCount}`;
  return safeEncodeString(String(fnv32a(s)));
}

/** True when two templates are equal apart from the hash label. */
export function templatesEqual(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  return canonicalJson(templateWithoutHash(a)) === canonicalJson(templateWithoutHash(b));
}

/**
 * pod-template-hash: a short, stable hash of a Deployment's Pod template, built as Kubernetes'
 * controller.ComputeHash builds it — FNV-1a 32 over the template, then (when the Deployment has a
 * status.collisionCount) the count as 8 bytes (uint32 little-endian + 4 zero bytes), the sum in
 * decimal mapped through rand.SafeEncodeString. One difference: Kubernetes feeds the hasher a
 * go-spew dump of the Go struct, which cannot be reproduced here, so the template is fed as
 * canonical JSON (sorted keys) — same shape, stability and collision handling, different values.
 * Shape: at most 10 characters (the decimal digits of a uint32), each one of the ten letters the
 * digits map to ("4".."9", "b", "c", "d", "f").
 */
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { canonicalJson, fnv32a, safeEncodeString } from '../util/templatehash.js';

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

/** The 8 bytes ComputeHash writes for a collision count: uint32 little-endian, then 4 zero bytes. */
function collisionCountBytes(collisionCount: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setUint32(0, collisionCount >>> 0, true);
  return b;
}

/** The hash of `template` (and `collisionCount`, when set — 0 counts as set, as a non-nil pointer does). */
export function computeTemplateHash(template: PodTemplateSpec | undefined, collisionCount?: number): string {
  let h = fnv32a(canonicalJson(templateWithoutHash(template)));
  if (collisionCount !== undefined && collisionCount !== null) h = fnv32a(collisionCountBytes(collisionCount), h);
  return safeEncodeString(String(h));
}

/** True when two templates are equal apart from the hash label. */
export function templatesEqual(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  return canonicalJson(templateWithoutHash(a)) === canonicalJson(templateWithoutHash(b));
}

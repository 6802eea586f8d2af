/**
 * Object metadata the server owns: uids and RFC 3339 times. (Generated names: src/api/generatename.ts.)
 */
import { randomUUID } from 'node:crypto';

/** A new object uid. */
export function newUID(): string {
  return randomUUID();
}

/** RFC 3339 with second precision, as metav1.Time serializes. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

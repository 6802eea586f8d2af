/**
 * Object metadata the server owns: uid, creationTimestamp, generateName suffixes, RFC 3339 times.
 */
import { randomInt, randomUUID } from 'node:crypto';

/** Kubernetes' alphabet for generated names (no vowels, no confusable characters). */
const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';
const MAX_GENERATED_NAME_LENGTH = 58;

/** `generateName` + 5 random characters, truncating the base like Kubernetes (names.SimpleNameGenerator). */
export function generateName(base: string): string {
  const b = base.length > MAX_GENERATED_NAME_LENGTH ? base.slice(0, MAX_GENERATED_NAME_LENGTH) : base;
  let s = '';
  for (let i = 0; i < 5; i++) s += ALPHANUMS[randomInt(ALPHANUMS.length)];
  return b + s;
}

/** A new object uid. */
export function newUID(): string {
  return randomUUID();
}

/** RFC 3339 with second precision, as metav1.Time serializes. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

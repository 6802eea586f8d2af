/** Generated names, in the alphabet Kubernetes uses for `generateName` (k8s.io/apimachinery/pkg/util/rand). */
import { randomInt } from 'node:crypto';

/** Consonants and digits that cannot spell words (rand.alphanums). */
export const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** `n` random characters from SAFE_ALPHABET. */
export function randomSuffix(n = 5): string {
  let s = '';
  for (let i = 0; i < n; i++) s += SAFE_ALPHABET[randomInt(SAFE_ALPHABET.length)];
  return s;
}

/** rand.SafeEncodeString: maps every byte of `s` into SAFE_ALPHABET (used for pod-template-hash). */
export function safeEncodeString(s: string): string {
  let out = '';
  for (const ch of Buffer.from(s)) out += SAFE_ALPHABET[ch % SAFE_ALPHABET.length];
  return out;
}

/** `prefix + 5 random chars`, trimmed as names.SimpleNameGenerator does (63 chars max). */
export function generateName(prefix: string): string {
  const max = 63 - 5;
  return (prefix.length > max ? prefix.slice(0, max) : prefix) + randomSuffix(5);
}

/** The FNV-1a 32-bit offset basis: the hash of nothing. */
export const FNV32A_OFFSET = 0x811c9dc5;

/**
 * FNV-1a 32-bit over a string's UTF-8 bytes (or raw bytes). `h` continues an earlier hash, as
 * writing more bytes into Go's `fnv.New32a()` hasher does.
 */
export function fnv32a(data: string | Uint8Array, h = FNV32A_OFFSET): number {
  for (const b of typeof data === 'string' ? Buffer.from(data) : data) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** JSON with object keys sorted, so equal objects hash equally whatever their key order. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
}

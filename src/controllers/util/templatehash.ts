/**
 * Names controllers derive: pod-template-hash encoding and hashing (Kubernetes' controller
 * helpers). Random generated names come from src/api/generatename.ts.
 */
import { SAFE_ALPHABET } from '../../api/generatename.js';

/** rand.SafeEncodeString: maps every byte of `s` into SAFE_ALPHABET (used for pod-template-hash). */
export function safeEncodeString(s: string): string {
  let out = '';
  for (const ch of Buffer.from(s)) out += SAFE_ALPHABET[ch % SAFE_ALPHABET.length];
  return out;
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

/**
 * The answer cache: encoded replies by question, so a repeated question costs a hash of its bytes,
 * one buffer copy and three patches (ID, RD bit, the question's letters), with no decode, no
 * resolve, no encode and no per-query key string.
 *
 * Key: the question section compared without regard to ASCII case (DNS names are case-insensitive,
 * RFC 4343; the reply gets the query's own spelling patched in, and every answer name that equals
 * the question is a compression pointer to it, so it follows), plus every byte after the question
 * (an EDNS OPT record: its payload size decides truncation) compared exactly. Each transport (UDP,
 * TCP) has its own cache, since the size limit differs.
 *
 * Entries carry the record index generation they were made under; any change to the index makes
 * them stale. Full: the oldest entry goes (first in, first out), never the whole cache at once.
 */

interface Entry {
  readonly hash: number;
  generation: number;
  /** The reply, in its own (unpooled) memory; its question is the one the key compares against. */
  reply: Buffer;
  questionEnd: number;
  /** Bytes after the question in the query, as latin1 ('' when none: the common case). */
  tail: string;
  /** Another entry with the same hash. */
  next: Entry | undefined;
}

const ASCII_UPPER_A = 0x41;
const ASCII_UPPER_Z = 0x5a;
const fold = (b: number) => (b >= ASCII_UPPER_A && b <= ASCII_UPPER_Z ? b | 0x20 : b);

export class AnswerCache {
  private readonly byHash = new Map<number, Entry>();
  /**
   * Entries in insertion order, as a ring: the slot about to be reused holds the oldest. (Not a
   * Map's own order: taking the first key of a Map that is deleted from at the front costs a walk
   * over every deleted slot until the next rehash, which made each eviction O(cache size).)
   */
  private readonly ring: (Entry | undefined)[];
  private nextSlot = 0;
  private count = 0;

  constructor(maxEntries: number) {
    this.ring = new Array<Entry | undefined>(maxEntries).fill(undefined);
  }

  get size(): number {
    return this.count;
  }

  /**
   * The cached reply to `query` (question ending at `questionEnd`) made under `generation`, as a
   * new buffer with the query's ID, RD bit and question spelling; undefined on a miss.
   */
  get(query: Buffer, questionEnd: number, generation: number): Buffer | undefined {
    for (let e = this.byHash.get(hashQuery(query, questionEnd)); e; e = e.next) {
      if (e.generation !== generation || !sameQuestion(e, query, questionEnd)) continue;
      const reply = Buffer.allocUnsafe(e.reply.length);
      reply.set(e.reply);
      reply[0] = query[0];
      reply[1] = query[1];
      reply[2] = (reply[2] & 0xfe) | (query[2] & 0x01);
      // The question's spelling, byte by byte: Buffer#copy of a sub-range makes a Uint8Array view
      // of the source per call, the largest allocation left on this path (run once per query).
      for (let i = 12; i < questionEnd; i++) reply[i] = query[i];
      return reply;
    }
    return undefined;
  }

  /** Stores `reply` as the answer to `query`, replacing any older answer to the same question. */
  set(query: Buffer, questionEnd: number, generation: number, reply: Buffer): void {
    const hash = hashQuery(query, questionEnd);
    // An unpooled copy: a small Buffer is a slice of a shared 8 KiB pool slab, and a long-lived
    // slice would keep the whole slab (and the short-lived replies in it) alive.
    const copy = Buffer.allocUnsafeSlow(reply.length);
    reply.copy(copy);
    for (let e = this.byHash.get(hash); e; e = e.next) {
      if (sameQuestion(e, query, questionEnd)) {
        e.generation = generation;
        e.reply = copy;
        return;
      }
    }
    const oldest = this.ring[this.nextSlot];
    if (oldest) this.unlink(oldest);
    const tail = questionEnd < query.length ? query.toString('latin1', questionEnd) : '';
    const entry: Entry = { hash, generation, reply: copy, questionEnd, tail, next: this.byHash.get(hash) };
    this.byHash.set(hash, entry);
    this.ring[this.nextSlot] = entry;
    this.nextSlot = (this.nextSlot + 1) % this.ring.length;
    this.count++;
  }

  private unlink(entry: Entry): void {
    let prev: Entry | undefined;
    for (let e = this.byHash.get(entry.hash); e; prev = e, e = e.next) {
      if (e !== entry) continue;
      if (prev) prev.next = e.next;
      else if (e.next) this.byHash.set(entry.hash, e.next);
      else this.byHash.delete(entry.hash);
      this.count--;
      return;
    }
  }
}

/**
 * FNV-1a over the case-folded question and the exact bytes after it, cut to 30 bits: a number
 * that fits a small integer (Smi) even with pointer compression, so using it as a Map key never
 * boxes it in a heap number (an unsigned 32-bit value would, for half the queries).
 */
function hashQuery(query: Buffer, questionEnd: number): number {
  let h = 0x811c9dc5;
  for (let i = 12; i < questionEnd; i++) h = Math.imul(h ^ fold(query[i]), 0x01000193);
  for (let i = questionEnd; i < query.length; i++) h = Math.imul(h ^ query[i], 0x01000193);
  return h & 0x3fffffff;
}

function sameQuestion(e: Entry, query: Buffer, questionEnd: number): boolean {
  if (e.questionEnd !== questionEnd) return false;
  const r = e.reply;
  for (let i = 12; i < questionEnd; i++) if (fold(r[i]) !== fold(query[i])) return false;
  const tailLength = query.length - questionEnd;
  if (tailLength !== e.tail.length) return false;
  return tailLength === 0 || query.toString('latin1', questionEnd) === e.tail;
}

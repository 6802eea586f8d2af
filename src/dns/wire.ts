/**
 * DNS message handling on the wire: decode a query, answer it through the resolver, encode the
 * reply (EDNS echo, truncation for UDP), and cache encoded replies so a repeated question costs a
 * buffer copy and a two-byte ID patch. Transport-free: the server feeds it bytes.
 */
import * as packet from 'dns-packet';
import type { Answer, Packet } from 'dns-packet';
import type { RecordIndex } from './records.js';
import { resolve } from './resolver.js';

export interface WireOptions {
  ttl: number;
  /** Forwards a query for a name outside the zone; undefined means answer REFUSED. */
  forward?: (query: Buffer) => Promise<Buffer | undefined>;
}

/** Standard DNS response codes used here (RFC 1035 §4.1.1). */
const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
const MAX_CACHE = 20_000;

/** Where the question section of a query ends, or -1 when it is malformed. */
function questionEnd(buf: Buffer): number {
  let i = 12;
  while (i < buf.length) {
    const len = buf[i];
    if (len === 0) return i + 5 <= buf.length ? i + 5 : -1;
    if (len & 0xc0) return -1; // compression in a query question: take the slow path
    i += len + 1;
  }
  return -1;
}

export class DnsWire {
  private readonly cache = new Map<string, { generation: number; reply: Buffer }>();

  constructor(
    private readonly index: RecordIndex,
    private readonly isSynced: () => boolean,
    private readonly opts: WireOptions,
  ) {}

  /** Answers one query. `maxSize` is the UDP payload limit (undefined for TCP). Undefined = drop. */
  async handle(query: Buffer, maxSize?: number): Promise<Buffer | undefined> {
    if (query.length < 12) return undefined;
    // Only cache plain single-question queries; the key covers RD, the question and any EDNS record.
    const cacheable = query.readUInt16BE(4) === 1 && questionEnd(query) > 0 && ((query[2] >> 3) & 0xf) === 0;
    const key = cacheable ? `${maxSize === undefined ? 't' : 'u'}${query[2] & 1}${query.toString('latin1', 12)}` : '';
    if (cacheable) {
      const hit = this.cache.get(key);
      if (hit && hit.generation === this.index.generation) {
        const reply = Buffer.from(hit.reply);
        reply[0] = query[0];
        reply[1] = query[1];
        return reply;
      }
    }
    let q: Packet;
    try {
      q = packet.decode(query);
    } catch {
      return this.errorReply(query, RCODE.FORMERR);
    }
    const question = q.questions?.[0];
    if ((q.flags ?? 0) & 0x7800) return this.encode(q, RCODE.NOTIMP, [], [], maxSize);
    if (!question || q.questions!.length !== 1) return this.encode(q, RCODE.FORMERR, [], [], maxSize);
    const generation = this.index.generation;
    const out = resolve(this.index, this.isSynced(), question.name, question.type, { ttl: this.opts.ttl });
    if (out.kind === 'outside') {
      if (!this.opts.forward) return this.encode(q, RCODE.REFUSED, [], [], maxSize);
      const reply = await this.opts.forward(query);
      return reply ?? this.encode(q, RCODE.SERVFAIL, [], [], maxSize);
    }
    if (out.kind === 'servfail') return this.encode(q, RCODE.SERVFAIL, [], [], maxSize);
    const reply = this.encode(q, RCODE[out.rcode], out.answers, out.authority, maxSize, true);
    if (cacheable) {
      // Evict the oldest entry (Map keeps insertion order) rather than clearing the whole cache,
      // which would send every name down the slow path at once.
      if (this.cache.size >= MAX_CACHE) this.cache.delete(this.cache.keys().next().value!);
      // An unpooled copy: Buffer.from() of a small buffer is a slice of a shared 8 KiB pool slab,
      // and a long-lived slice keeps the whole slab (and the short-lived replies in it) alive.
      const copy = Buffer.allocUnsafeSlow(reply.length);
      reply.copy(copy);
      this.cache.set(key, { generation, reply: copy });
    }
    return reply;
  }

  private encode(q: Packet, rcode: number, answers: Answer[], authority: Answer[], maxSize: number | undefined, aa = false): Buffer {
    const rd = (q.flags ?? 0) & packet.RECURSION_DESIRED;
    const opt = q.additionals?.find((a) => a.type === 'OPT') as { udpPayloadSize?: number } | undefined;
    const additionals: Answer[] = opt ? [{ type: 'OPT', name: '.', udpPayloadSize: 1232 } as unknown as Answer] : [];
    const flags = rd | packet.RECURSION_AVAILABLE | (aa ? packet.AUTHORITATIVE_ANSWER : 0) | rcode;
    const reply: Packet = { id: q.id, type: 'response', flags, questions: q.questions, answers, authorities: authority, additionals };
    let buf = packet.encode(reply);
    const limit = maxSize === undefined ? undefined : Math.max(512, Math.min(opt?.udpPayloadSize ?? 512, 4096));
    if (limit !== undefined && buf.length > limit) {
      // Too big for UDP: say so (TC) and let the client retry over TCP (RFC 1035 §4.2.1).
      buf = packet.encode({ ...reply, flags: flags | packet.TRUNCATED_RESPONSE, answers: [], authorities: [] });
    }
    return buf;
  }

  private errorReply(query: Buffer, rcode: number): Buffer {
    const h = Buffer.alloc(12);
    query.copy(h, 0, 0, 2);
    h[2] = 0x80 | (query[2] & 0x01); // QR + RD
    h[3] = 0x80 | rcode; // RA + rcode
    return h;
  }
}

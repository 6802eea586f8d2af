/**
 * DNS message handling on the wire: decode a query, answer it through the resolver, encode the
 * reply (question copied verbatim, compressed names, EDNS echo, truncation to whole records for
 * UDP), and cache encoded replies so a repeated question costs a buffer copy and a few byte
 * patches. Transport-free: the server feeds it bytes.
 *
 * Answers from the zone are produced synchronously (no Promise per query: at tens of thousands of
 * queries a second every allocation shows up as young-generation GC pauses in the latency tail);
 * only forwarding to an upstream returns a Promise.
 */
import * as packet from 'dns-packet';
import type { Packet } from 'dns-packet';
import type { RecordIndex } from './records.js';
import { resolve, type Outcome } from './resolver.js';
import { AnswerCache } from './answercache.js';
import { FLAG, ReplyWriter } from './reply.js';

export interface WireOptions {
  ttl: number;
  /** Forwards a query for a name outside the zone; undefined means answer REFUSED. */
  forward?: (query: Buffer) => Promise<Buffer | undefined>;
}

/** Standard DNS response codes used here (RFC 1035 §4.1.1). */
const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
/** Answer cache entries per transport. */
const MAX_CACHE = 20_000;
/** The largest DNS message (TCP's 16-bit length prefix). */
const MAX_MESSAGE = 65_535;
/** UDP payload without EDNS (RFC 1035 §4.2.1). */
const CLASSIC_UDP = 512;
/** Largest UDP payload we honour from a client's OPT record. */
const MAX_UDP = 4096;

/** Where the question section of a query ends, or -1 when it is malformed or compressed. */
function questionEnd(buf: Buffer): number {
  let i = 12;
  while (i < buf.length) {
    const len = buf[i];
    if (len === 0) return i + 5 <= buf.length ? i + 5 : -1;
    if (len & 0xc0) return -1; // a pointer in a query's question: let the decoder judge it
    i += len + 1;
  }
  return -1;
}

/** The transport a query came over: UDP replies are limited in size, TCP ones are not. */
export type Transport = 'udp' | 'tcp';

export class DnsWire {
  private readonly caches = { udp: new AnswerCache(MAX_CACHE), tcp: new AnswerCache(MAX_CACHE) };
  private readonly writer = new ReplyWriter();

  constructor(
    private readonly index: RecordIndex,
    private readonly isSynced: () => boolean,
    private readonly opts: WireOptions,
  ) {}

  /**
   * Answers one query. Returns the reply, undefined to drop the query, or (only when it is
   * forwarded upstream) a Promise of either.
   */
  handle(query: Buffer, transport: Transport): Buffer | undefined | Promise<Buffer | undefined> {
    if (query.length < 12 || query[2] & 0x80) return undefined; // too short, or a response
    const qEnd = questionEnd(query);
    // Cache plain queries: opcode QUERY, one question, nothing but an optional OPT record after it.
    const cacheable = qEnd > 0 && ((query[2] >> 3) & 0xf) === 0 && query.readUInt16BE(4) === 1 &&
      query.readUInt16BE(6) === 0 && query.readUInt16BE(8) === 0 && query.readUInt16BE(10) <= 1;
    const cache = this.caches[transport];
    if (cacheable) {
      const hit = cache.get(query, qEnd, this.index.generation);
      if (hit) return hit;
    }
    let q: Packet;
    try {
      q = packet.decode(query);
    } catch {
      return errorReply(query, RCODE.FORMERR);
    }
    const question = q.questions?.[0];
    if (qEnd < 0 || !question || q.questions!.length !== 1) return errorReply(query, RCODE.FORMERR);
    if ((q.flags ?? 0) & 0x7800) return errorReply(query, RCODE.NOTIMP);
    const opt = q.additionals?.find((a) => a.type === 'OPT') as { udpPayloadSize?: number } | undefined;
    const limit = transport === 'tcp' ? MAX_MESSAGE
      : Math.max(CLASSIC_UDP, Math.min(opt ? opt.udpPayloadSize ?? CLASSIC_UDP : CLASSIC_UDP, MAX_UDP));
    const generation = this.index.generation;
    const out = resolve(this.index, this.isSynced(), question.name, question.type, { ttl: this.opts.ttl });
    const reply = (o: Outcome | { kind: 'rcode'; rcode: number }) => this.encode(query, qEnd, o, !!opt, limit);
    if (out.kind === 'outside') {
      if (!this.opts.forward) return reply({ kind: 'rcode', rcode: RCODE.REFUSED });
      return this.opts.forward(query).then((r) => r ?? reply({ kind: 'rcode', rcode: RCODE.SERVFAIL }));
    }
    const encoded = reply(out);
    if (cacheable && out.kind === 'answer') cache.set(query, qEnd, generation, encoded);
    return encoded;
  }

  private encode(query: Buffer, qEnd: number, out: Outcome | { kind: 'rcode'; rcode: number }, edns: boolean, limit: number): Buffer {
    const rd = query[2] & 0x01 ? FLAG.RD : 0;
    if (out.kind === 'answer') {
      return this.writer.encode({ query, questionEnd: qEnd, flags: rd | FLAG.RA | FLAG.AA | RCODE[out.rcode],
        answers: out.answers, authority: out.authority, edns, limit });
    }
    const rcode = out.kind === 'servfail' ? RCODE.SERVFAIL : out.kind === 'rcode' ? out.rcode : RCODE.REFUSED;
    return this.writer.encode({ query, questionEnd: qEnd, flags: rd | FLAG.RA | rcode, answers: [], authority: [], edns, limit });
  }
}

/** A header-only reply (no question) for queries we cannot parse or do not implement. */
function errorReply(query: Buffer, rcode: number): Buffer {
  const h = Buffer.alloc(12);
  query.copy(h, 0, 0, 2);
  h[2] = 0x80 | (query[2] & 0x79); // QR, echo opcode and RD
  h[3] = 0x80 | rcode; // RA + rcode
  return h;
}


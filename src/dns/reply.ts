/**
 * Encodes a DNS reply: the header, the query's question copied byte for byte (so the client sees
 * its own spelling, 0x20 case included), the answer and authority records with name compression
 * (RFC 1035 §4.1.4), and an EDNS OPT record when the query had one.
 *
 * When the reply does not fit the size limit it carries as many whole records as fit, answers
 * first, then authority, and sets TC if any record was left out. This is what CoreDNS does
 * (request.Scrub → miekg/dns Msg.Truncate): a client that can use a partial answer (most stub
 * resolvers take the first addresses) need not retry, and one that needs all of it retries over
 * TCP (RFC 2181 §9). The OPT record is always kept (RFC 6891 §7).
 *
 * dns-packet, used to decode queries, writes every name in full; a headless Service's A answers
 * repeat its name once per endpoint, so compression roughly halves such replies and lets about
 * twice as many addresses fit a 512-byte UDP reply.
 */
import type { Answer } from 'dns-packet';

/** RR type codes (RFC 1035 §3.2.2, RFC 3596, RFC 2782, RFC 6891). */
const TYPE: Record<string, number> = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, TXT: 16, AAAA: 28, SRV: 33 };
const TYPE_OPT = 41;
const CLASS_IN = 1;
/** The OPT record we send: root name, type, our payload size, extended rcode/flags 0, no options. */
const OPT_LENGTH = 11;
/** Our advertised EDNS payload size: the DNS Flag Day 2020 value, safe from fragmentation. */
export const EDNS_PAYLOAD = 1232;
/** A compression pointer holds a 14-bit offset. */
const MAX_POINTER = 0x3fff;
/** Header flag bits (second and third header bytes as one 16-bit word). */
export const FLAG = { QR: 0x8000, AA: 0x0400, TC: 0x0200, RD: 0x0100, RA: 0x0080 } as const;

export interface ReplyParts {
  /** The query as received; its ID and question section (bytes 12 to `questionEnd`) are copied. */
  query: Buffer;
  questionEnd: number;
  /** Header flags other than QR and TC, with the rcode in the low 4 bits. */
  flags: number;
  answers: readonly Answer[];
  authority: readonly Answer[];
  /** Add an OPT record (the query had one). */
  edns: boolean;
  /** Largest reply allowed, bytes (the UDP payload size); records beyond it are left out. */
  limit: number;
}

/**
 * Writes replies into one reusable scratch buffer; `encode` returns a fresh copy of the bytes.
 * Not reentrant (one writer per server, used synchronously).
 */
export class ReplyWriter {
  private readonly buf = Buffer.allocUnsafe(65_535 + 512);
  private offset = 0;
  /** Lower-case name (no trailing dot) → offset of its first occurrence in the records written. */
  private readonly names = new Map<string, number>();
  /** See questionText. */
  private question = '';

  encode(p: ReplyParts): Buffer {
    const buf = this.buf;
    this.names.clear();
    const limit = Math.min(p.limit, 65_535) - (p.edns ? OPT_LENGTH : 0);
    p.query.copy(buf, 0, 0, 2);
    buf.writeUInt16BE(1, 4); // QDCOUNT
    p.query.copy(buf, 12, 12, p.questionEnd);
    this.question = this.questionText(p.query, p.questionEnd);
    this.offset = p.questionEnd;
    let truncated = false;
    const written = [0, 0];
    const sections = [p.answers, p.authority];
    for (let s = 0; s < 2 && !truncated; s++) {
      for (const rr of sections[s]) {
        if (!this.record(rr, limit)) { truncated = true; break; }
        written[s]++;
      }
    }
    buf.writeUInt16BE(FLAG.QR | (truncated ? FLAG.TC : 0) | (p.flags & ~(FLAG.QR | FLAG.TC)), 2);
    buf.writeUInt16BE(written[0], 6);
    buf.writeUInt16BE(written[1], 8);
    buf.writeUInt16BE(p.edns ? 1 : 0, 10);
    if (p.edns) {
      const o = this.offset;
      buf[o] = 0; // root
      buf.writeUInt16BE(TYPE_OPT, o + 1);
      buf.writeUInt16BE(EDNS_PAYLOAD, o + 3);
      buf.writeUInt32BE(0, o + 5); // extended rcode, version 0, no DO
      buf.writeUInt16BE(0, o + 9); // no options
      this.offset += OPT_LENGTH;
    }
    const out = Buffer.allocUnsafe(this.offset);
    buf.copy(out, 0, 0, this.offset);
    return out;
  }

  /**
   * The question name, lower-case with dots, for compressing against: a name equal to one of its
   * suffixes becomes a pointer into the question. Worked out from the bytes in one string (label
   * i of the text starts where its length byte sits, offset 12 + i); '' when a label holds a dot
   * itself or the name is malformed, and then nothing points into the question.
   */
  private questionText(query: Buffer, end: number): string {
    const scratch = this.buf;
    const at = end; // the scratch area past the question, overwritten later by the records
    let i = 12;
    let n = 0;
    while (i < end - 4 && query[i] !== 0) {
      const len = query[i];
      if (len & 0xc0 || i + 1 + len > end - 4) return '';
      if (n > 0) scratch[at + n++] = 0x2e;
      for (let k = i + 1; k <= i + len; k++) {
        const b = query[k];
        if (b === 0x2e) return '';
        scratch[at + n++] = b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
      }
      i += len + 1;
    }
    return scratch.toString('latin1', at, at + n);
  }

  /** Appends one record if it fits under `limit`; otherwise leaves the message as it was. */
  private record(rr: Answer, limit: number): boolean {
    const start = this.offset;
    const namesBefore = this.names.size;
    const ok = this.tryRecord(rr, limit);
    if (!ok) {
      this.offset = start;
      // Forget names first written inside the record that was dropped (Map keeps insertion order).
      if (this.names.size > namesBefore) {
        let k = 0;
        for (const key of [...this.names.keys()]) if (k++ >= namesBefore) this.names.delete(key);
      }
    }
    return ok;
  }

  private tryRecord(rr: Answer, limit: number): boolean {
    const buf = this.buf;
    const type = TYPE[rr.type];
    if (type === undefined) throw new Error(`reply: cannot encode record type ${rr.type}`);
    if (!this.name(rr.name, true, limit)) return false;
    if (this.offset + 10 > limit) return false;
    buf.writeUInt16BE(type, this.offset);
    buf.writeUInt16BE(CLASS_IN, this.offset + 2);
    buf.writeUInt32BE((rr as { ttl?: number }).ttl ?? 0, this.offset + 4);
    const lengthAt = this.offset + 8;
    this.offset += 10;
    if (!this.rdata(rr, limit)) return false;
    if (this.offset > limit) return false;
    buf.writeUInt16BE(this.offset - lengthAt - 2, lengthAt);
    return true;
  }

  private rdata(rr: Answer, limit: number): boolean {
    const buf = this.buf;
    const data = (rr as { data?: unknown }).data;
    switch (rr.type) {
      case 'A': {
        if (this.offset + 4 > limit) return false;
        const parts = String(data).split('.');
        for (let i = 0; i < 4; i++) buf[this.offset + i] = Number(parts[i]);
        this.offset += 4;
        return true;
      }
      case 'AAAA': {
        if (this.offset + 16 > limit) return false;
        writeIPv6(buf, this.offset, String(data));
        this.offset += 16;
        return true;
      }
      case 'CNAME': case 'PTR': case 'NS':
        return this.name(String(data), true, limit);
      case 'TXT': {
        const text = Buffer.from(Array.isArray(data) ? data.map(String).join('') : String(data), 'utf8');
        if (text.length > 255) throw new Error('reply: TXT string longer than 255 bytes');
        if (this.offset + 1 + text.length > limit) return false;
        buf[this.offset] = text.length;
        text.copy(buf, this.offset + 1);
        this.offset += 1 + text.length;
        return true;
      }
      case 'SRV': {
        const srv = data as { priority: number; weight: number; port: number; target: string };
        if (this.offset + 6 > limit) return false;
        buf.writeUInt16BE(srv.priority, this.offset);
        buf.writeUInt16BE(srv.weight, this.offset + 2);
        buf.writeUInt16BE(srv.port, this.offset + 4);
        this.offset += 6;
        // RFC 2782: the target must not be compressed (later names may still point into it).
        return this.name(srv.target, false, limit);
      }
      case 'SOA': {
        const soa = data as { mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number };
        if (!this.name(soa.mname, true, limit) || !this.name(soa.rname, true, limit)) return false;
        if (this.offset + 20 > limit) return false;
        buf.writeUInt32BE(soa.serial >>> 0, this.offset);
        buf.writeUInt32BE(soa.refresh, this.offset + 4);
        buf.writeUInt32BE(soa.retry, this.offset + 8);
        buf.writeUInt32BE(soa.expire, this.offset + 12);
        buf.writeUInt32BE(soa.minimum, this.offset + 16);
        this.offset += 20;
        return true;
      }
      default:
        throw new Error(`reply: cannot encode record type ${rr.type}`);
    }
  }

  /**
   * Writes a domain name: its labels until a suffix already in the message, then a pointer to it
   * (when `compress`), else the root label. Every new suffix written becomes a pointer target.
   */
  private name(name: string, compress: boolean, limit: number): boolean {
    const buf = this.buf;
    let rest = name.endsWith('.') ? name.slice(0, -1) : name;
    let key = rest.toLowerCase();
    while (rest.length > 0) {
      if (compress) {
        const q = this.question;
        const inQuestion = q.endsWith(key) && (q.length === key.length || q.charCodeAt(q.length - key.length - 1) === 0x2e);
        const at = inQuestion ? 12 + q.length - key.length : this.names.get(key);
        if (at !== undefined) {
          if (this.offset + 2 > limit) return false;
          buf.writeUInt16BE(0xc000 | at, this.offset);
          this.offset += 2;
          return true;
        }
      }
      const dot = rest.indexOf('.');
      const label = dot < 0 ? rest : rest.slice(0, dot);
      if (label.length === 0 || label.length > 63) throw new Error(`reply: bad label in ${JSON.stringify(name)}`);
      if (this.offset + 1 + label.length > limit) return false;
      if (this.offset <= MAX_POINTER && !this.names.has(key)) this.names.set(key, this.offset);
      buf[this.offset] = label.length;
      buf.write(label, this.offset + 1, 'latin1');
      this.offset += 1 + label.length;
      if (dot < 0) break;
      rest = rest.slice(dot + 1);
      key = key.slice(dot + 1);
    }
    if (this.offset + 1 > limit) return false;
    buf[this.offset++] = 0;
    return true;
  }
}

/** Writes an IPv6 address (text, `::` allowed) as 16 bytes. */
function writeIPv6(buf: Buffer, at: number, ip: string): void {
  const [head, tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = ip.includes('::') && tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  for (let i = 0; i < 8; i++) buf.writeUInt16BE(parseInt(groups[i], 16) || 0, at + 2 * i);
}

/**
 * SPDY/3 header blocks: the name/value layout and its compression. Each direction of a connection
 * is ONE zlib stream primed with the SPDY/3 dictionary; every header block is a sync-flushed piece
 * of it, so a block can only be decoded after every earlier block of that direction.
 *
 *   block: count(32) then per header name-len(32) name value-len(32) value  (values joined by NUL)
 */
import * as zlib from 'node:zlib';
import { SPDY3_DICTIONARY } from './dictionary.js';
import { SpdyProtocolError } from './frames.js';

/** Header names (lower case, as SPDY requires) to values. */
export type SpdyHeaders = Map<string, string[]>;

/**
 * Most bytes one header block may inflate to. A frame's compressed size is bounded by the frame
 * decoder, but deflate expands ~1000×, so without this a 200 KB SYN_STREAM becomes 200 MB here.
 * Go's net/http allows 1 MiB of request headers; kubectl's port-forward streams send about 100 bytes.
 */
export const MAX_HEADER_BLOCK_BYTES = 256 * 1024;

/** Most name/value pairs one header block may hold (kubectl sends 3 or 4). */
export const MAX_HEADER_PAIRS = 1000;

/** The uncompressed layout of a header block. Names are lower-cased, as SPDY/3 requires. */
export function encodeHeaderPairs(headers: Iterable<[string, string | string[]]>): Buffer {
  const parts: Buffer[] = [];
  let count = 0;
  const u32 = (n: number): Buffer => { const b = Buffer.allocUnsafe(4); b.writeUInt32BE(n); return b; };
  for (const [name, value] of headers) {
    const n = Buffer.from(name.toLowerCase(), 'utf8');
    const v = Buffer.from(Array.isArray(value) ? value.join('\0') : value, 'utf8');
    parts.push(u32(n.length), n, u32(v.length), v);
    count++;
  }
  return Buffer.concat([u32(count), ...parts]);
}

/** Parses an uncompressed header block. Throws SpdyProtocolError when it is cut short or has too many pairs. */
export function decodeHeaderPairs(raw: Buffer): SpdyHeaders {
  let off = 0;
  const u32 = (): number => {
    if (off + 4 > raw.length) throw new SpdyProtocolError('header block truncated');
    const n = raw.readUInt32BE(off);
    off += 4;
    return n;
  };
  const bytes = (n: number): string => {
    if (off + n > raw.length) throw new SpdyProtocolError('header block truncated');
    const s = raw.toString('utf8', off, off + n);
    off += n;
    return s;
  };
  const out: SpdyHeaders = new Map();
  const count = u32();
  if (count > MAX_HEADER_PAIRS) throw new SpdyProtocolError(`header block of ${count} pairs (at most ${MAX_HEADER_PAIRS})`);
  for (let i = 0; i < count; i++) {
    const name = bytes(u32()).toLowerCase();
    const values = bytes(u32()).split('\0');
    // A repeated name adds to its list in place (copying the list per repeat is quadratic).
    const list = out.get(name);
    if (list) for (const v of values) list.push(v);
    else out.set(name, values);
  }
  return out;
}

function adler32(b: Buffer): number {
  let a = 1, s = 0;
  for (let i = 0; i < b.length; i++) { a = (a + b[i]!) % 65521; s = (s + a) % 65521; }
  return ((s << 16) | a) >>> 0;
}

function storedBlockHeader(len: number): Buffer {
  const head = Buffer.allocUnsafe(5);
  head[0] = 0x00; // BFINAL=0, BTYPE=00 (stored), padded to the byte boundary
  head.writeUInt16LE(len, 1);
  head.writeUInt16LE(~len & 0xffff, 3);
  return head;
}

/**
 * The compressing side, synchronous so a reply can be framed at once. The few headers a server
 * sends (empty SYN_REPLYs) gain nothing from compression, so each block is written as deflate
 * "stored" blocks — valid members of the zlib stream the peer's inflater reads with the dictionary,
 * ended like a sync flush. The first block carries the zlib header naming the dictionary.
 */
export class HeaderCompressor {
  private started = false;

  compress(raw: Buffer): Buffer {
    const parts: Buffer[] = [];
    if (!this.started) {
      this.started = true;
      // CMF 0x78 (deflate, 32 KiB window); FLG with FDICT set and FCHECK making CMF·256+FLG ≡ 0 mod 31.
      const cmf = 0x78;
      let flg = 0x20;
      flg += (31 - ((cmf * 256 + flg) % 31)) % 31;
      const dictId = Buffer.allocUnsafe(4);
      dictId.writeUInt32BE(adler32(SPDY3_DICTIONARY));
      parts.push(Buffer.from([cmf, flg]), dictId);
    }
    // A stored block holds at most 65535 bytes.
    for (let off = 0; off < raw.length; off += 0xffff) parts.push(storedBlockHeader(Math.min(0xffff, raw.length - off)), raw.subarray(off, off + 0xffff));
    // Then the empty stored block a zlib sync flush ends with: it is what makes an inflater hand out
    // the block's bytes without first reading past the frame (Go's flate otherwise reads the next
    // block header, hits the end of the frame and fails every later block).
    parts.push(storedBlockHeader(0));
    return Buffer.concat(parts);
  }
}

/**
 * The decompressing side: one inflater per connection direction, fed block by block in order.
 * Each write is processed with Z_SYNC_FLUSH, so all of a block's output has been emitted when the
 * write's callback runs. A block inflating past `maxBlockBytes` fails the decompressor (and so the
 * connection) as soon as that many bytes have come out, before the rest is inflated.
 */
export class HeaderDecompressor {
  private readonly inflate = zlib.createInflate({ dictionary: SPDY3_DICTIONARY, flush: zlib.constants.Z_SYNC_FLUSH });
  private out: Buffer[] = [];
  private outBytes = 0;
  private failed?: Error;
  /** Rejections of decodes in flight: a zlib error destroys the stream without running write callbacks. */
  private readonly pending = new Set<(e: Error) => void>();

  constructor(private readonly maxBlockBytes = MAX_HEADER_BLOCK_BYTES) {
    this.inflate.on('data', (c: Buffer) => {
      if (this.failed) return;
      this.outBytes += c.length;
      if (this.outBytes > this.maxBlockBytes) {
        this.abort(new SpdyProtocolError(`header block inflates past ${this.maxBlockBytes} bytes`));
        return;
      }
      this.out.push(c);
    });
    this.inflate.on('error', (e: Error) => this.abort(new SpdyProtocolError(`header decompression: ${e.message}`)));
  }

  /** Decompresses and parses the next block of this direction. */
  decode(block: Buffer): Promise<SpdyHeaders> {
    return new Promise((resolve, reject) => {
      if (this.failed) { reject(this.failed); return; }
      this.pending.add(reject);
      this.inflate.write(block, (err) => {
        if (!this.pending.delete(reject)) return;
        if (err) { reject(new SpdyProtocolError(`header decompression: ${err.message}`)); return; }
        const raw = Buffer.concat(this.out, this.outBytes);
        this.out = [];
        this.outBytes = 0;
        try { resolve(decodeHeaderPairs(raw)); } catch (x) { reject(x); }
      });
    });
  }

  close(): void {
    this.inflate.destroy();
  }

  // The zlib stream cannot skip a block, so after any failure no later block can be decoded either:
  // stop inflating at once (destroying drops the rest of the bomb) and fail every decode.
  private abort(e: Error): void {
    if (this.failed) return;
    this.failed = e;
    this.out = [];
    this.inflate.destroy();
    for (const reject of this.pending) reject(e);
    this.pending.clear();
  }
}

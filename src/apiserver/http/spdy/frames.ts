/**
 * SPDY/3.1 framing (draft-mbelshe-httpbis-spdy-00 §2.2 with the 3.1 WINDOW_UPDATE): pure encode and
 * an incremental decoder that turns an arbitrary split of the byte stream back into frames. Header
 * blocks stay compressed here; headerblock.ts owns their (stateful) compression.
 *
 *   control frame: 1 | version(15) | type(16) | flags(8) | length(24) | payload
 *   data frame:    0 | stream id(31)          | flags(8) | length(24) | payload
 */

/** The only version spoken (kubectl's spdystream sends 3). */
export const SPDY_VERSION = 3;

/** Control frame types. */
export const ControlType = {
  synStream: 1, synReply: 2, rstStream: 3, settings: 4, ping: 6, goAway: 7, headers: 8, windowUpdate: 9,
} as const;

/** FLAG_FIN on data, SYN_STREAM, SYN_REPLY and HEADERS: the sender will send nothing more. */
export const FLAG_FIN = 0x01;
/** FLAG_UNIDIRECTIONAL on SYN_STREAM: the receiver must not send on the stream. */
export const FLAG_UNIDIRECTIONAL = 0x02;

/** RST_STREAM status codes. */
export const RstStatus = {
  protocolError: 1, invalidStream: 2, refusedStream: 3, unsupportedVersion: 4, cancel: 5,
  internalError: 6, flowControlError: 7, streamInUse: 8, streamAlreadyClosed: 9, frameTooLarge: 11,
} as const;

/** Largest payload a frame can carry (24-bit length). */
export const MAX_FRAME_PAYLOAD = 0xffffff;

/** One decoded frame; `headerBlock` is still compressed. */
export type SpdyFrame =
  | { kind: 'data'; streamId: number; fin: boolean; data: Buffer }
  | { kind: 'synStream'; streamId: number; associatedTo: number; priority: number; fin: boolean; unidirectional: boolean; headerBlock: Buffer }
  | { kind: 'synReply'; streamId: number; fin: boolean; headerBlock: Buffer }
  | { kind: 'rstStream'; streamId: number; status: number }
  | { kind: 'settings'; entries: { id: number; flags: number; value: number }[] }
  | { kind: 'ping'; id: number }
  | { kind: 'goAway'; lastGoodStreamId: number; status: number }
  | { kind: 'headers'; streamId: number; fin: boolean; headerBlock: Buffer }
  | { kind: 'windowUpdate'; streamId: number; delta: number }
  /** A control type this side does not know; SPDY says to ignore it. */
  | { kind: 'unknown'; type: number };

/** A malformed frame: the connection cannot continue (framing is lost). */
export class SpdyProtocolError extends Error {
  readonly code = 'SPDY_PROTOCOL_ERROR';
}

const u31 = (n: number): number => n & 0x7fffffff;

function control(type: number, flags: number, payload: Buffer): Buffer {
  if (payload.length > MAX_FRAME_PAYLOAD) throw new SpdyProtocolError(`control frame payload of ${payload.length} bytes`);
  const out = Buffer.allocUnsafe(8 + payload.length);
  out.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  out.writeUInt16BE(type, 2);
  out.writeUInt32BE(((flags & 0xff) << 24 | payload.length) >>> 0, 4);
  payload.copy(out, 8);
  return out;
}

function words(...ns: number[]): Buffer {
  const b = Buffer.allocUnsafe(4 * ns.length);
  ns.forEach((n, i) => b.writeUInt32BE(n >>> 0, 4 * i));
  return b;
}

/** Serializes one frame. Header blocks must already be compressed. */
export function encodeFrame(f: SpdyFrame): Buffer {
  switch (f.kind) {
    case 'data': {
      if (f.data.length > MAX_FRAME_PAYLOAD) throw new SpdyProtocolError(`data frame payload of ${f.data.length} bytes`);
      const out = Buffer.allocUnsafe(8 + f.data.length);
      out.writeUInt32BE(u31(f.streamId), 0);
      out.writeUInt32BE(((f.fin ? FLAG_FIN : 0) << 24 | f.data.length) >>> 0, 4);
      f.data.copy(out, 8);
      return out;
    }
    case 'synStream': {
      const head = Buffer.allocUnsafe(10);
      head.writeUInt32BE(u31(f.streamId), 0);
      head.writeUInt32BE(u31(f.associatedTo), 4);
      head[8] = (f.priority & 0x7) << 5;
      head[9] = 0; // credential slot
      const flags = (f.fin ? FLAG_FIN : 0) | (f.unidirectional ? FLAG_UNIDIRECTIONAL : 0);
      return control(ControlType.synStream, flags, Buffer.concat([head, f.headerBlock]));
    }
    case 'synReply':
      return control(ControlType.synReply, f.fin ? FLAG_FIN : 0, Buffer.concat([words(u31(f.streamId)), f.headerBlock]));
    case 'headers':
      return control(ControlType.headers, f.fin ? FLAG_FIN : 0, Buffer.concat([words(u31(f.streamId)), f.headerBlock]));
    case 'rstStream':
      return control(ControlType.rstStream, 0, words(u31(f.streamId), f.status));
    case 'settings':
      return control(ControlType.settings, 0, words(f.entries.length, ...f.entries.flatMap((e) => [((e.flags & 0xff) << 24 | (e.id & 0xffffff)) >>> 0, e.value])));
    case 'ping':
      return control(ControlType.ping, 0, words(f.id));
    case 'goAway':
      return control(ControlType.goAway, 0, words(u31(f.lastGoodStreamId), f.status));
    case 'windowUpdate':
      return control(ControlType.windowUpdate, 0, words(u31(f.streamId), u31(f.delta)));
    case 'unknown':
      throw new SpdyProtocolError(`cannot encode unknown control type ${f.type}`);
  }
}

function need(payload: Buffer, n: number, what: string): void {
  if (payload.length < n) throw new SpdyProtocolError(`${what} frame too short (${payload.length} bytes)`);
}

function decodeControl(type: number, flags: number, p: Buffer): SpdyFrame {
  const fin = (flags & FLAG_FIN) !== 0;
  switch (type) {
    case ControlType.synStream:
      need(p, 10, 'SYN_STREAM');
      return {
        kind: 'synStream', streamId: u31(p.readUInt32BE(0)), associatedTo: u31(p.readUInt32BE(4)), priority: p[8]! >> 5,
        fin, unidirectional: (flags & FLAG_UNIDIRECTIONAL) !== 0, headerBlock: p.subarray(10),
      };
    case ControlType.synReply:
      need(p, 4, 'SYN_REPLY');
      return { kind: 'synReply', streamId: u31(p.readUInt32BE(0)), fin, headerBlock: p.subarray(4) };
    case ControlType.headers:
      need(p, 4, 'HEADERS');
      return { kind: 'headers', streamId: u31(p.readUInt32BE(0)), fin, headerBlock: p.subarray(4) };
    case ControlType.rstStream:
      need(p, 8, 'RST_STREAM');
      return { kind: 'rstStream', streamId: u31(p.readUInt32BE(0)), status: p.readUInt32BE(4) };
    case ControlType.settings: {
      need(p, 4, 'SETTINGS');
      const n = p.readUInt32BE(0);
      need(p, 4 + 8 * n, 'SETTINGS');
      const entries = [];
      for (let i = 0; i < n; i++) {
        const w = p.readUInt32BE(4 + 8 * i);
        entries.push({ flags: w >>> 24, id: w & 0xffffff, value: p.readUInt32BE(8 + 8 * i) });
      }
      return { kind: 'settings', entries };
    }
    case ControlType.ping:
      need(p, 4, 'PING');
      return { kind: 'ping', id: p.readUInt32BE(0) };
    case ControlType.goAway:
      need(p, 8, 'GOAWAY');
      return { kind: 'goAway', lastGoodStreamId: u31(p.readUInt32BE(0)), status: p.readUInt32BE(4) };
    case ControlType.windowUpdate:
      need(p, 8, 'WINDOW_UPDATE');
      return { kind: 'windowUpdate', streamId: u31(p.readUInt32BE(0)), delta: u31(p.readUInt32BE(4)) };
    default:
      return { kind: 'unknown', type };
  }
}

/**
 * Reassembles frames from a byte stream cut anywhere (TCP segments, WebSocket messages).
 * `maxControlPayload` bounds what a peer can make this side buffer for one control frame.
 */
export class FrameDecoder {
  // Bytes of the frame being received, as they came: joined once the frame is complete, so a big
  // frame arriving in many pieces is copied once rather than once per piece.
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Bytes needed before parsing can make progress: a frame header, then the whole frame. */
  private needed = 8;

  constructor(private readonly maxControlPayload = 1 << 20) {}

  /** Appends bytes; returns every frame now complete. Throws SpdyProtocolError on bad framing. */
  push(chunk: Buffer): SpdyFrame[] {
    if (chunk.length) { this.chunks.push(chunk); this.buffered += chunk.length; }
    if (this.buffered < this.needed) return [];
    const buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    const frames: SpdyFrame[] = [];
    let off = 0;
    this.needed = 8;
    while (buf.length - off >= 8) {
      const w0 = buf.readUInt32BE(off);
      const w1 = buf.readUInt32BE(off + 4);
      const flags = w1 >>> 24;
      const len = w1 & 0xffffff;
      const isControl = (w0 & 0x80000000) !== 0;
      if (isControl) {
        const version = (w0 >>> 16) & 0x7fff;
        if (version !== SPDY_VERSION) throw new SpdyProtocolError(`unsupported SPDY version ${version}`);
        if (len > this.maxControlPayload) throw new SpdyProtocolError(`control frame of ${len} bytes is too large`);
      }
      if (buf.length - off < 8 + len) { this.needed = 8 + len; break; }
      // Copy the payload out: the frame outlives this buffer, which is reused for the next read.
      const payload = Buffer.from(buf.subarray(off + 8, off + 8 + len));
      off += 8 + len;
      if (isControl) frames.push(decodeControl(w0 & 0xffff, flags, payload));
      else frames.push({ kind: 'data', streamId: u31(w0), fin: (flags & FLAG_FIN) !== 0, data: payload });
    }
    this.chunks = off === buf.length ? [] : [buf.subarray(off)];
    this.buffered = buf.length - off;
    return frames;
  }
}

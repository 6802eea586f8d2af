/**
 * The server end of a SPDY/3.1 connection, the part kubectl's spdystream client needs: streams the
 * client opens (SYN_STREAM → SYN_REPLY), DATA both ways with FIN half-closes, RST_STREAM, PING echo
 * and GOAWAY. The bytes travel over any transport (a raw upgraded socket, or WebSocket binary
 * messages for the "SPDY/3.1+…" tunnel), so the session only sees chunks in and writes out.
 *
 * Flow control: spdystream neither sends WINDOW_UPDATE nor honours it, so (like the kubelet) this
 * side ignores SPDY windows. Backpressure comes from the transport instead: a stream whose reader
 * is full pauses reading from the connection, a stream's writes complete only once the transport
 * has taken the bytes, and control frames sent in answer to the client (PING echoes, refusals)
 * that the transport has not taken yet pause reading past MAX_UNSENT_CONTROL_BYTES — else a client
 * that pings and never reads would grow this side's write buffer without limit.
 */
import { Duplex } from 'node:stream';
import { encodeFrame, FrameDecoder, RstStatus, SpdyProtocolError, type SpdyFrame } from './frames.js';
import { encodeHeaderPairs, HeaderCompressor, HeaderDecompressor, type SpdyHeaders } from './headerblock.js';

/** Where a session's bytes go. Implemented over a socket and over a WebSocket. */
export interface SpdyTransport {
  /** Sends bytes; `done` runs once the transport has taken them (or failed). */
  write(bytes: Buffer, done: (err?: Error | null) => void): void;
  /** Stops delivering received bytes, so TCP pushes back on the peer; `resume` restarts. */
  pause(): void;
  resume(): void;
  /** Closes the connection (after what was written). */
  close(): void;
}

/** Largest DATA frame sent (the kubelet copies in 32 KiB pieces too). */
const MAX_DATA_FRAME = 32 * 1024;

/**
 * Control-frame bytes waiting in the transport above which the client is no longer read: ~20k
 * PING echoes. Resumes at half, so a slow reader does not flip reading on and off per frame.
 */
export const MAX_UNSENT_CONTROL_BYTES = 256 * 1024;

/**
 * One client-opened stream as a Duplex: readable = the client's DATA (ends at its FIN), writable =
 * DATA to the client (`end()` sends FIN). Destroying a stream that is not closed both ways sends
 * RST_STREAM(CANCEL).
 */
export class SpdyStream extends Duplex {
  /** True once the peer reset the stream (no RST is sent back). */
  resetByPeer = false;
  private finSent = false;
  private finReceived = false;

  constructor(private readonly session: SpdyServerSession, readonly id: number, readonly headers: SpdyHeaders) {
    super({ allowHalfOpen: true });
  }

  /** First value of a header (names are lower case). */
  header(name: string): string | undefined {
    return this.headers.get(name.toLowerCase())?.[0];
  }

  /** Accepts the stream (SYN_REPLY with no headers), as the kubelet does for every stream it keeps. */
  reply(): void {
    this.session.sendReply(this.id);
  }

  /** @internal DATA from the peer. */
  receive(data: Buffer, fin: boolean): void {
    if (this.finReceived || this.destroyed) return;
    if (data.length && !this.push(data)) this.session.block(this);
    if (fin) { this.finReceived = true; this.push(null); }
  }

  /** @internal RST_STREAM from the peer. */
  reset(): void {
    this.resetByPeer = true;
    this.destroy();
  }

  override _read(): void {
    this.session.unblock(this);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.session.sendData(this.id, chunk, false, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.finSent = true;
    this.session.sendData(this.id, Buffer.alloc(0), true, cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.resetByPeer && !(this.finSent && this.finReceived)) this.session.sendReset(this.id, RstStatus.cancel);
    this.session.forget(this);
    cb(err);
  }
}

/** Options of {@link SpdyServerSession}. */
export interface SpdySessionOptions {
  /** Called for every stream the client opens; call `stream.reply()` to accept it or destroy it. */
  onStream(stream: SpdyStream): void;
  /** Called once when the session has ended (transport closed, GOAWAY, or protocol error). */
  onClose?(err?: Error): void;
}

/** The server side of one SPDY/3.1 connection. Feed it with `receive`; tell it `transportClosed`. */
export class SpdyServerSession {
  private readonly decoder = new FrameDecoder();
  private readonly compressor = new HeaderCompressor();
  private readonly decompressor = new HeaderDecompressor();
  private readonly streams = new Map<number, SpdyStream>();
  private readonly blocked = new Set<SpdyStream>();
  /** Bytes of control frames handed to the transport and not yet taken by it. */
  private unsentControlBytes = 0;
  private controlBacklogged = false;
  private readingPaused = false;
  private readonly queue: SpdyFrame[] = [];
  private pumping = false;
  private lastStreamId = 0;
  private closed = false;

  constructor(private readonly transport: SpdyTransport, private readonly opts: SpdySessionOptions) {}

  /** Bytes from the client, cut anywhere. */
  receive(bytes: Buffer): void {
    if (this.closed) return;
    try {
      this.queue.push(...this.decoder.push(bytes));
    } catch (e) {
      this.fail(e as Error);
      return;
    }
    void this.pump();
  }

  /** The transport is gone: every stream ends at once. */
  transportClosed(): void {
    this.shutdown();
  }

  /** Ends the session from this side: GOAWAY, then the transport closes. */
  close(): void {
    if (this.closed) return;
    this.send(encodeFrame({ kind: 'goAway', lastGoodStreamId: this.lastStreamId, status: 0 }));
    this.shutdown();
  }

  /** Number of open streams (for tests and leak checks). */
  get streamCount(): number {
    return this.streams.size;
  }

  // Frames are handled strictly in order: a header block can only be inflated after every earlier
  // one, and DATA for a new stream must not overtake its SYN_STREAM.
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length && !this.closed) {
        const pending = this.handle(this.queue.shift()!);
        if (pending) await pending;
      }
    } catch (e) {
      this.fail(e as Error);
    } finally {
      this.pumping = false;
    }
  }

  private handle(f: SpdyFrame): Promise<void> | undefined {
    switch (f.kind) {
      case 'synStream':
        return this.decompressor.decode(f.headerBlock).then((headers) => this.openStream(f.streamId, headers, f.fin));
      case 'synReply':
      case 'headers':
        // Not expected from a client, but its block is part of the zlib stream: inflate to stay in step.
        return this.decompressor.decode(f.headerBlock).then(() => undefined);
      case 'data':
        // DATA for a stream already gone (reset, or closed here) is dropped, as spdystream does.
        this.streams.get(f.streamId)?.receive(f.data, f.fin);
        return undefined;
      case 'rstStream':
        this.streams.get(f.streamId)?.reset();
        return undefined;
      case 'ping':
        // Client pings have odd ids and are echoed; even ids would answer pings this side never sends.
        if (f.id % 2 === 1) this.sendControl(encodeFrame(f));
        return undefined;
      case 'goAway':
        this.shutdown();
        return undefined;
      case 'settings':
      case 'windowUpdate':
      case 'unknown':
        return undefined;
    }
  }

  private openStream(id: number, headers: SpdyHeaders, fin: boolean): void {
    if (this.closed) return;
    if (id % 2 !== 1 || id <= this.lastStreamId) {
      this.sendReset(id, RstStatus.protocolError);
      return;
    }
    this.lastStreamId = id;
    const stream = new SpdyStream(this, id, headers);
    this.streams.set(id, stream);
    if (fin) stream.receive(Buffer.alloc(0), true);
    this.opts.onStream(stream);
  }

  private fail(e: Error): void {
    if (this.closed) return;
    const status = e instanceof SpdyProtocolError ? 1 : 2;
    this.send(encodeFrame({ kind: 'goAway', lastGoodStreamId: this.lastStreamId, status }));
    this.shutdown(e);
  }

  private shutdown(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.streams.values()]) s.destroy();
    this.streams.clear();
    this.blocked.clear();
    this.decompressor.close();
    this.transport.close();
    this.opts.onClose?.(err);
  }

  private send(bytes: Buffer, done?: (err?: Error | null) => void): void {
    this.transport.write(bytes, done ?? (() => undefined));
  }

  // DATA is paced by its stream's writer waiting for `done`; control frames have no writer to wait,
  // so the client that provokes them is paced instead: it is not read while too many are unsent.
  private sendControl(bytes: Buffer): void {
    this.unsentControlBytes += bytes.length;
    if (this.unsentControlBytes > MAX_UNSENT_CONTROL_BYTES) this.controlBacklogged = true;
    this.updateReading();
    this.send(bytes, () => {
      this.unsentControlBytes -= bytes.length;
      if (this.controlBacklogged && this.unsentControlBytes <= MAX_UNSENT_CONTROL_BYTES / 2) {
        this.controlBacklogged = false;
        this.updateReading();
      }
    });
  }

  /** Reads from the transport unless a stream's reader is full or control replies are backed up. */
  private updateReading(): void {
    const pause = this.blocked.size > 0 || this.controlBacklogged;
    if (pause === this.readingPaused || this.closed) return;
    this.readingPaused = pause;
    if (pause) this.transport.pause();
    else this.transport.resume();
  }

  /** @internal */
  sendReply(id: number): void {
    if (this.closed) return;
    const block = this.compressor.compress(encodeHeaderPairs([]));
    this.sendControl(encodeFrame({ kind: 'synReply', streamId: id, fin: false, headerBlock: block }));
  }

  /** @internal */
  sendData(id: number, data: Buffer, fin: boolean, done: (err?: Error | null) => void): void {
    if (this.closed) { done(new Error('SPDY connection closed')); return; }
    let off = 0;
    do {
      const piece = data.subarray(off, off + MAX_DATA_FRAME);
      off += piece.length;
      const last = off >= data.length;
      this.send(encodeFrame({ kind: 'data', streamId: id, fin: fin && last, data: piece }), last ? done : undefined);
    } while (off < data.length);
  }

  /** @internal */
  sendReset(id: number, status: number): void {
    if (!this.closed) this.sendControl(encodeFrame({ kind: 'rstStream', streamId: id, status }));
  }

  /** @internal A stream's reader is full: stop reading the connection until it drains. */
  block(s: SpdyStream): void {
    this.blocked.add(s);
    this.updateReading();
  }

  /** @internal */
  unblock(s: SpdyStream): void {
    if (this.blocked.delete(s)) this.updateReading();
  }

  /** @internal */
  forget(s: SpdyStream): void {
    this.streams.delete(s.id);
    this.unblock(s);
  }
}

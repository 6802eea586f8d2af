/**
 * Test helper: the client end of a SPDY/3.1 connection, as kubectl's spdystream behaves — header
 * blocks compressed by a real zlib deflater (sync flush per block, like Go's framer), frames read
 * back with FrameDecoder. Wired to a session through an in-memory transport; used by unit tests only.
 */
import * as zlib from 'node:zlib';
import { SPDY3_DICTIONARY } from '../dictionary.js';
import { encodeFrame, FrameDecoder, type SpdyFrame } from '../frames.js';
import { decodeHeaderPairs, encodeHeaderPairs, type SpdyHeaders } from '../headerblock.js';
import type { SpdyServerSession, SpdyTransport } from '../session.js';

export class SpdyTestClient {
  /** Every frame the server sent, in order; header blocks of SYN_REPLY decoded into `replies`. */
  readonly frames: SpdyFrame[] = [];
  readonly replies = new Map<number, SpdyHeaders>();
  closed = false;
  paused = false;
  /** While true the transport takes no bytes (a peer that stops reading): writes stay unfinished. */
  stallWrites = false;
  private readonly stalled: (() => void)[] = [];
  session!: SpdyServerSession;
  private readonly deflate = zlib.createDeflate({ dictionary: SPDY3_DICTIONARY, level: 9 });
  private readonly inflate = zlib.createInflate({ dictionary: SPDY3_DICTIONARY, flush: zlib.constants.Z_SYNC_FLUSH });
  private readonly decoder = new FrameDecoder();
  private nextId = 1;
  private waiters: (() => void)[] = [];
  private chain: Promise<void> = Promise.resolve();

  /** The transport to hand to the server session under test. */
  readonly transport: SpdyTransport = {
    write: (bytes, done) => {
      const frames = this.decoder.push(bytes);
      this.chain = this.chain.then(async () => {
        for (const f of frames) {
          if (f.kind === 'synReply') this.replies.set(f.streamId, decodeHeaderPairs(await this.inflateBlock(f.headerBlock)));
          this.frames.push(f);
        }
        for (const w of this.waiters.splice(0)) w();
      });
      if (this.stallWrites) this.stalled.push(() => done());
      else setImmediate(() => done());
    },
    pause: () => { this.paused = true; },
    resume: () => { this.paused = false; },
    close: () => { this.closed = true; for (const w of this.waiters.splice(0)) w(); },
  };

  /** Opens a stream (with the next odd id unless `id` is given); resolves with its id once sent. */
  async open(headers: Record<string, string>, fin = false, id = this.nextId): Promise<number> {
    if (id === this.nextId) this.nextId += 2;
    const headerBlock = await this.deflateBlock(encodeHeaderPairs(Object.entries(headers)));
    this.send({ kind: 'synStream', streamId: id, associatedTo: 0, priority: 0, fin, unidirectional: false, headerBlock });
    return id;
  }

  /** The peer reads again: every write held by `stallWrites` finishes. */
  releaseWrites(): void {
    this.stallWrites = false;
    for (const done of this.stalled.splice(0)) done();
  }

  send(f: SpdyFrame): void {
    this.session.receive(encodeFrame(f));
  }

  data(streamId: number, data: string | Buffer, fin = false): void {
    this.send({ kind: 'data', streamId, fin, data: Buffer.from(data) });
  }

  /** Waits until `pred` holds over the frames received so far. */
  async until(pred: (frames: SpdyFrame[]) => boolean, ms = 3000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred(this.frames)) {
      if (Date.now() > deadline) throw new Error(`timed out; frames: ${JSON.stringify(this.frames.map((f) => ({ ...f, ...('data' in f ? { data: f.data.toString() } : {}) })))}`);
      await new Promise<void>((r) => { this.waiters.push(r); setTimeout(r, 20); });
    }
  }

  /** All DATA received on a stream, and whether its FIN arrived. */
  received(streamId: number): { text: string; fin: boolean } {
    const ds = this.frames.filter((f): f is Extract<SpdyFrame, { kind: 'data' }> => f.kind === 'data' && f.streamId === streamId);
    return { text: Buffer.concat(ds.map((d) => d.data)).toString(), fin: ds.some((d) => d.fin) };
  }

  private deflateBlock(raw: Buffer): Promise<Buffer> {
    return new Promise((resolve) => {
      const out: Buffer[] = [];
      const onData = (c: Buffer): number => out.push(c);
      this.deflate.on('data', onData);
      this.deflate.write(raw);
      this.deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => setImmediate(() => { this.deflate.off('data', onData); resolve(Buffer.concat(out)); }));
    });
  }

  private inflateBlock(block: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const out: Buffer[] = [];
      const onData = (c: Buffer): number => out.push(c);
      this.inflate.on('data', onData);
      this.inflate.write(block, (e) => { this.inflate.off('data', onData); if (e) reject(e); else resolve(Buffer.concat(out)); });
    });
  }
}

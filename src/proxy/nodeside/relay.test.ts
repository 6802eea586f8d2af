// The userspace relay's read → write step (relay.mjs), driven as Node drives an `onread` socket,
// into a Writable that takes some writes at once and keeps others queued (holding the very Buffer
// it was given, as a socket's queued write does). The bytes that come out must be the bytes that
// went in, whatever is reused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createServer, connect } from 'node:net';
import { relayReads, relayingServer } from './relay.mjs';

/** A deterministic byte source (xorshift), so a failure replays. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 2 ** 32; };
}

async function relayOnce(seed: number, total: number, readBytes: number): Promise<{ sent: Buffer; got: Buffer; pauses: number; maxQueued: number }> {
  const rand = rng(seed);
  const sent = Buffer.alloc(total);
  for (let i = 0; i < total; i++) sent[i] = Math.floor(rand() * 256);
  const out: Buffer[] = [];
  /** Writes kept queued: their bytes are read (copied out) only when they complete, as the kernel would. */
  const held: { chunk: Buffer; done: () => void }[] = [];
  let maxQueued = 0;
  const to = new Writable({
    highWaterMark: readBytes,
    write(chunk: Buffer, _enc, done) {
      if (rand() < 0.5) { out.push(Buffer.from(chunk)); done(); return; }
      held.push({ chunk, done });
    },
  });
  let paused = false;
  let pauses = 0;
  const link = { from: { resume: () => { paused = false; } }, to };
  const onread = relayReads(link, readBytes);
  let at = 0;
  while (at < total) {
    if (paused || (held.length && rand() < 0.3)) {
      // Time passes: the peer takes what was queued (one write at a time), then the loop goes on.
      const h = held.shift();
      if (h) { out.push(Buffer.from(h.chunk)); h.done(); }
      await new Promise((r) => setImmediate(r));
      continue;
    }
    // A read: anything from 1 byte to a whole buffer, into the buffer onread hands out now.
    const n = Math.min(total - at, 1 + Math.floor(rand() * (rand() < 0.5 ? readBytes : 64)));
    const buf = onread.buffer();
    sent.copy(buf, 0, at, at + n);
    at += n;
    maxQueued = Math.max(maxQueued, to.writableLength);
    if (!onread.callback(n, buf)) { paused = true; pauses++; }
  }
  while (held.length || to.writableLength) {
    const h = held.shift();
    if (h) { out.push(Buffer.from(h.chunk)); h.done(); }
    await new Promise((r) => setImmediate(r));
  }
  return { sent, got: Buffer.concat(out), pauses, maxQueued };
}

test('every byte read comes out once and unchanged, whichever writes stay queued (reused buffers)', async () => {
  for (let seed = 1; seed <= 20; seed++) {
    const r = await relayOnce(seed, 200_000, 1024);
    assert.equal(r.got.length, r.sent.length, `seed ${seed}: length`);
    assert.ok(r.got.equals(r.sent), `seed ${seed}: bytes differ at ${r.got.findIndex((b, i) => b !== r.sent[i])}`);
    // The run did exercise backpressure (reads stopped while the peer was backed up).
    assert.ok(r.pauses > 0, `seed ${seed}: never paused`);
  }
});

test('reading stops while the peer is backed up: no more than one read beyond the high-water mark is queued', async () => {
  for (let seed = 21; seed <= 30; seed++) {
    const r = await relayOnce(seed, 100_000, 1024);
    assert.ok(r.maxQueued <= 2 * 1024, `seed ${seed}: ${r.maxQueued} bytes queued`);
  }
});

test('a link whose other side is gone stops reading', () => {
  const to = new Writable({ write(_c, _e, done) { done(); } });
  to.destroy();
  const onread = relayReads({ to }, 64);
  assert.equal(onread.callback(10, onread.buffer()), false);
  assert.equal(relayReads({}, 64).callback(1, Buffer.alloc(64)), false);
});

test('relayingServer hands over accepted connections as relaying sockets (the onread path, not stream data events), paused until their peer is set', async (t) => {
  // The "endpoint": echoes what it gets, upper-cased.
  const open: { destroy(): unknown }[] = [];
  const endpoint = createServer((s) => { open.push(s); s.on('data', (d) => s.write(d.toString().toUpperCase())); });
  await new Promise<void>((r) => endpoint.listen(0, '127.0.0.1', r));
  const accepted: { relay?: unknown }[] = [];
  const server = relayingServer((client) => {
    accepted.push(client);
    open.push(client);
    const up = connect((endpoint.address() as { port: number }).port, '127.0.0.1', () => {
      client.relay!.to = up;
      up.on('data', (d) => client.write(d));
      client.resume();
    });
    open.push(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => { for (const s of open) s.destroy(); server.close(); endpoint.close(); });
  const answer = await new Promise<string>((resolve, reject) => {
    const c = connect((server.address() as { port: number }).port, '127.0.0.1', () => c.write('hello'));
    c.on('data', (d) => { resolve(d.toString()); c.destroy(); });
    c.on('error', reject);
  });
  assert.equal(answer, 'HELLO');
  assert.equal(accepted.length, 1);
  assert.ok(accepted[0]!.relay, 'the accepted socket reads through relayReads (Node internals changed if this fails: the relay fell back to data events)');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_UNSENT_CONTROL_BYTES, SpdyServerSession, type SpdyStream } from './session.js';
import { SpdyTestClient } from './testing/client.js';

function setup(onStream: (s: SpdyStream) => void): SpdyTestClient {
  const c = new SpdyTestClient();
  c.session = new SpdyServerSession(c.transport, { onStream });
  return c;
}

test('a stream is accepted with SYN_REPLY, carries DATA both ways and half-closes with FIN', async () => {
  const c = setup((s) => {
    assert.equal(s.header('streamType'), 'data');
    s.reply();
    // An upper-casing echo: proves the bytes went through this stream both ways.
    s.on('data', (b: Buffer) => s.write(b.toString().toUpperCase()));
    s.on('end', () => s.end('bye'));
  });
  const id = await c.open({ streamtype: 'data', port: '80' });
  await c.until((fs) => fs.some((f) => f.kind === 'synReply' && f.streamId === id));
  assert.deepEqual(c.replies.get(id), new Map());
  c.data(id, 'hello');
  await c.until(() => c.received(id).text === 'HELLO');
  c.data(id, '', true);
  await c.until(() => c.received(id).fin);
  assert.equal(c.received(id).text, 'HELLObye');
  await c.until(() => c.session.streamCount === 0);
  assert.equal(c.frames.some((f) => f.kind === 'rstStream'), false, 'closed cleanly, no reset');
});

test('PING from the client is echoed; RST_STREAM from the client destroys the stream without a reply RST', async () => {
  let stream: SpdyStream | undefined;
  const c = setup((s) => { stream = s; s.reply(); });
  c.send({ kind: 'ping', id: 7 });
  await c.until((fs) => fs.some((f) => f.kind === 'ping' && f.id === 7));
  const id = await c.open({ streamtype: 'data' });
  await c.until((fs) => fs.some((f) => f.kind === 'synReply'));
  c.send({ kind: 'rstStream', streamId: id, status: 5 });
  await c.until(() => stream!.destroyed);
  assert.equal(stream!.resetByPeer, true);
  assert.equal(c.session.streamCount, 0);
  assert.equal(c.frames.some((f) => f.kind === 'rstStream'), false);
});

test('destroying a half-open stream sends RST_STREAM(CANCEL); a reused stream id is refused', async () => {
  const c = setup((s) => { s.reply(); setImmediate(() => s.destroy()); });
  const id = await c.open({ streamtype: 'data' });
  await c.until((fs) => fs.some((f) => f.kind === 'rstStream' && f.streamId === id && f.status === 5));
  // Stream ids from the client must be odd and increasing.
  await c.open({ streamtype: 'data' }, false, 2);
  await c.until((fs) => fs.some((f) => f.kind === 'rstStream' && f.streamId === 2 && f.status === 1));
});

test('GOAWAY or a framing error ends the session and every stream; a full reader pauses the transport', async () => {
  const streams: SpdyStream[] = [];
  const c = setup((s) => { streams.push(s); s.reply(); });
  const id = await c.open({ streamtype: 'data' });
  await c.until((fs) => fs.some((f) => f.kind === 'synReply'));
  // Nobody reads the stream: past its buffer the transport is paused, and resumed once read.
  for (let i = 0; i < 8; i++) c.data(id, Buffer.alloc(4096));
  assert.equal(c.paused, true);
  streams[0]!.resume();
  await new Promise((r) => setImmediate(r));
  assert.equal(c.paused, false);
  c.send({ kind: 'goAway', lastGoodStreamId: 0, status: 0 });
  assert.equal(c.closed, true);
  assert.equal(streams[0]!.destroyed, true);

  const d = setup(() => undefined);
  d.session.receive(Buffer.from('8002000600000004000000aa', 'hex')); // a SPDY/2 PING
  await d.until((fs) => fs.some((f) => f.kind === 'goAway' && f.status === 1));
  assert.equal(d.closed, true);
});

test('a client that pings and never reads is not read either once the unsent echoes pass the limit', async () => {
  const c = setup(() => undefined);
  c.stallWrites = true;
  const pings = Math.ceil(MAX_UNSENT_CONTROL_BYTES / 12) + 10; // a PING frame is 12 bytes
  for (let i = 0; i < pings; i++) c.send({ kind: 'ping', id: 2 * i + 1 });
  assert.equal(c.paused, true, 'reading paused while echoes wait in the transport');
  // The client reads again: the echoes go out, reading resumes, and every ping was answered once.
  c.releaseWrites();
  assert.equal(c.paused, false);
  // (An O(1) predicate: it runs once per frame received.)
  await c.until((fs) => fs.length >= pings, 10_000);
  assert.equal(c.frames.filter((f) => f.kind === 'ping').length, pings);
  // A full stream reader and the control backlog are separate reasons: resuming one keeps the other.
  const streams: SpdyStream[] = [];
  const d = setup((s) => { streams.push(s); s.reply(); });
  const id = await d.open({ streamtype: 'data' });
  await d.until((fs) => fs.some((f) => f.kind === 'synReply'));
  for (let i = 0; i < 8; i++) d.data(id, Buffer.alloc(4096));
  assert.equal(d.paused, true);
  d.stallWrites = true;
  for (let i = 0; i < pings; i++) d.send({ kind: 'ping', id: 2 * i + 1 });
  streams[0]!.resume();
  await new Promise((r) => setImmediate(r));
  assert.equal(d.paused, true, 'still backed up with echoes');
  d.releaseWrites();
  assert.equal(d.paused, false);
  d.session.close();
});

test('a SYN_STREAM whose headers inflate past the limit (a zlib bomb) gets GOAWAY(PROTOCOL_ERROR) and the session ends', async () => {
  let opened = 0;
  let closedWith: Error | undefined;
  const c = new SpdyTestClient();
  c.session = new SpdyServerSession(c.transport, { onStream: () => { opened++; }, onClose: (e) => { closedWith = e; } });
  // 32 MiB of header value is ~32 KB compressed: the frame itself is well under the size limit.
  await c.open({ streamtype: 'data', bomb: 'a'.repeat(32 << 20) });
  await c.until((fs) => fs.some((f) => f.kind === 'goAway'));
  assert.deepEqual(c.frames.find((f) => f.kind === 'goAway'), { kind: 'goAway', lastGoodStreamId: 0, status: 1 });
  assert.equal(c.closed, true);
  assert.equal(opened, 0);
  assert.match(String(closedWith), /inflates past/);
});

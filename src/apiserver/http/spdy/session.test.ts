import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpdyServerSession, type SpdyStream } from './session.js';
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

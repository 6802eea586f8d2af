import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { SPDY3_DICTIONARY } from './dictionary.js';
import { decodeHeaderPairs, encodeHeaderPairs, HeaderCompressor, HeaderDecompressor } from './headerblock.js';

test('the SPDY/3 dictionary is the spec\'s 1423 bytes (zlib dictionary id 0xe3c6a7c2)', () => {
  assert.equal(SPDY3_DICTIONARY.length, 1423);
  assert.equal(SPDY3_DICTIONARY.subarray(0, 11).toString('latin1'), '\0\0\0\x07options');
  assert.ok(SPDY3_DICTIONARY.toString('latin1').endsWith(',*,enq=0.'));
  // The compressor's stream header names the dictionary by its Adler-32.
  const first = new HeaderCompressor().compress(Buffer.alloc(4));
  assert.equal(first.subarray(2, 6).toString('hex'), 'e3c6a7c2');
  assert.equal((first[0]! * 256 + first[1]!) % 31, 0, 'zlib header check bits');
  assert.ok(first[1]! & 0x20, 'FDICT set');
});

test('header pairs: count, length-prefixed lower-case names, NUL-joined values', () => {
  const raw = encodeHeaderPairs([['streamType', 'data'], ['Port', '80'], ['x', ['a', 'b']]]);
  assert.equal(raw.readUInt32BE(0), 3);
  assert.equal(raw.subarray(4, 18).toString('latin1'), '\0\0\0\x0astreamtype');
  assert.deepEqual(decodeHeaderPairs(raw), new Map([['streamtype', ['data']], ['port', ['80']], ['x', ['a', 'b']]]));
  assert.throws(() => decodeHeaderPairs(raw.subarray(0, raw.length - 1)), /truncated/);
});

test('compressed blocks are one zlib stream a standard inflater reads block by block', () => {
  const c = new HeaderCompressor();
  const blocks = [encodeHeaderPairs([]), encodeHeaderPairs([['streamtype', 'error'], ['port', '80']]), encodeHeaderPairs([['big', 'v'.repeat(70_000)]])];
  const wire = blocks.map((b) => c.compress(b));
  // Each block ends with the sync-flush marker, so a reader never needs bytes of the next frame.
  for (const w of wire) assert.equal(w.subarray(-5).toString('hex'), '000000ffff');
  const inflate = zlib.inflateSync(Buffer.concat(wire), { dictionary: SPDY3_DICTIONARY, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  assert.deepEqual(inflate, Buffer.concat(blocks));
});

test('the decompressor reads blocks of a real deflate stream (as kubectl\'s Go framer writes them)', async () => {
  const deflate = zlib.createDeflate({ dictionary: SPDY3_DICTIONARY, level: 9 });
  const out: Buffer[] = [];
  deflate.on('data', (b: Buffer) => out.push(b));
  const flushBlock = (raw: Buffer): Promise<Buffer> => new Promise((r) => {
    deflate.write(raw);
    deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => setImmediate(() => r(Buffer.concat(out.splice(0)))));
  });
  const d = new HeaderDecompressor();
  for (const [type, id] of [['error', '0'], ['data', '0'], ['error', '1'], ['data', '1']]) {
    const block = await flushBlock(encodeHeaderPairs([['streamtype', type!], ['port', '80'], ['requestid', id!]]));
    assert.deepEqual(await d.decode(block), new Map([['streamtype', [type]], ['port', ['80']], ['requestid', [id]]]));
  }
  await assert.rejects(d.decode(Buffer.from('garbage!')), /header decompression/);
  d.close();
  deflate.destroy();
});

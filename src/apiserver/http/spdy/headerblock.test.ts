import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { SPDY3_DICTIONARY } from './dictionary.js';
import { decodeHeaderPairs, encodeHeaderPairs, HeaderCompressor, HeaderDecompressor, MAX_HEADER_BLOCK_BYTES, MAX_HEADER_PAIRS } from './headerblock.js';

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

test('a repeated header name collects its values in linear time; more than MAX_HEADER_PAIRS pairs is a protocol error', () => {
  // 1000 pairs of one name, 251 (empty) values each: copying the list per repeat took 9 s here.
  const repeated = encodeHeaderPairs(Array.from({ length: MAX_HEADER_PAIRS }, () => ['x', '\0'.repeat(250)] as [string, string]));
  const t0 = performance.now();
  const headers = decodeHeaderPairs(repeated);
  const ms = performance.now() - t0;
  assert.equal(headers.get('x')!.length, MAX_HEADER_PAIRS * 251);
  assert.ok(ms < 1000, `decoding took ${ms.toFixed(0)} ms`);
  // The reviewer's 40k empty pairs: refused before any is parsed.
  // (Each empty pair is 8 zero bytes: name length 0, value length 0.)
  const many = Buffer.concat([Buffer.from([0, 0, 0x9c, 0x40]), Buffer.alloc(40_000 * 8)]);
  assert.throws(() => decodeHeaderPairs(many), (e: Error & { code?: string }) => e.code === 'SPDY_PROTOCOL_ERROR' && /40000 pairs/.test(e.message));
  assert.equal(decodeHeaderPairs(encodeHeaderPairs(Array.from({ length: MAX_HEADER_PAIRS }, (_, i) => [`h${i}`, 'v'] as [string, string]))).size, MAX_HEADER_PAIRS);
});

test('a block inflating past MAX_HEADER_BLOCK_BYTES (a zlib bomb) fails the decompressor before it is inflated', async () => {
  // 16 MiB of header value deflates to ~16 KB: well inside the frame size limit.
  const value = Buffer.alloc(16 << 20, 0x61);
  const head = encodeHeaderPairs([['bomb', '']]);
  head.writeUInt32BE(value.length, head.length - 4);
  const raw = Buffer.concat([head, value]);
  const block = zlib.deflateSync(raw, { dictionary: SPDY3_DICTIONARY, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  assert.ok(block.length < 1 << 20, `${block.length} compressed bytes`);
  const d = new HeaderDecompressor();
  const inflated: Buffer[] = [];
  // Count what the inflater still emits after the limit was passed: destroying it must stop it.
  (d as unknown as { inflate: zlib.Inflate }).inflate.on('data', (c: Buffer) => inflated.push(c));
  await assert.rejects(d.decode(block), (e: Error & { code?: string }) => e.code === 'SPDY_PROTOCOL_ERROR' && /inflates past 262144 bytes/.test(e.message));
  await new Promise((r) => setTimeout(r, 50));
  const total = inflated.reduce((n, c) => n + c.length, 0);
  assert.ok(total <= MAX_HEADER_BLOCK_BYTES + 64 * 1024, `${total} bytes inflated`);
  // Every later block fails too: the zlib stream cannot resume mid-block.
  await assert.rejects(d.decode(Buffer.from([0])), /inflates past/);
  d.close();
  // A block just under the limit still decodes.
  const ok = new HeaderDecompressor();
  const big = encodeHeaderPairs([['big', 'v'.repeat(MAX_HEADER_BLOCK_BYTES - 100)]]);
  const bigBlock = zlib.deflateSync(big, { dictionary: SPDY3_DICTIONARY, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  assert.equal((await ok.decode(bigBlock)).get('big')![0]!.length, MAX_HEADER_BLOCK_BYTES - 100);
  ok.close();
});

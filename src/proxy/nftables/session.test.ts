import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { NftSession } from './session.js';
import { ProxyError } from '../errors.js';

/**
 * A stand-in for `nft -i` (no kernel needed): one line in, answers as nft does — nothing for a
 * good transaction, a location-prefixed "Error:" for one containing "bad", the describe line for
 * the marker command; "die" makes it exit.
 */
const FAKE_NFT = String.raw`
const rl = require('node:readline').createInterface({ input: process.stdin });
rl.on('line', (l) => {
  if (l === 'describe meta mark') return process.stdout.write('meta expression, datatype mark (packet mark) (basetype integer), 32 bits\n');
  if (l.includes('die')) process.exit(3);
  if (l.includes('bad')) return process.stdout.write('internal:0:0-0: Error: conflicting protocols specified: udp vs. tcp\n\n');
});
`;

function fakeSpawn(started: string[][]) {
  return (argv: string[]) => {
    started.push(argv);
    return spawn(process.execPath, ['-e', FAKE_NFT], { stdio: ['pipe', 'pipe', 'pipe'] });
  };
}

test('one transaction per line: commands joined with ";", success is silence before the marker', async (t) => {
  const started: string[][] = [];
  const s = new NftSession(fakeSpawn(started));
  t.after(() => s.close());
  await s.run('add element ip t a { 1 }\nadd element ip t b { 2 }\n');
  await s.run('add element ip t a { 3 }\n');
  assert.equal(started.length, 1, 'one long-lived process for every transaction');
  assert.deepEqual(started[0], ['sh', '-c', 'HOME=/dev/null exec nft -i 2>&1'], 'stderr merged into stdout so errors arrive before the marker; no history file in $HOME');
});

test('the process is replaced after recycleBytes of input (nft keeps every line in its history)', async (t) => {
  const started: string[][] = [];
  const s = new NftSession(fakeSpawn(started), { recycleBytes: 100 });
  t.after(() => s.close());
  await s.run(`add element ip t a { ${'1, '.repeat(40)}1 }\n`);
  assert.equal(started.length, 1);
  await s.run('add element ip t a { 2 }\n');
  assert.equal(started.length, 2, 'a fresh process once more than 100 bytes were written');
  await s.run('add element ip t a { 3 }\n');
  assert.equal(started.length, 2, 'small transactions stay on the same process');
});

test('an error (location-prefixed, as nft prints it) rejects that transaction only', async (t) => {
  const s = new NftSession(fakeSpawn([]));
  t.after(() => s.close());
  await assert.rejects(s.run('add rule ip t c bad\n'), (e: unknown) => e instanceof ProxyError && e.code === 'KERNEL_COMMAND_FAILED' && /conflicting protocols/.test(e.message));
  await s.run('add element ip t a { 4 }\n');
});

test('a process that dies fails the transaction in flight; the next one starts a new process', async (t) => {
  const started: string[][] = [];
  const s = new NftSession(fakeSpawn(started));
  t.after(() => s.close());
  await s.run('add element ip t a { 1 }\n');
  await assert.rejects(s.run('die\n'), (e: unknown) => e instanceof ProxyError && /exited/.test(e.message));
  await s.run('add element ip t a { 2 }\n');
  assert.equal(started.length, 2);
});

test('empty text sends nothing; after close, runs are refused', async () => {
  const started: string[][] = [];
  const s = new NftSession(fakeSpawn(started));
  await s.run('\n');
  assert.equal(started.length, 0);
  await s.close();
  await assert.rejects(s.run('add element ip t a { 1 }\n'), (e: unknown) => e instanceof ProxyError && e.code === 'PROXY_STOPPED');
});

test('supervised: a process that dies on its own is started again at once, then with backoff, each restart reported', async (t) => {
  const started: string[][] = [];
  const restarts: { tool: string; why: string; delayMs: number; restarts: number }[] = [];
  const s = new NftSession(fakeSpawn(started), { supervise: { baseMs: 50, maxMs: 200, onRestart: (e) => restarts.push(e) } });
  t.after(() => s.close());
  await s.run('add element ip t a { 1 }\n');
  const waitFor = async (n: number): Promise<void> => {
    for (let i = 0; i < 200 && started.length < n; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(started.length, n);
  };
  await assert.rejects(s.run('die\n'));
  await waitFor(2); // restarted without waiting for a transaction
  await assert.rejects(s.run('die\n'));
  await waitFor(3);
  assert.deepEqual(restarts.map((r) => [r.tool, r.why, r.delayMs, r.restarts]), [['nft -i', 'exited (3)', 0, 1], ['nft -i', 'exited (3)', 50, 2]]);
  await s.run('add element ip t a { 2 }\n');
  assert.equal(started.length, 3, 'the restarted process takes the next transaction');
  await s.close();
  assert.equal(restarts.length, 2, 'closing is not a failure');
});

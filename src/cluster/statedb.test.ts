// Real SQLite files, damaged as a crash, a full disk or a stray write damages them: each is refused
// with a message saying what is wrong, and the file is left exactly as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, readFileSync, statSync, truncateSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkStateDb } from './statedb.js';
import { StateError } from './state.js';
import { SqliteStorage } from '../storage/sqlite.js';

async function realStore(dir: string): Promise<string> {
  const path = join(dir, 'state.db');
  const s = new SqliteStorage(path);
  for (let i = 0; i < 300; i++) await s.create(`/registry/configmaps/default/cm-${i}`, JSON.stringify({ data: { v: 'x'.repeat(400), i } }));
  await s.close();
  return path;
}

const refused = (re: RegExp) => (e: unknown) => e instanceof StateError && e.code === 'STATE_DB_CORRUPT' && re.test(e.message) && /mv .*state\.db .*state\.db\.damaged/.test(e.message);

test('a healthy store and a missing one pass', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cip-db-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  checkStateDb(join(dir, 'none.db'));
  const path = await realStore(dir);
  assert.ok(statSync(path).size > 100_000);
  checkStateDb(path);
});

test('truncated, emptied, overwritten and internally damaged stores are refused and left as they are', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cip-db-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = await realStore(dir);
  const good = readFileSync(path);
  const check = (damage: () => void, re: RegExp): void => {
    writeFileSync(path, good);
    damage();
    const before = readFileSync(path);
    assert.throws(() => checkStateDb(path), refused(re));
    assert.deepEqual(readFileSync(path), before, 'the damaged file is not changed');
  };
  check(() => truncateSync(path, Math.floor(good.length / 2)), /it was truncated/);
  check(() => truncateSync(path, 0), /the file is empty \(0 bytes/);
  check(() => truncateSync(path, 40), /shorter than SQLite's 100-byte header/);
  check(() => writeFileSync(path, Buffer.alloc(good.length, 'x')), /not a SQLite database/);
  // Garbage over pages in the middle of the b-tree (the header still looks fine).
  check(() => {
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(4096 * 4, 0xa5), 0, 4096 * 4, 4096 * 3);
    closeSync(fd);
  }, /quick_check reports|malformed|damaged/);
  writeFileSync(path, good);
  checkStateDb(path);
});

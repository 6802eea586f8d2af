import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validatePayloadPath, writeAtomic, type FileProjection } from './atomicwriter.js';

const f = (s: string, mode = 0o644): FileProjection => ({ data: Buffer.from(s), mode });

test('files appear through ..data; an update swaps ..data and removes what left; an equal payload writes nothing', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cip-aw-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  assert.equal(await writeAtomic(dir, new Map([['token', f('t1', 0o600)], ['conf/app.ini', f('a=1')]]), new Date('2026-12-06T21:42:46Z')), true);
  const first = await readlink(join(dir, '..data'));
  assert.match(first, /^\.\.2026_12_06_21_42_46\.\w+$/);
  assert.equal(await readlink(join(dir, 'token')), '..data/token');
  assert.equal(await readlink(join(dir, 'conf')), '..data/conf');
  assert.equal(await readFile(join(dir, 'token'), 'utf8'), 't1');
  assert.equal((await stat(join(dir, 'token'))).mode & 0o777, 0o600);
  assert.equal(await readFile(join(dir, 'conf/app.ini'), 'utf8'), 'a=1');

  assert.equal(await writeAtomic(dir, new Map([['token', f('t1', 0o600)], ['conf/app.ini', f('a=1')]])), false);
  assert.equal(await readlink(join(dir, '..data')), first);

  assert.equal(await writeAtomic(dir, new Map([['token', f('t2', 0o600)]])), true);
  const second = await readlink(join(dir, '..data'));
  assert.notEqual(second, first);
  assert.equal(await readFile(join(dir, 'token'), 'utf8'), 't2');
  assert.deepEqual((await readdir(dir)).sort(), ['..data', second, 'token'].sort());
});

test('payload paths are checked as the kubelet checks them', () => {
  assert.equal(validatePayloadPath('a/b'), undefined);
  assert.match(validatePayloadPath('/etc/x')!, /must be relative path/);
  assert.match(validatePayloadPath('a/../b')!, /must not contain '\.\.'/);
  assert.match(validatePayloadPath('..a')!, /must not start with '\.\.'/);
});

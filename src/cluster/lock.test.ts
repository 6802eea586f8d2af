// The state-directory lock with real processes: a holder in another process refuses us with its
// pid; kill -9 of the holder frees the lock at once (the kernel drops it); release frees it too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockStateDir, stateDirHolder } from './lock.js';
import { StateError } from './state.js';

const HOLDER = `
  const { lockStateDir } = await import(${JSON.stringify(join(import.meta.dirname, 'lock.ts'))});
  await lockStateDir(process.argv[1]);
  console.log('held');
  setInterval(() => {}, 1000);
`;

test('one holder per state directory; the holder is named; kill -9 frees it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cip-lock-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', HOLDER, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => { try { child.kill('SIGKILL'); } catch { /* gone */ } });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('held')) resolve(); });
    child.once('exit', (c) => reject(new Error(`holder exited ${c}`)));
  });
  assert.equal(stateDirHolder(dir), child.pid);
  await assert.rejects(lockStateDir(dir), (e: unknown) => e instanceof StateError && e.code === 'STATE_DIR_LOCKED' &&
    e.message.includes(`(pid ${child.pid})`) && e.message.includes(dir));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  assert.equal(stateDirHolder(dir), undefined);
  const lock = await lockStateDir(dir);
  assert.equal(stateDirHolder(dir), process.pid);
  // Within one process too, a second take is refused (the daemon never locks twice).
  await assert.rejects(lockStateDir(dir), /in use by another clusterip daemon/);
  lock.release();
  assert.equal(stateDirHolder(dir), undefined);
  (await lockStateDir(dir)).release();
});

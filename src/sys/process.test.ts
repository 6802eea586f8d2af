import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { isRunning, pidAlive, processIdentity } from './process.js';

test('a process identity holds while the process runs and never again after it exits', async () => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  await new Promise((r) => child.once('spawn', r));
  const id = processIdentity(child.pid!)!;
  assert.ok(id.startTime && id.bootId);
  assert.ok(isRunning(id));
  assert.ok(pidAlive(child.pid!));
  // The same pid with another start time is another process (what a re-used pid looks like).
  assert.equal(isRunning({ ...id, startTime: String(Number(id.startTime) - 1) }), false);
  assert.equal(isRunning({ ...id, bootId: 'another-boot' }), false);
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  assert.equal(isRunning(id), false);
  assert.equal(pidAlive(child.pid!), false);
  assert.equal(processIdentity(child.pid!), undefined);
  assert.equal(isRunning(undefined), false);
  assert.equal(isRunning({ pid: process.pid }), false, 'a pid alone is not enough');
});

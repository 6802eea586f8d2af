import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommandError, run, runOk } from './command.js';
import { netnsArgv } from './netns.js';

test('run reports exit code, output and stdin without throwing', async () => {
  const r = await run(['sh', '-c', 'cat; echo err >&2; exit 3'], { input: 'hello' });
  assert.deepEqual(r, { code: 3, stdout: 'hello', stderr: 'err\n' });
});

test('runOk resolves with stdout and rejects with one CommandError type whose code says why', async () => {
  assert.equal(await runOk(['echo', 'ok']), 'ok\n');
  await assert.rejects(runOk(['sh', '-c', 'echo boom >&2; exit 4']), (e: unknown) =>
    e instanceof CommandError && e.code === 'COMMAND_FAILED' && e.exitCode === 4 && /^sh -c .* failed \(exit 4\): boom$/.test(e.message));
  await assert.rejects(runOk(['/nonexistent/tool']), (e: unknown) =>
    e instanceof CommandError && e.code === 'COMMAND_NOT_STARTED' && /ENOENT/.test(e.message));
  await assert.rejects(runOk(['sleep', '5'], { timeoutMs: 50 }), (e: unknown) =>
    e instanceof CommandError && e.code === 'COMMAND_TIMED_OUT' && e.exitCode === 137);
});

test('a command in a network namespace needs the namespace named', () => {
  assert.deepEqual(netnsArgv('cip-x-n0', ['ip', 'route']), ['ip', 'netns', 'exec', 'cip-x-n0', 'ip', 'route']);
  assert.throws(() => netnsArgv('', ['ip', 'route']), (e: unknown) => e instanceof CommandError && e.code === 'COMMAND_NOT_STARTED');
});

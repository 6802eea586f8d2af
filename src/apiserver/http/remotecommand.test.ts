import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import type { ExecResult, ExecSession } from '../../api/streams.js';
import { expectedStreams, negotiateSpdyProtocol, startSpdyExec } from './remotecommand.js';
import { SpdyTestClient } from './spdy/testing/client.js';

function fakeSession(): ExecSession & { sizes: [number, number][]; input: string[]; done(r: ExecResult): void } {
  const stdout = new PassThrough();
  const stdin = new PassThrough();
  const input: string[] = [];
  stdin.on('data', (d: Buffer) => input.push(d.toString()));
  let done!: (r: ExecResult) => void;
  const result = new Promise<ExecResult>((r) => { done = r; });
  const sizes: [number, number][] = [];
  return { stdin, stdout, result, sizes, input, resize: (w, h) => sizes.push([w, h]), close: () => done({ exitCode: 137 }), done: (r) => { stdout.end(); done(r); } };
}

test('protocol negotiation and the streams each option set expects', () => {
  assert.equal(negotiateSpdyProtocol(['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io']), 'v4.channel.k8s.io');
  assert.equal(negotiateSpdyProtocol(['v5.channel.k8s.io']), undefined);
  assert.deepEqual([...expectedStreams({ stdin: true, stdout: true, stderr: true, tty: false }, 'v4.channel.k8s.io')], ['error', 'stdin', 'stdout', 'stderr']);
  assert.deepEqual([...expectedStreams({ stdin: true, stdout: true, stderr: true, tty: true }, 'v4.channel.k8s.io')], ['error', 'stdin', 'stdout', 'resize']);
  assert.deepEqual([...expectedStreams({ stdin: false, stdout: true, stderr: false, tty: true }, 'v2.channel.k8s.io')], ['error', 'stdout']);
});

test('a TTY session: streams opened in any order, resizes delivered, stdin passed on, v4 Status on the error stream', async () => {
  const client = new SpdyTestClient();
  const session = fakeSession();
  client.session = startSpdyExec(client.transport, session, { protocol: 'v4.channel.k8s.io', stdin: true, stdout: true, stderr: false, tty: true });
  const resize = await client.open({ streamtype: 'resize' });
  const out = await client.open({ streamtype: 'stdout' });
  const input = await client.open({ streamtype: 'stdin' });
  const err = await client.open({ streamtype: 'error' });
  await client.until((f) => f.filter((x) => x.kind === 'synReply').length === 4);
  client.data(resize, '{"Width":120,"Height":40}{"Width":');
  client.data(resize, '80,"Height":24}');
  client.data(input, 'typed\n', true);
  (session.stdout as PassThrough).write('prompt$ ');
  await new Promise((r) => setTimeout(r, 30));
  session.done({ exitCode: 2 });
  await client.until(() => client.received(err).fin);
  assert.deepEqual(session.sizes, [[120, 40], [80, 24]]);
  assert.deepEqual(session.input, ['typed\n']);
  assert.deepEqual(client.received(out), { text: 'prompt$ ', fin: true });
  assert.deepEqual(JSON.parse(client.received(err).text), {
    metadata: {}, status: 'Failure', message: 'command terminated with non-zero exit code: error executing command [], exit code 2',
    reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '2' }] },
  });
  await client.until(() => client.closed);
});

test('v2 reports a failure as text; a client that never opens its streams is timed out and the session closed', async () => {
  const client = new SpdyTestClient();
  const session = fakeSession();
  client.session = startSpdyExec(client.transport, session, { protocol: 'v2.channel.k8s.io', stdin: false, stdout: true, stderr: false, tty: false });
  const err = await client.open({ streamtype: 'error' });
  await client.open({ streamtype: 'stdout' });
  session.done({ error: 'boom' });
  await client.until(() => client.received(err).fin);
  assert.equal(client.received(err).text, 'boom');

  const slow = new SpdyTestClient();
  const idle = fakeSession();
  slow.session = startSpdyExec(slow.transport, idle, { protocol: 'v4.channel.k8s.io', stdin: false, stdout: true, stderr: false, tty: false, streamCreationTimeoutMs: 50 });
  await slow.open({ streamtype: 'error' });
  assert.deepEqual(await idle.result, { exitCode: 137 });
  await slow.until(() => slow.closed);
});

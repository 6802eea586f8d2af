import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeClientMessage, exitStatus, frame, pickProtocol } from './channels.js';

test('protocol choice prefers v5, accepts v4, refuses others', () => {
  assert.equal(pickProtocol(['v4.channel.k8s.io', 'v5.channel.k8s.io']), 'v5.channel.k8s.io');
  assert.equal(pickProtocol(['v4.channel.k8s.io']), 'v4.channel.k8s.io');
  assert.equal(pickProtocol(['channel.k8s.io', 'base64.channel.k8s.io']), undefined);
});

test('frames carry the channel byte first', () => {
  assert.deepEqual([...frame(1, 'hi')], [1, 104, 105]);
  assert.deepEqual([...frame(3, new Uint8Array())], [3]);
});

test('client messages: stdin, resize, close-channel', () => {
  assert.deepEqual(decodeClientMessage(Buffer.from([0, 65, 66])), { kind: 'stdin', data: Buffer.from('AB') });
  assert.deepEqual(decodeClientMessage(Buffer.concat([Buffer.from([4]), Buffer.from('{"Width":100,"Height":30}')])), { kind: 'resize', width: 100, height: 30 });
  assert.deepEqual(decodeClientMessage(Buffer.from([255, 0])), { kind: 'close', channel: 0 });
  assert.deepEqual(decodeClientMessage(Buffer.from([4, 123])), { kind: 'ignored' });
  assert.deepEqual(decodeClientMessage(Buffer.from([])), { kind: 'ignored' });
});

test('exit status: Success, NonZeroExitCode with ExitCode cause', () => {
  assert.deepEqual(exitStatus({ exitCode: 0 }), { metadata: {}, status: 'Success' });
  const s = exitStatus({ exitCode: 3 }) as { reason: string; details: { causes: { reason: string; message: string }[] } };
  assert.equal(s.reason, 'NonZeroExitCode');
  assert.deepEqual(s.details.causes, [{ reason: 'ExitCode', message: '3' }]);
});

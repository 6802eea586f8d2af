import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex, PassThrough } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { portForwardUpgradeKind, startPortForward, type PortDialer } from './portforward.js';
import { SpdyTestClient } from './spdy/testing/client.js';

const pod = { namespace: 'default', name: 'web', uid: 'u-1' };

/** A fake Pod port: answers each line with "port <n>: <line>" and ends when the client does. */
const echoDialer = (dialled: number[]): PortDialer => async (port) => {
  dialled.push(port);
  const toPod = new PassThrough();
  const fromPod = new PassThrough();
  toPod.on('data', (b: Buffer) => fromPod.write(`port ${port}: ${b}`));
  toPod.on('end', () => fromPod.end());
  return Duplex.from({ writable: toPod, readable: fromPod });
};

function connect(dial: PortDialer, streamPairTimeoutMs?: number): SpdyTestClient {
  const c = new SpdyTestClient();
  c.session = startPortForward(c.transport, dial, { pod, streamPairTimeoutMs });
  return c;
}

/** What kubectl does per local connection: error stream (half-closed at once), then data stream. */
async function kubectlPair(c: SpdyTestClient, requestId: string, port: string): Promise<{ error: number; data: number }> {
  const error = await c.open({ streamtype: 'error', port, requestid: requestId });
  c.data(error, '', true);
  const data = await c.open({ streamtype: 'data', port, requestid: requestId });
  return { error, data };
}

test('each request pair forwards its data stream to the Pod port; two pairs run at once', async () => {
  const dialled: number[] = [];
  const c = connect(echoDialer(dialled));
  const a = await kubectlPair(c, '0', '80');
  const b = await kubectlPair(c, '1', '8080');
  c.data(a.data, 'one');
  c.data(b.data, 'two');
  await c.until(() => c.received(a.data).text === 'port 80: one' && c.received(b.data).text === 'port 8080: two');
  assert.deepEqual(dialled.sort(), [80, 8080]);
  // The client's FIN ends the Pod side; the data stream then gets FIN, and the error stream FIN with no text.
  c.data(a.data, '', true);
  await c.until(() => c.received(a.data).fin && c.received(a.error).fin);
  assert.equal(c.received(a.error).text, '');
  assert.equal(c.received(b.data).fin, false, 'the other connection is untouched');
});

test('a Pod port that cannot be reached is reported on the error stream in the kubelet\'s words', async () => {
  const c = connect(async () => { throw new Error('failed to connect to localhost:81 inside the Pod\'s network namespace: Connection refused'); });
  const p = await kubectlPair(c, '0', '81');
  await c.until(() => c.received(p.error).fin && c.received(p.data).fin);
  assert.equal(c.received(p.error).text, 'error forwarding port 81 to pod web_default, uid u-1: failed to connect to localhost:81 inside the Pod\'s network namespace: Connection refused');
  const bad = await kubectlPair(c, '1', 'http');
  await c.until(() => c.received(bad.error).fin);
  assert.match(c.received(bad.error).text, /invalid port "http"/);
});

test('a reset data stream closes the Pod connection; a lone stream times out', async () => {
  let podSide: Duplex | undefined;
  const c = connect(async (port) => { podSide = await echoDialer([])(port); return podSide; }, 100);
  const p = await kubectlPair(c, '0', '80');
  await c.until(() => podSide !== undefined);
  c.send({ kind: 'rstStream', streamId: p.data, status: 5 });
  await c.until(() => c.received(p.error).fin);
  assert.equal(podSide!.destroyed, true);
  const lone = await c.open({ streamtype: 'error', port: '80', requestid: '9' });
  await c.until(() => c.received(lone).fin, 2000);
  assert.equal(c.received(lone).text, 'timed out waiting for streams');
});

test('upgrade negotiation: the WebSocket tunnel protocol, or SPDY/3.1 with portforward.k8s.io', () => {
  const req = (headers: Record<string, string>): IncomingMessage => ({ headers } as unknown as IncomingMessage);
  assert.equal(portForwardUpgradeKind(req({ upgrade: 'websocket', 'sec-websocket-protocol': 'SPDY/3.1+portforward.k8s.io' })), 'websocket');
  assert.equal(portForwardUpgradeKind(req({ upgrade: 'SPDY/3.1', 'x-stream-protocol-version': 'portforward.k8s.io' })), 'spdy');
  assert.throws(() => portForwardUpgradeKind(req({ upgrade: 'websocket', 'sec-websocket-protocol': 'v5.channel.k8s.io' })), /no tunneling spdy protocols/);
  assert.throws(() => portForwardUpgradeKind(req({ upgrade: 'SPDY/3.1', 'x-stream-protocol-version': 'v4.channel.k8s.io' })), /unable to negotiate protocol/);
});

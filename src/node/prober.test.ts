import { test } from 'node:test';
import assert from 'node:assert/strict';
import { httpVerdict, probePort, probeRequest, ProbeWorker } from './prober.js';

test('named probe ports resolve from the container ports', () => {
  assert.equal(probePort('http', { name: 'c', ports: [{ name: 'http', containerPort: 8080 }] }), 8080);
  assert.equal(probePort(80, { name: 'c' }), 80);
});

test('readiness needs successThreshold successes; failureThreshold failures flip it back', async () => {
  const seq = [true, true, false, false, false, true];
  const changes: boolean[] = [];
  let i = 0;
  await new Promise<void>((resolve) => {
    const w = new ProbeWorker('readiness', { periodSeconds: 1, successThreshold: 2, failureThreshold: 3 },
      async () => ({ ok: seq[i++] ?? true, message: 'm' }),
      (ok) => { changes.push(ok); if (changes.length === 2) { w.stop(); resolve(); } }, 2);
    w.start();
  });
  assert.deepEqual(changes, [true, false]);
  assert.equal(i, 5);
});

test('httpGet probes send the kubelet request and judge the status line as the kubelet does', () => {
  const q = { kind: 'http' as const, host: '10.244.0.5', port: 8080, path: '/healthz', headers: { 'user-agent': 'mine', 'X-A': 'b' }, timeoutMs: 1000 };
  assert.equal(probeRequest(q), 'GET /healthz HTTP/1.1\r\nHost: 10.244.0.5:8080\r\nAccept: */*\r\nConnection: close\r\nuser-agent: mine\r\nX-A: b\r\n\r\n');
  assert.deepEqual(httpVerdict(q, 'HTTP/1.1 200 OK'), { ok: true, message: '' });
  assert.deepEqual(httpVerdict(q, 'HTTP/1.0 302 Found'), { ok: true, message: '' });
  assert.deepEqual(httpVerdict(q, 'HTTP/1.1 404 Not Found'), { ok: false, message: 'HTTP probe failed with statuscode: 404' });
  assert.equal(httpVerdict(q, 'SSH-2.0-OpenSSH').ok, false);
});

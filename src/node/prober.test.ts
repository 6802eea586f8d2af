import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProbeWorker, probePort } from './prober.js';

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

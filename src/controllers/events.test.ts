import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Event } from 'kubernetes-types/core/v1.js';
import { R } from '../api/resources.js';
import { createApiCore } from '../apiserver/core.js';
import { MemoryStorage } from '../storage/memory.js';
import { EventRecorder, SPAM_FILTER_DEFAULTS } from './events.js';

test('EventRecorder writes core/v1 Events and dedupes repeats by bumping count/lastTimestamp', async (t) => {
  const core = await createApiCore({ storage: new MemoryStorage() });
  t.after(() => core.close());
  let now = new Date('2026-03-01T10:00:00.123Z');
  const rec = new EventRecorder(core.client, 'replicaset-controller', { now: () => now });
  const rs = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web-abc', namespace: 'default', uid: 'u1', resourceVersion: '7' } };
  rec.event(rs, 'Normal', 'SuccessfulCreate', 'Created pod: web-abc-x');
  await rec.flush();
  now = new Date('2026-03-01T10:00:05Z');
  rec.event(rs, 'Normal', 'SuccessfulCreate', 'Created pod: web-abc-x');
  rec.event(rs, 'Warning', 'FailedCreate', 'Error creating: quota');
  await rec.flush();
  const evs = (await core.client.list<Event>(R.events, 'default')).items.filter((e) => e.source?.component === 'replicaset-controller');
  assert.equal(evs.length, 2);
  const created = evs.find((e) => e.reason === 'SuccessfulCreate')!;
  assert.equal(created.count, 2);
  assert.equal(created.firstTimestamp, '2026-03-01T10:00:00Z');
  assert.equal(created.lastTimestamp, '2026-03-01T10:00:05Z');
  assert.equal(created.type, 'Normal');
  assert.deepEqual({ ...created.involvedObject }, { apiVersion: 'apps/v1', kind: 'ReplicaSet', namespace: 'default', name: 'web-abc', uid: 'u1', resourceVersion: '7' });
  assert.match(created.metadata?.name ?? '', /^web-abc\.[0-9a-f]+$/);
  const failed = evs.find((e) => e.reason === 'FailedCreate')!;
  assert.equal(failed.type, 'Warning');
  assert.equal(failed.count, 1);
});

test('EventRecorder: a burst of one event becomes one Event with its count; fieldPath tells containers apart', async (t) => {
  const core = await createApiCore({ storage: new MemoryStorage() });
  t.after(() => core.close());
  const rec = new EventRecorder(core.client, 'kubelet', { host: 'node-1' });
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', uid: 'p1' } };
  // No flush in between: the repeats must wait for the first write (they need its name).
  for (let i = 0; i < 3; i++) rec.event(pod, 'Warning', 'Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 404', 'spec.containers{a}');
  rec.event(pod, 'Warning', 'Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 404', 'spec.containers{b}');
  await rec.flush();
  const evs = (await core.client.list<Event>(R.events, 'default')).items;
  assert.deepEqual(evs.map((e) => [e.involvedObject.fieldPath, e.count, e.source?.host, e.reportingInstance]).sort(), [
    ['spec.containers{a}', 3, 'node-1', 'node-1'], ['spec.containers{b}', 1, 'node-1', 'node-1'],
  ]);
});

test('EventRecorder spam filter: a burst of 25, then one per 5 minutes per distinct event (client-go defaults)', async (t) => {
  const core = await createApiCore({ storage: new MemoryStorage() });
  t.after(() => core.close());
  let now = new Date('2026-03-01T10:00:00Z');
  const rec = new EventRecorder(core.client, 'kubelet', { host: 'n', now: () => now, spamFilter: SPAM_FILTER_DEFAULTS });
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', uid: 'p1' } };
  for (let i = 0; i < 40; i++) rec.event(pod, 'Warning', 'Unhealthy', 'Readiness probe failed: x');
  rec.event(pod, 'Warning', 'Unhealthy', 'Liveness probe failed: y'); // another event has its own bucket
  await rec.flush();
  const count = async (msg: string) => (await core.client.list<Event>(R.events, 'default')).items.find((e) => e.message === msg)?.count;
  assert.equal(await count('Readiness probe failed: x'), 25);
  assert.equal(await count('Liveness probe failed: y'), 1);
  now = new Date(now.getTime() + 299_000);
  rec.event(pod, 'Warning', 'Unhealthy', 'Readiness probe failed: x');
  await rec.flush();
  assert.equal(await count('Readiness probe failed: x'), 25, 'no token yet');
  now = new Date(now.getTime() + 2_000);
  rec.event(pod, 'Warning', 'Unhealthy', 'Readiness probe failed: x');
  rec.event(pod, 'Warning', 'Unhealthy', 'Readiness probe failed: x');
  await rec.flush();
  assert.equal(await count('Readiness probe failed: x'), 26, 'one token after 5 minutes');
});

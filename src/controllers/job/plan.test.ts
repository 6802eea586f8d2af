import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { formatIndexes, planJob } from './plan.js';

const T0 = new Date('2026-01-01T00:00:00Z');
const at = (s: number): Date => new Date(T0.getTime() + s * 1000);

function job(spec: Partial<NonNullable<Job['spec']>> = {}, status: Job['status'] = {}): Job {
  return {
    metadata: { name: 'j', namespace: 'd', uid: 'u1', creationTimestamp: T0.toISOString() },
    spec: { completions: 1, parallelism: 1, backoffLimit: 6, completionMode: 'NonIndexed', template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c' }] } }, ...spec } as Job['spec'],
    status,
  };
}
function pod(name: string, phase: string, extra: Partial<Pod> = {}): Pod {
  return { metadata: { name, namespace: 'd', creationTimestamp: T0.toISOString(), ...extra.metadata }, status: { phase, ...extra.status } } as Pod;
}

test('a new Job creates min(parallelism, completions) Pods and starts its clock', () => {
  const p = planJob(job({ completions: 5, parallelism: 2 }), [], T0);
  assert.equal(p.create.length, 2);
  assert.equal(p.status.startTime, '2026-01-01T00:00:00Z');
  assert.equal(p.status.active, 0);
});

test('completions reached: Complete (after SuccessCriteriaMet), completionTime, Completed event', () => {
  const p = planJob(job({}, { startTime: '2026-01-01T00:00:00Z' }), [pod('a', 'Succeeded')], at(5));
  assert.deepEqual(p.status.conditions!.map((c) => c.type), ['SuccessCriteriaMet', 'Complete']);
  assert.equal(p.status.succeeded, 1);
  assert.equal(p.status.completionTime, '2026-01-01T00:00:05Z');
  assert.deepEqual(p.events.map((e) => e.reason), ['Completed']);
});

test('backoffLimit: failures beyond it fail the Job with BackoffLimitExceeded; below it, a replacement waits 10 s, 20 s, ...', () => {
  const failed = (n: string, s: number): Pod => pod(n, 'Failed', { status: { phase: 'Failed', containerStatuses: [{ name: 'c', image: '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 1, finishedAt: at(s).toISOString() } } }] } });
  const j = job({ backoffLimit: 1 }, { startTime: '2026-01-01T00:00:00Z' });
  let p = planJob(j, [failed('a', 0)], at(3));
  assert.equal(p.create.length, 0, 'waits for the backoff');
  assert.equal(p.requeueAfterMs, 7000);
  p = planJob(j, [failed('a', 0)], at(10));
  assert.equal(p.create.length, 1);
  p = planJob(j, [failed('a', 0), failed('b', 12)], at(13));
  assert.equal(p.status.conditions!.at(-1)!.reason, 'BackoffLimitExceeded');
  assert.equal(p.status.conditions!.at(-1)!.message, 'Job has reached the specified backoff limit');
});

test('activeDeadlineSeconds: running Pods are deleted and the Job fails with DeadlineExceeded', () => {
  const j = job({ activeDeadlineSeconds: 30 }, { startTime: '2026-01-01T00:00:00Z' });
  let p = planJob(j, [pod('a', 'Running')], at(10));
  assert.equal(p.requeueAfterMs, 20_001);
  p = planJob(j, [pod('a', 'Running')], at(30));
  assert.equal(p.delete.length, 1);
  assert.deepEqual(p.status.conditions!.map((c) => [c.type, c.reason]), [['FailureTarget', 'DeadlineExceeded'], ['Failed', 'DeadlineExceeded']]);
});

test('suspend deletes active Pods and sets Suspended; resuming restarts the clock', () => {
  let p = planJob(job({ suspend: true }, { startTime: '2026-01-01T00:00:00Z' }), [pod('a', 'Running')], at(5));
  assert.equal(p.delete.length, 1);
  assert.equal(p.status.startTime, undefined);
  assert.equal(p.status.conditions![0]!.type, 'Suspended');
  p = planJob(job({ suspend: false }, { conditions: p.status.conditions }), [], at(9));
  assert.equal(p.status.conditions!.find((c) => c.type === 'Suspended')!.status, 'False');
  assert.equal(p.status.startTime, '2026-01-01T00:00:09Z');
  assert.equal(p.create.length, 1);
});

test('podFailurePolicy: FailJob on a matching exit code, Ignore keeps the failure out of backoffLimit', () => {
  const exit = (n: string, code: number): Pod => pod(n, 'Failed', { status: { phase: 'Failed', containerStatuses: [{ name: 'main', image: '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: code } } }] } });
  const spec = { backoffLimit: 0, podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [42] } }, { action: 'Ignore', onExitCodes: { operator: 'In', values: [7] } }] } };
  let p = planJob(job(spec, { startTime: T0.toISOString() }), [exit('a', 42)], at(1));
  assert.equal(p.status.conditions!.at(-1)!.reason, 'PodFailurePolicy');
  assert.equal(p.status.conditions!.at(-1)!.message, 'Container main for pod d/a failed with exit code 42 matching FailJob rule at index 0');
  p = planJob(job(spec, { startTime: T0.toISOString() }), [exit('a', 7)], at(1));
  assert.equal(p.status.conditions, undefined, 'ignored: not failed');
  assert.equal(p.create.length, 1);
});

test('Indexed: one Pod per missing index, completedIndexes compressed', () => {
  const idx = (n: string, i: number, phase: string): Pod => pod(n, phase, { metadata: { name: n, annotations: { 'batch.kubernetes.io/job-completion-index': String(i) } } });
  const p = planJob(job({ completionMode: 'Indexed', completions: 5, parallelism: 3 }, { startTime: T0.toISOString() }),
    [idx('a', 0, 'Succeeded'), idx('b', 1, 'Running'), idx('c', 3, 'Succeeded')], at(1));
  assert.equal(p.status.completedIndexes, '0,3');
  assert.deepEqual(p.create, [{ index: 2 }, { index: 4 }]);
  assert.equal(formatIndexes([0, 1, 2, 4, 6, 7]), '0-2,4,6-7');
});

test('ttlSecondsAfterFinished: the finished Job is deleted once its TTL has passed', () => {
  const done = job({ ttlSecondsAfterFinished: 10 }, { completionTime: '2026-01-01T00:00:05Z', conditions: [{ type: 'Complete', status: 'True' }] });
  assert.equal(planJob(done, [], at(8)).requeueAfterMs, 7000);
  assert.equal(planJob(done, [], at(15)).deleteJob, true);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import { jobFromTemplate, planCronJob } from './plan.js';

const cj = (spec: Partial<NonNullable<CronJob['spec']>> = {}, status: CronJob['status'] = {}): CronJob => ({
  metadata: { name: 'hello', namespace: 'd', uid: 'cu', creationTimestamp: '2026-01-01T00:00:30Z' },
  spec: { schedule: '*/1 * * * *', concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1, jobTemplate: { spec: { template: { spec: { containers: [] } } } }, ...spec },
  status,
});
const job = (name: string, state?: 'Complete' | 'Failed', start = '2026-01-01T00:01:00Z'): Job => ({
  metadata: { name, namespace: 'd' },
  status: { startTime: start, ...(state ? { conditions: [{ type: state, status: 'True' }], completionTime: start } : {}) },
});
const t = (s: string): Date => new Date(`2026-01-01T${s}Z`);

test('nothing before the first schedule time; then a Job named <cronjob>-<minutes since epoch>', () => {
  let p = planCronJob(cj(), [], t('00:00:45'));
  assert.equal(p.start, undefined);
  assert.equal(p.requeueAfterMs, 15_100);
  p = planCronJob(cj(), [], t('00:01:00'));
  assert.equal(p.start!.name, `hello-${Math.floor(t('00:01:00').getTime() / 60000)}`);
  assert.equal(p.status.lastScheduleTime, '2026-01-01T00:01:00Z');
  const j = jobFromTemplate(cj(), p.start!.name, p.start!.scheduledTime);
  assert.equal(j.metadata!.annotations!['batch.kubernetes.io/cronjob-scheduled-timestamp'], '2026-01-01T00:01:00Z');
  assert.deepEqual(j.metadata!.ownerReferences![0]!.kind, 'CronJob');
});

test('@hourly and timeZone: the schedule is read in the CronJob time zone', () => {
  assert.equal(planCronJob(cj({ schedule: '@hourly' }), [], t('00:59:00')).start, undefined);
  assert.equal(planCronJob(cj({ schedule: '@hourly' }), [], t('01:00:00')).start!.scheduledTime.toISOString(), '2026-01-01T01:00:00.000Z');
  // 09:00 in Tokyo is 00:00 UTC.
  const tokyo = cj({ schedule: '0 9 * * *', timeZone: 'Asia/Tokyo' });
  assert.equal(planCronJob(tokyo, [], new Date('2026-01-02T00:00:10Z')).start!.scheduledTime.toISOString(), '2026-01-02T00:00:00.000Z');
});

test('concurrencyPolicy Forbid skips while a Job runs; Replace deletes it first', () => {
  const running = [job('hello-1')];
  const f = planCronJob(cj({ concurrencyPolicy: 'Forbid' }), running, t('00:02:00'));
  assert.equal(f.start, undefined);
  assert.equal(f.events[0]!.reason, 'JobAlreadyActive');
  const r = planCronJob(cj({ concurrencyPolicy: 'Replace' }), running, t('00:02:00'));
  assert.deepEqual(r.replace.map((j) => j.metadata!.name), ['hello-1']);
  assert.ok(r.start);
});

test('startingDeadlineSeconds: a schedule missed by more than the deadline is not started', () => {
  const p = planCronJob(cj({ schedule: '0 * * * *', startingDeadlineSeconds: 30 }, { lastScheduleTime: '2026-01-01T00:00:00Z' }), [], t('01:05:00'));
  assert.equal(p.start, undefined);
  const ok = planCronJob(cj({ schedule: '0 * * * *', startingDeadlineSeconds: 600 }, { lastScheduleTime: '2026-01-01T00:00:00Z' }), [], t('01:05:00'));
  assert.equal(ok.start!.scheduledTime.toISOString(), '2026-01-01T01:00:00.000Z');
});

test('history limits prune the oldest finished Jobs; suspend starts nothing', () => {
  const jobs = [job('a', 'Complete', '2026-01-01T00:01:00Z'), job('b', 'Complete', '2026-01-01T00:02:00Z'), job('c', 'Failed', '2026-01-01T00:03:00Z'), job('e', 'Failed', '2026-01-01T00:04:00Z')];
  const p = planCronJob(cj({ successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 1, suspend: true }), jobs, t('00:05:00'));
  assert.deepEqual(p.prune.map((j) => j.metadata!.name), ['a', 'c']);
  assert.equal(p.start, undefined);
  assert.equal(p.status.lastSuccessfulTime, '2026-01-01T00:02:00Z');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BoundedFrequencyRunner, type Clock } from './runner.js';

/** A manual clock: timers fire only when `advance` passes them. */
class FakeClock implements Clock {
  t = 1000;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private next = 1;
  now(): number { return this.t; }
  setTimeout(fn: () => void, ms: number): unknown { const id = this.next++; this.timers.set(id, { at: this.t + ms, fn }); return id; }
  clearTimeout(h: unknown): void { this.timers.delete(h as number); }
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      const due = [...this.timers].filter(([, v]) => v.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = Math.max(this.t, due[1].at);
      due[1].fn();
      for (let i = 0; i < 5; i++) await Promise.resolve();
    }
    this.t = end;
  }
}

test('a burst of requests coalesces into one run, later ones respect the min interval', async () => {
  const clock = new FakeClock();
  const runs: number[] = [];
  const r = new BoundedFrequencyRunner(async () => { runs.push(clock.now()); }, { minIntervalMs: 1000, clock });
  for (let i = 0; i < 50; i++) r.run();
  await clock.advance(0);
  assert.deepEqual(runs, [1000]);
  r.run(); r.run();
  await clock.advance(500);
  assert.deepEqual(runs, [1000], 'no second run before the min interval');
  await clock.advance(500);
  assert.deepEqual(runs, [1000, 2000]);
  await clock.advance(10_000);
  assert.equal(runs.length, 2, 'no run without a request');
});

test('a failed run is retried after the retry interval', async () => {
  const clock = new FakeClock();
  let n = 0;
  const errors: unknown[] = [];
  const r = new BoundedFrequencyRunner(async () => { n++; if (n === 1) throw new Error('boom'); },
    { minIntervalMs: 10, retryIntervalMs: 300, clock, onError: (e) => errors.push(e) });
  r.run();
  await clock.advance(0);
  assert.equal(n, 1);
  assert.equal(errors.length, 1);
  await clock.advance(299);
  assert.equal(n, 1);
  await clock.advance(1);
  assert.equal(n, 2);
});

test('a request during a run causes exactly one more run', async () => {
  const clock = new FakeClock();
  let n = 0;
  let release!: () => void;
  const r = new BoundedFrequencyRunner(async () => { n++; if (n === 1) await new Promise<void>((res) => { release = res; }); }, { clock });
  r.run();
  await clock.advance(0);
  r.run(); r.run(); r.run();
  release();
  await new Promise((res) => setImmediate(res));
  await clock.advance(0);
  assert.equal(n, 2);
  await r.whenIdle();
});

test('stop prevents further runs', async () => {
  const clock = new FakeClock();
  let n = 0;
  const r = new BoundedFrequencyRunner(async () => { n++; }, { minIntervalMs: 100, clock });
  r.run();
  await clock.advance(0);
  r.run();
  r.stop();
  await clock.advance(1000);
  assert.equal(n, 1);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { createApiCore } from '../apiserver/core.js';
import { MemoryStorage } from '../storage/memory.js';
import type { Client } from '../client/client.js';
import { R } from '../api/resources.js';
import { decideLease, LeaderElector } from './leaderelection.js';

const T0 = new Date('2026-12-01T10:00:00Z');
const lease = (holder: string, renewedSecondsAgo: number, duration = 15): Lease => ({
  spec: { holderIdentity: holder, leaseDurationSeconds: duration, renewTime: new Date(T0.getTime() - renewedSecondsAgo * 1000).toISOString() },
});

test('decideLease: take a free or expired Lease, renew our own, wait for a live one', () => {
  assert.equal(decideLease(undefined, 'a', T0, 15_000), 'acquire');
  assert.equal(decideLease(lease('', 0), 'a', T0, 15_000), 'acquire');
  assert.equal(decideLease(lease('a', 100), 'a', T0, 15_000), 'renew');
  assert.equal(decideLease(lease('b', 14), 'a', T0, 15_000), 'wait');
  assert.equal(decideLease(lease('b', 15), 'a', T0, 15_000), 'acquire');
});

test('two candidates: one leads; when it can no longer reach the API the other takes over, never both at once; a restart of the same identity takes its Lease back at once', async (t) => {
  const core = await createApiCore({ storage: new MemoryStorage() });
  t.after(() => core.close());
  let aDead = false;
  // A's view of the API fails once A "dies" (its machine is cut off).
  const aClient = new Proxy(core.client, {
    get: (target, p) => {
      const v = Reflect.get(target, p) as unknown;
      return typeof v === 'function' ? (...args: unknown[]) => { if (aDead) return Promise.reject(new Error('unreachable')); return (v as (...a: unknown[]) => unknown).apply(target, args); } : v;
    },
  }) as Client;
  const events: string[] = [];
  const mk = (id: string, client: Client) => new LeaderElector({
    client, name: 'kube-controller-manager', identity: id, leaseDurationMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 100,
    onStartedLeading: async () => { events.push(`${id} starts`); }, onStoppedLeading: async () => { events.push(`${id} stops`); },
  });
  const a = mk('a', aClient);
  const b = mk('b', core.client);
  t.after(async () => { await a.stop(); await b.stop(); });
  await a.start();
  await b.start();
  assert.equal(a.isLeader, true);
  assert.equal(b.isLeader, false);
  let both = false;
  const watch = setInterval(() => { if (a.isLeader && b.isLeader) both = true; }, 10);
  t.after(() => clearInterval(watch));
  aDead = true;
  const t0 = Date.now();
  while (!b.isLeader && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
  assert.equal(b.isLeader, true, 'b took over');
  assert.equal(a.isLeader, false);
  assert.equal(both, false, 'never two leaders');
  assert.deepEqual(events, ['a starts', 'a stops', 'b starts']);
  const l = await core.client.get<Lease>(R.leases, 'kube-system', 'kube-controller-manager');
  assert.equal(l.spec?.holderIdentity, 'b');
  assert.equal(l.spec?.leaseTransitions, 1);
  // b is killed (no release) and restarts with the same identity: it leads again at once, its Lease still live.
  (b as unknown as { timer: NodeJS.Timeout }).timer && clearInterval((b as unknown as { timer: NodeJS.Timeout }).timer);
  (b as unknown as { stopped: boolean }).stopped = true;
  const b2 = mk('b', core.client);
  t.after(() => b2.stop());
  await b2.start();
  assert.equal(b2.isLeader, true);
});

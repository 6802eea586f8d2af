import assert from 'node:assert/strict';
import { it } from 'node:test';
import { isStorageError } from '../storage.js';
import { startTestEtcd, uniquePrefix } from '../testing/etcd.js';
import { EtcdClient } from './client.js';
import { EtcdCompactor } from './compactor.js';
import { EtcdStorage } from './storage.js';

it('two compactors on one etcd: one compacts per round, to the revision of the round before', async (t) => {
  const etcd = await startTestEtcd(t);
  const s = await EtcdStorage.open({ ...etcd.clientOptions, prefix: uniquePrefix() });
  t.after(() => s.close());
  const ca = new EtcdClient(etcd.clientOptions);
  const cb = new EtcdClient(etcd.clientOptions);
  t.after(() => { ca.close(); cb.close(); });
  const a = new EtcdCompactor(ca, 0);
  const b = new EtcdCompactor(cb, 0);

  const first = await s.create('/c/k', '0');
  assert.equal(await a.tick(), undefined, 'the first round only takes the clock');
  assert.equal(await b.tick(), undefined, 'b lost the race this round');
  const mid = await s.update('/c/k', '1');
  await s.update('/c/k', '2');
  const compacted = await a.tick();
  assert.ok(compacted !== undefined && compacted >= first.modRevision && compacted < mid.modRevision,
    `a compacts to the revision it saw one round ago (${compacted})`);
  assert.equal(await b.tick(), undefined, 'b sees a already compacted this round');
  assert.equal(b.compactedRevision, compacted);
  // History before the compacted revision is gone; after it, still there.
  await assert.rejects(s.list('/c/', { limit: 1, revision: first.modRevision - 1 }), (e: unknown) => isStorageError(e, 'Compacted'));
  assert.equal((await s.list('/c/', { limit: 1, revision: mid.modRevision })).items[0].value, '1');
  // b takes over when a stops: its next round wins.
  const won = await b.tick();
  assert.ok(won !== undefined && won > compacted!, 'b compacts once a no longer does');
});

it('the periodic loop compacts on its own', async (t) => {
  const etcd = await startTestEtcd(t);
  const s = await EtcdStorage.open({ ...etcd.clientOptions, prefix: uniquePrefix() });
  t.after(() => s.close());
  const c = new EtcdClient(etcd.clientOptions);
  t.after(() => c.close());
  const first = await s.create('/p/k', '0');
  for (let i = 0; i < 5; i++) await s.update('/p/k', String(i));
  const comp = new EtcdCompactor(c, 150);
  t.after(() => comp.stop());
  comp.start();
  const end = Date.now() + 10_000;
  while (comp.compactedRevision === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  assert.ok(comp.compactedRevision >= first.modRevision, `compacted to ${comp.compactedRevision}`);
});

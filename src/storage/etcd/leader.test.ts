/**
 * A 3-member etcd on loopback loses no acknowledged write across leader changes: writers create keys
 * through EtcdStorage while the leader hands over (MoveLeader) and then is killed (SIGKILL, forced
 * election, restarted later). Every write whose promise resolved must be in etcd afterwards; writes
 * that failed (Unavailable during the election) are allowed — they were never acknowledged.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { isStorageError } from '../storage.js';
import { startTestEtcd, uniquePrefix } from '../testing/etcd.js';
import { EtcdClient } from './client.js';
import { EtcdStorage } from './storage.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

it('3-member etcd: a leader change during writes loses no acknowledged write', { timeout: 120_000 }, async (t) => {
  const etcd = await startTestEtcd(t, { size: 3 });
  const prefix = uniquePrefix();
  const s = await EtcdStorage.open({ ...etcd.clientOptions, prefix, requestTimeoutMs: 3000 });
  t.after(() => s.close());
  const admin = new EtcdClient({ ...etcd.clientOptions, requestTimeoutMs: 2000 });
  t.after(() => admin.close());

  /** The leader's member id and the index of the member that is it (asking each live member). */
  const leader = async (): Promise<{ id: string; index: number }> => {
    for (let attempt = 0; attempt < 100; attempt++) {
      for (let i = 0; i < etcd.members.length; i++) {
        if (!etcd.members[i].running) continue;
        try {
          const st = await admin.status(etcd.endpoints[i]);
          if (st.leader === '0') continue;
          for (let j = 0; j < etcd.members.length; j++) {
            if (!etcd.members[j].running) continue;
            const sj = await admin.status(etcd.endpoints[j]).catch(() => undefined);
            if (sj && sj.header.member_id === st.leader) return { id: st.leader, index: j };
          }
        } catch { /* member busy or down */ }
      }
      await sleep(100);
    }
    throw new Error('no leader');
  };

  const acked = new Map<string, string>();
  let failed = 0;
  let stop = false;
  const writer = async (w: number): Promise<void> => {
    for (let i = 0; !stop; i++) {
      const key = `/ack/${w}-${i}`;
      try {
        await s.create(key, `v${i}`);
        acked.set(key, `v${i}`);
      } catch (e) {
        if (!isStorageError(e, 'Unavailable')) throw e;
        failed++;
        await sleep(20);
      }
    }
  };
  const writers = [0, 1, 2, 3].map(writer);

  await sleep(500);
  const first = await leader();
  const before1 = acked.size;
  // 1) Graceful hand-over to another member.
  const target = (first.index + 1) % 3;
  const targetId = (await admin.status(etcd.endpoints[target])).header.member_id;
  await admin.moveLeader(etcd.endpoints[first.index], targetId);
  await sleep(700);
  const second = await leader();
  assert.notEqual(second.id, first.id, 'MoveLeader changed the leader');
  assert.ok(acked.size > before1, 'writes went on through the hand-over');

  // 2) Kill the leader outright: the other two elect a new one; restart it later.
  await etcd.members[second.index].crash();
  const killedAt = Date.now();
  const before2 = acked.size;
  while (acked.size <= before2 + 10 && Date.now() - killedAt < 20_000) await sleep(20);
  const recoveryMs = Date.now() - killedAt;
  assert.ok(acked.size > before2 + 10, 'writes went on after the leader was killed');
  const third = await leader();
  assert.notEqual(third.id, second.id, 'a new leader was elected');
  etcd.members[second.index].spawn();
  await sleep(1000);
  stop = true;
  await Promise.all(writers);

  // Every acknowledged write is there, with its value (read in one snapshot through a fresh client).
  const check = await EtcdStorage.open({ ...etcd.clientOptions, prefix });
  t.after(() => check.close());
  const all = new Map((await check.list('/ack/')).items.map((kv) => [kv.key, kv.value]));
  const missing = [...acked].filter(([k, v]) => all.get(k) !== v);
  assert.deepEqual(missing, [], `acknowledged writes missing after leader changes (acked ${acked.size}, failed ${failed})`);
  t.diagnostic(`acked ${acked.size} writes, ${failed} failed as Unavailable (not acknowledged), ${all.size} keys stored; writes resumed ${recoveryMs} ms after the leader was killed`);
});

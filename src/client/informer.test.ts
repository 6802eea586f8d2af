import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import { R } from '../api/resources.js';
import { FakeClient } from './testing/fake.js';
import { Informer } from './informer.js';

it('a relist keeps the cached instance of an unchanged object and reports only real changes', async (t) => {
  const client = new FakeClient();
  await client.create<ConfigMap>(R.configmaps, 'default', { metadata: { name: 'same' }, data: { k: '1' } });
  await client.create<ConfigMap>(R.configmaps, 'default', { metadata: { name: 'changes' }, data: { k: '1' } });
  const inf = new Informer<ConfigMap>(client, R.configmaps, { retryDelayMs: 10 });
  const updates: string[] = [];
  inf.addHandlers({ onUpdate: (_old, obj) => updates.push(obj.metadata!.name!) });
  await inf.start();
  t.after(() => inf.stop());
  const before = inf.get('default/same');
  assert.ok(before);

  client.dropWatches(); // the watch ends; the informer relists
  const cur = await client.get<ConfigMap>(R.configmaps, 'default', 'changes');
  await client.update<ConfigMap>(R.configmaps, 'default', { ...cur, data: { k: '2' } });
  for (let i = 0; i < 100 && inf.get('default/changes')?.data?.k !== '2'; i++) await new Promise((r) => setTimeout(r, 10));

  assert.equal(inf.get('default/changes')?.data?.k, '2');
  assert.equal(inf.get('default/same'), before, 'the handlers\' instance of an unchanged object stays cached');
  assert.deepEqual(updates, ['changes']);
});

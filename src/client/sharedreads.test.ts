import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../api/object.js';
import { R } from '../api/resources.js';
import { createApiCore } from '../apiserver/core.js';
import { MemoryStorage } from '../storage/memory.js';
import { hasSharedReads, type WatchEvent } from './client.js';
import { FakeClient } from './testing/fake.js';
import { Informer } from './informer.js';

async function setup(t: { after(fn: () => unknown): void }) {
  const storage = new MemoryStorage();
  const core = await createApiCore({ storage });
  t.after(async () => { await core.close(); await storage.close(); });
  return core;
}

it('shared reads hand out the watch cache\'s own frozen objects; ordinary reads and writes return private copies', async (t) => {
  const { client } = await setup(t);
  assert.ok(hasSharedReads(client));
  assert.ok(!hasSharedReads(new FakeClient()), 'a client without the methods has no shared reads');
  await client.create<ConfigMap>(R.configmaps, 'default', { metadata: { name: 'a' }, data: { k: '1' } });

  const shared1 = (await client.listShared<ConfigMap>(R.configmaps, 'default')).items;
  const shared2 = (await client.listShared<ConfigMap>(R.configmaps, 'default')).items;
  assert.equal(shared1[0], shared2[0], 'the same instance every time: nothing is copied');
  assert.ok(Object.isFrozen(shared1[0]) && Object.isFrozen(shared1[0].data));
  assert.throws(() => { (shared1[0].data as Record<string, string>).k = '2'; }, TypeError, 'a write to a shared object throws');

  const copy = (await client.list<ConfigMap>(R.configmaps, 'default')).items[0];
  assert.deepEqual(copy, shared1[0]);
  assert.notEqual(copy, shared1[0]);
  (copy.data as Record<string, string>).k = 'mine';
  const written = await client.update<ConfigMap>(R.configmaps, 'default', { ...copy, data: { k: '3' } });
  assert.ok(!Object.isFrozen(written) && !Object.isFrozen(written.metadata), 'a write returns a private copy');
  assert.equal((await client.get<ConfigMap>(R.configmaps, 'default', 'a')).data?.k, '3');

  // Watches: shared events carry the frozen cached object, plain watches a copy of it.
  const shared: WatchEvent<KubeObject>[] = [];
  const plain: WatchEvent<KubeObject>[] = [];
  const w1 = client.watchShared(R.configmaps, 'default', {}, (e) => shared.push(e));
  const w2 = client.watch(R.configmaps, 'default', {}, (e) => plain.push(e));
  t.after(() => { w1.stop(); w2.stop(); });
  await client.patch(R.configmaps, 'default', 'a', 'application/merge-patch+json', { data: { k: '4' } });
  await new Promise((r) => setImmediate(r));
  assert.equal(shared.length, 1);
  assert.equal(plain.length, 1);
  const now = (await client.listShared(R.configmaps, 'default')).items[0];
  assert.equal(shared[0].object, now);
  assert.ok(!Object.isFrozen(plain[0].object));
  assert.deepEqual(plain[0].object, now);
});

it('an Informer with sharedObjects caches the server\'s frozen objects (in-process); without it, copies', async (t) => {
  const { client } = await setup(t);
  await client.create<ConfigMap>(R.configmaps, 'default', { metadata: { name: 'a' } });
  const shared = new Informer<ConfigMap>(client, R.configmaps, { sharedObjects: true });
  const copying = new Informer<ConfigMap>(client, R.configmaps);
  t.after(() => { shared.stop(); copying.stop(); });
  await Promise.all([shared.start(), copying.start()]);
  await client.create<ConfigMap>(R.configmaps, 'default', { metadata: { name: 'b' } });
  const deadline = Date.now() + 2000;
  while ((!shared.get('default/b') || !copying.get('default/b')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  const cached = (await client.listShared<ConfigMap>(R.configmaps, 'default')).items;
  for (const name of ['a', 'b']) {
    const s = shared.get(`default/${name}`)!;
    const c = copying.get(`default/${name}`)!;
    assert.ok(cached.includes(s), `${name}: listed and watched objects are the server's own`);
    assert.ok(Object.isFrozen(s) && !Object.isFrozen(c));
    assert.deepEqual(c, s);
  }
});

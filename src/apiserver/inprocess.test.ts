import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../api/errors.js';
import { R } from '../api/resources.js';
import { createApiCore } from './core.js';
import { MemoryStorage } from '../storage/memory.js';
import { Informer } from '../client/informer.js';

it('in-process client drives an Informer: list, then adds/updates/deletes in order; returns private copies', async (t) => {
  const storage = new MemoryStorage();
  const core = await createApiCore({ storage });
  const inf = new Informer<ConfigMap>(core.client, R.configmaps, { namespace: 'default', labelSelector: 'team=a', retryDelayMs: 10 });
  t.after(async () => { inf.stop(); await core.close(); await storage.close(); });
  await core.client.create(R.configmaps, 'default', { metadata: { name: 'pre', labels: { team: 'a' } } } as ConfigMap);
  const log: string[] = [];
  inf.addHandlers({
    onAdd: (o) => log.push(`add ${o.metadata!.name}`),
    onUpdate: (_o, n) => log.push(`update ${n.metadata!.name} ${n.data?.k}`),
    onDelete: (o) => log.push(`delete ${o.metadata!.name}`),
  });
  await inf.start();
  await core.client.create(R.configmaps, 'default', { metadata: { name: 'x', labels: { team: 'a' } }, data: { k: '1' } } as ConfigMap);
  await core.client.create(R.configmaps, 'default', { metadata: { name: 'other', labels: { team: 'b' } } } as ConfigMap);
  await core.client.patch(R.configmaps, 'default', 'x', 'application/merge-patch+json', { data: { k: '2' } });
  await core.client.patch(R.configmaps, 'default', 'x', 'application/merge-patch+json', { metadata: { labels: { team: 'b' } } });
  await core.client.delete(R.configmaps, 'default', 'pre');
  const deadline = Date.now() + 2000;
  while (log.length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(log, ['add pre', 'add x', 'update x 2', 'delete x', 'delete pre']);

  // Returned objects are copies: mutating one does not change the server's.
  const got = await core.client.get<ConfigMap>(R.configmaps, 'default', 'other');
  (got.metadata as { name: string }).name = 'mutated';
  assert.equal((await core.client.get<ConfigMap>(R.configmaps, 'default', 'other')).metadata!.name, 'other');

  // A bad selector ends the watch with a 400.
  const h = core.client.watch(R.configmaps, 'default', { labelSelector: 'a in b' }, () => {});
  await assert.rejects(h.done, (e: unknown) => e instanceof ApiError && e.code === 400);
});

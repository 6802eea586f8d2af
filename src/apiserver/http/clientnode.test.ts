/**
 * A third-party client against the server: @kubernetes/client-node (the official JavaScript client)
 * lists, watches, creates, patches and deletes over real HTTPS with the generated kubeconfig.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStorage } from '../../storage/memory.js';
import { createApiCore } from '../core.js';
import { ensurePki } from '../pki/pki.js';
import { writeKubeconfig } from '../../client/kubeconfig.js';
import { startApiServer } from './server.js';
import { standardExtensions } from './standard.js';

test('@kubernetes/client-node: list, watch, create, patch, delete', async (t) => {
  // Pinned to @kubernetes/client-node 1.x: 2.x pulls undici 8, which needs Node >= 22.19.
  const k = await import('@kubernetes/client-node');
  const { CoreV1Api, KubeConfig, PatchStrategy, Watch, setHeaderOptions } = k;
  const dir = await mkdtemp(join(tmpdir(), 'cip-cn-'));
  const storage = new MemoryStorage();
  const core = await createApiCore({ storage });
  const pki = await ensurePki(dir);
  const srv = await startApiServer({ client: core.client, pki, listen: { port: 0 }, extensions: standardExtensions(), log: () => {} });
  const aborts: AbortController[] = [];
  t.after(async () => { aborts.forEach((a) => a.abort()); await srv.close(); await core.close(); await storage.close(); await rm(dir, { recursive: true, force: true }); });
  const path = join(dir, 'kubeconfig');
  await writeKubeconfig(path, pki, { name: 'cn', server: srv.url });
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  const api = kc.makeApiClient(CoreV1Api);

  const ns = await api.listNamespace();
  assert.deepEqual(ns.items.map((n) => n.metadata?.name).sort(), ['default', 'kube-node-lease', 'kube-public', 'kube-system']);

  const seen: string[] = [];
  const watch = new Watch(kc);
  let sawDelete!: () => void;
  const deleted = new Promise<void>((r) => { sawDelete = r; });
  aborts.push(await watch.watch('/api/v1/namespaces/default/services', {}, (phase, obj: { metadata: { name: string } }) => {
    if (obj.metadata.name !== 'cn') return;
    seen.push(phase);
    if (phase === 'DELETED') sawDelete();
  }, () => {}));

  const created = await api.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'cn' }, spec: { selector: { app: 'cn' }, ports: [{ port: 80 }] } } });
  assert.equal(created.spec?.type, 'ClusterIP');
  assert.equal(created.spec?.ports?.[0].targetPort, 80);
  const patched = await api.patchNamespacedService({ name: 'cn', namespace: 'default', body: { metadata: { labels: { tier: 'web' } } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  assert.equal(patched.metadata?.labels?.tier, 'web');
  const jp = await api.patchNamespacedService({ name: 'cn', namespace: 'default', body: [{ op: 'replace', path: '/spec/ports/0/port', value: 8080 }] });
  assert.equal(jp.spec?.ports?.[0].port, 8080);
  const list = await api.listServiceForAllNamespaces({ labelSelector: 'tier=web' });
  assert.deepEqual(list.items.map((s) => s.metadata?.name), ['cn']);
  await api.deleteNamespacedService({ name: 'cn', namespace: 'default' });
  await Promise.race([deleted, new Promise((_, rej) => setTimeout(() => rej(new Error(`no DELETED event; saw ${seen}`)), 5000))]);
  assert.deepEqual(seen, ['ADDED', 'MODIFIED', 'MODIFIED', 'DELETED']);
  await assert.rejects(api.readNamespacedService({ name: 'cn', namespace: 'default' }), (e: { code?: number }) => e.code === 404);
});

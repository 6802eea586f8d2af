/**
 * HttpClient against the real front door and the real core: kubeconfig loading (certificate and
 * token), the unix socket, Status → ApiError mapping, watch parsing, and transport failures.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Service } from 'kubernetes-types/core/v1.js';
import { MemoryStorage } from '../storage/memory.js';
import { createApiCore, type ApiCore } from '../apiserver/core.js';
import { ensurePki } from '../apiserver/pki/pki.js';
import { writeKubeconfig } from './kubeconfig.js';
import { startApiServer, type RunningApiServer } from '../apiserver/http/server.js';
import { R } from '../api/resources.js';
import { ApiError } from '../api/errors.js';
import type { WatchEvent } from './client.js';
import { HttpClient, clientFromKubeconfig, resourcePath } from './http.js';

let dir: string; let storage: MemoryStorage; let core: ApiCore; let srv: RunningApiServer; let kubeconfig: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cip-hc-'));
  storage = new MemoryStorage();
  core = await createApiCore({ storage });
  const pki = await ensurePki(dir);
  srv = await startApiServer({ client: core.client, pki, listen: { port: 0 }, unixSocket: join(dir, 'api.sock'), log: () => {} });
  kubeconfig = join(dir, 'kubeconfig');
  await writeKubeconfig(kubeconfig, pki, { name: 't', server: srv.url });
});
after(async () => { await srv?.close(); await core?.close(); await storage?.close(); await rm(dir, { recursive: true, force: true }); });

test('resourcePath builds the URL forms', () => {
  assert.equal(resourcePath(R.services, 'ns1', 'web'), '/api/v1/namespaces/ns1/services/web');
  assert.equal(resourcePath(R.services, undefined), '/api/v1/services');
  assert.equal(resourcePath(R.deployments, 'd', 'x', 'scale'), '/apis/apps/v1/namespaces/d/deployments/x/scale');
  assert.equal(resourcePath(R.nodes, 'ignored', 'n1'), '/api/v1/nodes/n1');
});

test('clientFromKubeconfig: create, patch, list, watch, delete, Status errors', async () => {
  const c = await clientFromKubeconfig(kubeconfig);
  try {
    const events: WatchEvent<Service>[] = [];
    const h = c.watch<Service>(R.services, 'default', {}, (ev) => events.push(ev));
    const s = await c.create<Service>(R.services, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } });
    assert.match(s.spec?.clusterIP ?? '', /^10\.(9[6-9]|10[0-9]|11[01])\./);
    const p = await c.patch<Service>(R.services, 'default', 'web', 'application/strategic-merge-patch+json', { metadata: { labels: { a: 'b' } } });
    assert.equal(p.metadata?.labels?.a, 'b');
    const l = await c.list<Service>(R.services, 'default', { labelSelector: 'a=b' });
    assert.deepEqual(l.items.map((x) => x.metadata?.name), ['web']);
    await assert.rejects(c.update(R.services, 'default', { ...s, spec: { ...s.spec, ports: [{ port: 81 }] } }),
      (e: unknown) => e instanceof ApiError && e.code === 409 && e.reason === 'Conflict');
    await c.delete(R.services, 'default', 'web');
    for (let i = 0; i < 50 && !events.some((e) => e.type === 'DELETED' && e.object.metadata?.name === 'web'); i++) await new Promise((r) => setTimeout(r, 20));
    h.stop();
    await h.done;
    assert.deepEqual(events.filter((e) => e.object.metadata?.name === 'web').map((e) => e.type), ['ADDED', 'MODIFIED', 'DELETED']);
    await assert.rejects(c.get(R.services, 'default', 'web'), (e: unknown) => e instanceof ApiError && e.code === 404 && e.message === 'services "web" not found');
  } finally { c.close(); }
});

test('unix socket client needs no credentials', async () => {
  const c = new HttpClient({ socketPath: join(dir, 'api.sock') });
  try { assert.equal((await c.get(R.namespaces, undefined, 'kube-system')).metadata?.name, 'kube-system'); } finally { c.close(); }
});

test('an unreachable server is a 503 ApiError; a watch on it rejects done', async () => {
  const c = new HttpClient({ socketPath: join(dir, 'missing.sock') });
  try {
    await assert.rejects(c.get(R.namespaces, undefined, 'x'), (e: unknown) => e instanceof ApiError && e.code === 503);
    await assert.rejects(c.watch(R.pods, undefined, {}, () => {}).done, (e: unknown) => e instanceof ApiError && e.code === 503);
  } finally { c.close(); }
});

test('deletecollection with a label selector deletes only the matching objects', async () => {
  const c = await clientFromKubeconfig(kubeconfig);
  try {
    for (const [name, tier] of [['a1', 'x'], ['a2', 'x'], ['b1', 'y']]) {
      await c.create(R.configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { tier } } });
    }
    const out = await c.request<{ kind: string; items: { metadata: { name: string } }[] }>('DELETE', '/api/v1/namespaces/default/configmaps?labelSelector=tier%3Dx', { propagationPolicy: 'Background' });
    assert.equal(out.kind, 'ConfigMapList');
    assert.deepEqual(out.items.map((i) => i.metadata.name).sort(), ['a1', 'a2']);
    const left = await c.list(R.configmaps, 'default', { labelSelector: 'tier' });
    assert.deepEqual(left.items.map((i) => i.metadata?.name), ['b1']);
  } finally { c.close(); }
});

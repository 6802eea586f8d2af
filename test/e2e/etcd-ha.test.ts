/**
 * API servers on a real etcd (Debian's etcd on loopback, client-certificate TLS):
 * - two API servers on one etcd both serve, a watch on each sees every write made through the other,
 *   and 1,000 ClusterIPs allocated concurrently through both are all distinct;
 * - etcd down: the API answers 503 with the reason (kubectl and the HTTP client) and keeps running;
 *   when etcd returns, writes work again and an informer's watch carries on (resumed or re-listed).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { ConfigMap, Service } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../../src/api/errors.js';
import { R } from '../../src/api/resources.js';
import type { Client, WatchEvent } from '../../src/client/client.js';
import { Informer } from '../../src/client/informer.js';
import { startTestEtcd, uniquePrefix } from '../../src/storage/testing/etcd.js';
import { startTestCluster } from '../harness/cluster.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const svc = (name: string): Service => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name },
  spec: { selector: { app: name }, ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }] },
});

/** Runs `fn(i)` for i in [0, n) with at most `width` in flight. */
async function pool(n: number, width: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) await fn(next++);
  }));
}

it('two API servers on one etcd: both serve, watches on each see every write, 1,000 concurrent ClusterIPs in a /22 have no duplicate', { timeout: 240_000 }, async (t) => {
  const etcd = await startTestEtcd(t, { tls: true });
  const store = { ...etcd.clientOptions, prefix: uniquePrefix() };
  // A /22 holds 1,020 assignable addresses: 1,000 Services fill it, so two servers that did not
  // coordinate would hand out the same address many times over.
  const serviceCIDR = '10.96.0.0/22';
  const a = await startTestCluster(t, { etcd: store, serviceCIDR });
  const b = await startTestCluster(t, { etcd: store, serviceCIDR });
  await a.http.create(R.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ha' } });
  await until(async () => (await b.http.list(R.namespaces, undefined)).items.some((n) => n.metadata?.name === 'ha'), 5000, 'B to see the namespace A created');

  const seen = { a: new Set<string>(), b: new Set<string>() };
  const watchOn = async (c: Client, into: Set<string>) => {
    const rv = (await c.list(R.services, 'ha')).metadata.resourceVersion;
    const w = c.watch<Service>(R.services, 'ha', { resourceVersion: rv }, (ev: WatchEvent<Service>) => {
      if (ev.type === 'ADDED') into.add(`${ev.object.metadata!.name} ${ev.object.spec!.clusterIP}`);
    });
    w.done.catch(() => { /* the watch ends with the clusters at teardown */ });
    t.after(() => w.stop());
  };
  await watchOn(a.http, seen.a);
  await watchOn(b.http, seen.b);

  const N = 1000;
  const ips = new Map<string, string>();
  const t0 = Date.now();
  await pool(N, 64, async (i) => {
    const via = i % 2 === 0 ? a.http : b.http;
    const s = await via.create<Service>(R.services, 'ha', svc(`s${i}`));
    ips.set(s.metadata!.name!, s.spec!.clusterIP!);
  });
  const ms = Date.now() - t0;
  const distinct = new Set(ips.values());
  assert.equal(ips.size, N);
  assert.equal(distinct.size, N, 'every ClusterIP is distinct');

  // Both servers list the same 1,000 Services with the same IPs; both watches saw every create.
  const expected = [...ips].map(([n, ip]) => `${n} ${ip}`).sort();
  for (const c of [a.http, b.http]) {
    await until(async () => (await c.list<Service>(R.services, 'ha')).items.length === N, 10_000, 'both servers to list every Service');
    const listed = (await c.list<Service>(R.services, 'ha')).items.map((s) => `${s.metadata!.name} ${s.spec!.clusterIP}`).sort();
    assert.deepEqual(listed, expected);
  }
  await until(() => seen.a.size === N && seen.b.size === N, 10_000, 'both watches to see every create');
  assert.deepEqual([...seen.a].sort(), expected);
  assert.deepEqual([...seen.b].sort(), expected);

  // The real kubectl through B shows a Service created through A with A's IP.
  const r = await b.kubectl(['get', 'svc', 's0', '-n', 'ha', '-o', 'jsonpath={.spec.clusterIP}']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, ips.get('s0'));
  // Deleting through one server frees the address for the other — once the other has seen the
  // delete (its allocator learns of it through its watch, as a kube-apiserver's IPAddress informer
  // does; until then it answers "already allocated", as Kubernetes does).
  await a.http.delete(R.services, 'ha', 's1');
  let reuse: Service | undefined;
  await until(async () => {
    try {
      reuse = await b.http.create<Service>(R.services, 'ha', { ...svc('reuse'), spec: { ...svc('reuse').spec, clusterIP: ips.get('s1') } });
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.code === 422 && /provided IP is already allocated/.test(e.message)) return false;
      throw e;
    }
  }, 10_000, 'the other server to reuse the freed address');
  assert.equal(reuse!.spec!.clusterIP, ips.get('s1'));
  await assert.rejects(a.http.create(R.services, 'ha', { ...svc('dupe'), spec: { ...svc('dupe').spec, clusterIP: ips.get('s2') } }),
    (e: unknown) => e instanceof ApiError && e.code === 422 && /provided IP is already allocated/.test(e.message));
  t.diagnostic(`${N} Services through two API servers in ${ms} ms`);
});

it('etcd down: the API answers 503 with the reason and stays up; when etcd returns, writes work and informers carry on', { timeout: 120_000 }, async (t) => {
  const etcd = await startTestEtcd(t);
  const c = await startTestCluster(t, { etcd: { ...etcd.clientOptions, prefix: uniquePrefix(), requestTimeoutMs: 2000 } });
  const cm = (name: string): ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { k: name } });
  const inf = new Informer<ConfigMap>(c.http, R.configmaps, { namespace: 'default', retryDelayMs: 200 });
  t.after(() => inf.stop());
  await inf.start();
  await c.http.create(R.configmaps, 'default', cm('before'));
  await until(() => inf.get('default/before') !== undefined, 5000, 'the informer to see "before"');

  await etcd.members[0].crash();
  await until(async () => {
    try { await c.http.get(R.configmaps, 'default', 'before'); return false; } catch (e) { return e instanceof ApiError && e.code === 503; }
  }, 10_000, 'reads to answer 503');
  const write = await c.http.create(R.configmaps, 'default', cm('during')).then(() => undefined, (e: unknown) => e);
  assert.ok(write instanceof ApiError, `a write while etcd is down fails (got ${String(write)})`);
  assert.equal(write.code, 503);
  assert.equal(write.reason, 'ServiceUnavailable');
  assert.match(write.message, /etcd/);
  const k = await c.kubectl(['get', 'configmap', 'before']);
  assert.notEqual(k.code, 0);
  assert.match(k.stderr, /storage is unavailable: etcd watch disconnected/);
  const live = await fetch(`${c.server.url}/livez`).catch(() => undefined);
  void live; // liveness is served without auth; the process is up as long as the next calls answer

  etcd.members[0].spawn();
  await until(async () => {
    try { await c.http.create(R.configmaps, 'default', cm('after')); return true; } catch { return false; }
  }, 30_000, 'writes to work again');
  await until(() => inf.get('default/after') !== undefined, 10_000, 'the informer to see a write made after etcd returned');
  assert.ok(inf.get('default/before'), 'the informer kept what it had');
  assert.equal(inf.get('default/during'), undefined, 'the failed write did not appear');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClient } from '../client/testing/fake.js';
import { R } from '../api/resources.js';
import type { ResourceInfo } from '../api/resources.js';
import { startProxy } from './proxy.js';
import type { ExecResult } from './exec.js';
import { slice, svc } from './testing/shapes.js';
import { ProxyError } from './errors.js';

/** Records every command; `fail` makes the next n `nft -f` calls fail. */
function recorder() {
  const calls: { argv: string[]; stdin?: string }[] = [];
  const state = { fail: 0 };
  const exec = async (argv: string[], stdin?: string): Promise<ExecResult> => {
    calls.push({ argv, stdin });
    if (argv.join(' ') === 'nft -f -' && state.fail > 0) { state.fail--; return { stdout: '', stderr: 'boom', code: 1 }; }
    if (argv[1] === '-t') return { stdout: '', stderr: 'No such file or directory', code: 1 };
    return { stdout: '', stderr: '', code: 0 };
  };
  const applies = () => calls.filter((c) => c.argv.join(' ') === 'nft -f -').map((c) => c.stdin ?? '');
  return { exec, calls, state, applies };
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail('condition never became true');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const base = { nodeName: 'n0', netns: 'cip-test-n0', mode: 'nftables' as const, serviceCIDR: '10.96.0.0/12', podCIDR: '10.244.0.0/16', onError: () => {} };

test('nothing is programmed until Services and EndpointSlices have both synced', async (t) => {
  const client = new FakeClient();
  await client.create(R.services, 'ns', svc('ns', 'web', '10.96.0.11', [{ port: 80 }]));
  await client.create(R.endpointslices, 'ns', slice('ns', 'web', 'web-1', [{ port: 80 }], [{ ip: '10.244.0.2' }]));
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const origList = client.list.bind(client);
  client.list = (async (res: ResourceInfo, ns?: string) => {
    if (res.plural === 'endpointslices') await gate;
    return origList(res, ns);
  }) as typeof client.list;
  const rec = recorder();
  const started = startProxy({ ...base, client, exec: rec.exec });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(rec.applies().length, 0, 'no rules before the EndpointSlice informer synced');
  release();
  const proxy = await started;
  t.after(() => proxy.stop());
  await until(() => rec.applies().length === 1);
  const text = rec.applies()[0]!;
  assert.match(text, /add table ip clusterip/);
  assert.match(text, /service-endpoints-tcp \{ 10\.96\.0\.11 \. tcp \. 80 \. 0 : 10\.244\.0\.2 \. 80 \}/, 'the first sync already has the endpoints');
});

test('after a failed sync the next one is full; then syncs are incremental', async (t) => {
  const client = new FakeClient();
  const rec = recorder();
  const proxy = await startProxy({ ...base, client, exec: rec.exec, retrySyncPeriodMs: 10 });
  t.after(() => proxy.stop());
  await until(() => rec.applies().length === 1); // initial full sync of nothing
  rec.state.fail = 1;
  await client.create(R.services, 'ns', svc('ns', 'web', '10.96.0.11', [{ port: 80 }]));
  await until(() => rec.applies().length === 3);
  const [, failed, retried] = rec.applies();
  assert.doesNotMatch(failed!, /add table/, 'the failed one was incremental');
  assert.match(retried!, /add table ip clusterip/, 'the retry after a failure is full');
  assert.match(retried!, /no-endpoint-services \{ 10\.96\.0\.11 \. tcp \. 80/);
  await client.create(R.endpointslices, 'ns', slice('ns', 'web', 'web-1', [{ port: 80 }], [{ ip: '10.244.0.2' }]));
  await until(() => rec.applies().length === 4);
  const inc = rec.applies()[3]!;
  assert.doesNotMatch(inc, /add table/);
  assert.match(inc, /delete element ip clusterip no-endpoint-services/);
  assert.match(inc, /add element ip clusterip service-ips \{ 10\.96\.0\.11 \. tcp \. 80/);
  assert.match(await proxy.metricsText(), /kubeproxy_sync_full_proxy_rules_duration_seconds_count 2/);
});

test('a burst of changes is coalesced into few syncs', async (t) => {
  const client = new FakeClient();
  const rec = recorder();
  const proxy = await startProxy({ ...base, client, exec: rec.exec, minSyncPeriodMs: 100 });
  t.after(() => proxy.stop());
  await until(() => rec.applies().length === 1);
  for (let i = 0; i < 50; i++) await client.create(R.services, 'ns', svc('ns', `s${i}`, `10.96.1.${i}`, [{ port: 80 }]));
  await new Promise((r) => setTimeout(r, 250));
  await proxy.whenIdle();
  assert.ok(rec.applies().length <= 3, `${rec.applies().length} syncs for 50 changes`);
  const all = rec.applies().join('\n');
  for (let i = 0; i < 50; i++) assert.ok(all.includes(`10.96.1.${i} . tcp . 80`));
});

test('invalid options are refused up front with a typed error', async () => {
  await assert.rejects(startProxy({ ...base, client: new FakeClient(), netns: '' }), (e: unknown) => e instanceof ProxyError && e.code === 'INVALID_PROXY_OPTIONS');
  await assert.rejects(startProxy({ ...base, client: new FakeClient(), serviceCIDR: '10.96.0.0' }), ProxyError);
  await assert.rejects(startProxy({ ...base, client: new FakeClient(), mode: 'ipvs' as 'nftables' }), ProxyError);
});


test('onSync reports each accepted transaction: full first, then the changed Services only', async (t) => {
  const client = new FakeClient();
  const rec = recorder();
  const reports: { full: boolean; services: string[]; transaction: string }[] = [];
  const proxy = await startProxy({ ...base, client, exec: rec.exec, onSync: (r) => reports.push({ full: r.full, services: [...r.services], transaction: r.transaction }) });
  t.after(() => proxy.stop());
  await until(() => reports.length === 1);
  assert.equal(reports[0]!.full, true);
  await client.create(R.services, 'ns', svc('ns', 'web', '10.96.0.11', [{ port: 80 }]));
  await until(() => reports.length === 2);
  assert.deepEqual(reports[1], { full: false, services: ['ns/web'], transaction: rec.applies()[1] });
  assert.match(reports[1]!.transaction, /no-endpoint-services \{ 10\.96\.0\.11 \. tcp \. 80/);
});

test('status() and onStatus report the last sync, a failure, and the recovery', async (t) => {
  const client = new FakeClient();
  const rec = recorder();
  const seen: { syncs: number; failures: number; error?: string }[] = [];
  const proxy = await startProxy({
    ...base, client, exec: rec.exec, retrySyncPeriodMs: 10,
    onStatus: (s) => seen.push({ syncs: s.syncs, failures: s.failuresSinceSync, error: s.lastError?.message }),
  });
  t.after(() => proxy.stop());
  await until(() => proxy.status().syncs === 1);
  const first = proxy.status();
  assert.equal(first.node, 'n0');
  assert.equal(first.mode, 'nftables');
  assert.ok(first.lastSyncAt && first.lastSyncAt === first.lastFullSyncAt, 'the first sync is full');
  assert.equal(first.lastError, undefined);
  rec.state.fail = 1;
  await client.create(R.services, 'ns', svc('ns', 'web', '10.96.0.11', [{ port: 80 }]));
  await until(() => proxy.status().syncs === 2);
  const after = proxy.status();
  assert.match(after.lastError?.message ?? '', /boom/, 'the failure is kept with its message');
  assert.ok(after.lastError!.at <= after.lastSyncAt!, 'and the later success is newer');
  assert.equal(after.failuresSinceSync, 0);
  assert.deepEqual(seen.map((s) => s.failures), [0, 1, 0], 'onStatus: success, failure, recovery');
  assert.match(seen[1]!.error ?? '', /boom/);
});

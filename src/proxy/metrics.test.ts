import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClient } from '../client/testing/fake.js';
import { R } from '../api/resources.js';
import { startProxy } from './proxy.js';
import type { ExecResult } from './exec.js';
import { slice, svc } from './testing/shapes.js';
import { scrape, sampleValue } from '../inspect/testing/prometheus.js';

async function until(cond: () => boolean | Promise<boolean>, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) assert.fail('condition never became true');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** An executor that accepts every transaction except while `fail` > 0. */
function kernel() {
  const state = { applies: 0, fail: 0 };
  const exec = async (argv: string[]): Promise<ExecResult> => {
    if (argv.join(' ') === 'nft -f -') {
      if (state.fail > 0) { state.fail--; return { stdout: '', stderr: 'boom', code: 1 }; }
      state.applies++;
    }
    if (argv[1] === '-t') return { stdout: '', stderr: 'No such file or directory', code: 1 };
    return { stdout: '', stderr: '', code: 0 };
  };
  return { exec, state };
}

const base = { nodeName: 'n0', netns: 'cip-test-n0', mode: 'nftables' as const, serviceCIDR: '10.96.0.0/12', podCIDR: '10.244.0.0/16', onError: () => {} };

test('proxy metrics: kube-proxy names in valid exposition format, and they move when Services and slices change', async (t) => {
  const client = new FakeClient();
  const k = kernel();
  const proxy = await startProxy({ ...base, client, exec: k.exec, retrySyncPeriodMs: 10 });
  t.after(() => proxy.stop());
  await until(() => k.state.applies === 1);
  const before = scrape(await proxy.metricsText());
  for (const name of [
    'kubeproxy_sync_proxy_rules_duration_seconds', 'kubeproxy_sync_full_proxy_rules_duration_seconds',
    'kubeproxy_sync_partial_proxy_rules_duration_seconds', 'kubeproxy_network_programming_duration_seconds',
    'kubeproxy_sync_proxy_rules_last_timestamp_seconds', 'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds',
    'kubeproxy_sync_proxy_rules_endpoint_changes_pending', 'kubeproxy_sync_proxy_rules_endpoint_changes_total',
    'kubeproxy_sync_proxy_rules_service_changes_pending', 'kubeproxy_sync_proxy_rules_service_changes_total',
    'kubeproxy_sync_proxy_rules_nftables_sync_failures_total',
  ]) assert.ok(before.has(name), `${name} is exposed`);
  assert.equal(before.get('kubeproxy_sync_proxy_rules_duration_seconds')!.type, 'histogram');
  assert.equal(sampleValue(before, 'kubeproxy_sync_full_proxy_rules_duration_seconds'), 1);
  assert.ok(sampleValue(before, 'kubeproxy_sync_proxy_rules_last_timestamp_seconds') > Date.now() / 1000 - 60);

  await client.create(R.services, 'ns', svc('ns', 'web', '10.96.0.11', [{ port: 80 }]));
  const s = slice('ns', 'web', 'web-1', [{ port: 80 }], [{ ip: '10.244.0.2' }]);
  s.metadata!.annotations = { 'endpoints.kubernetes.io/last-change-trigger-time': new Date(Date.now() - 3).toISOString() };
  await client.create(R.endpointslices, 'ns', s);
  await until(async () => sampleValue(scrape(await proxy.metricsText()), 'kubeproxy_network_programming_duration_seconds') === 1);
  const after = scrape(await proxy.metricsText());
  assert.equal(sampleValue(after, 'kubeproxy_sync_proxy_rules_service_changes_total'), 1);
  assert.equal(sampleValue(after, 'kubeproxy_sync_proxy_rules_endpoint_changes_total'), 1);
  assert.equal(sampleValue(after, 'kubeproxy_sync_proxy_rules_endpoint_changes_pending'), 0, 'folded into a sync');
  assert.ok(sampleValue(after, 'kubeproxy_sync_partial_proxy_rules_duration_seconds') >= 1);
  const np = after.get('kubeproxy_network_programming_duration_seconds')!.samples[0]!;
  assert.ok(np.sum! >= 0.003 && np.sum! < 5, `programming latency ${np.sum} s counts from the trigger time`);

  k.state.fail = 1;
  await client.delete(R.services, 'ns', 'web');
  await until(async () => sampleValue(scrape(await proxy.metricsText()), 'kubeproxy_sync_proxy_rules_nftables_sync_failures_total') === 1);
});

test('proxy metrics: iptables mode counts failures with kube-proxy\'s iptables-restore counter', async (t) => {
  const proxy = await startProxy({ ...base, mode: 'iptables', client: new FakeClient(), exec: async () => ({ stdout: '', stderr: '', code: 0 }) });
  t.after(() => proxy.stop());
  const m = scrape(await proxy.metricsText());
  assert.ok(m.has('kubeproxy_sync_proxy_rules_iptables_restore_failures_total'));
  assert.ok(!m.has('kubeproxy_sync_proxy_rules_nftables_sync_failures_total'));
});

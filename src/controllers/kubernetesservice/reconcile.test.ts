import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Endpoints } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { createApiCore } from '../../apiserver/core.js';
import { MemoryStorage } from '../../storage/memory.js';
import { R } from '../../api/resources.js';
import { apiServerLease, kubernetesEndpoints, liveEndpoints, leaseLive } from './reconcile.js';
import { KubernetesServiceReconciler } from './reconciler.js';

const T0 = new Date('2026-12-01T10:00:00Z');
const at = (s: number): Date => new Date(T0.getTime() + s * 1000);

test('live endpoints: one per live Lease, expired and foreign Leases left out, sorted by address, deduplicated', () => {
  const a = apiServerLease('a', { address: '10.244.3.1', port: 6443, serverURL: 'https://192.168.77.4:6443' }, 15, T0, 'h');
  const b = apiServerLease('b', { address: '10.244.0.1', port: 6443 }, 15, at(-10), 'h');
  const dead = apiServerLease('c', { address: '10.244.9.1', port: 6443 }, 15, at(-16), 'h');
  const sameAddr = apiServerLease('d', { address: '10.244.0.1', port: 6443 }, 15, T0, 'h');
  const foreign: Lease = { ...a, metadata: { ...a.metadata, name: 'other', labels: {} } };
  const garbage: Lease = { ...a, metadata: { ...a.metadata, name: 'g', annotations: { 'clusterip.dev/advertise-address': 'x', 'clusterip.dev/advertise-port': '1' } } };
  assert.equal(leaseLive(dead, T0), false);
  assert.equal(leaseLive(b, T0), true);
  assert.deepEqual(liveEndpoints([a, b, dead, sameAddr, foreign, garbage], T0), [
    { address: '10.244.0.1', port: 6443 },
    { address: '10.244.3.1', port: 6443, serverURL: 'https://192.168.77.4:6443' },
  ]);
  assert.equal(a.metadata?.name, 'apiserver-a');
  assert.equal(a.metadata?.labels?.['apiserver.kubernetes.io/identity'], 'kube-apiserver');
  assert.match(a.spec!.renewTime!, /^2026-12-01T10:00:00\.000000Z$/);
  assert.deepEqual(kubernetesEndpoints(liveEndpoints([a, b], T0)).subsets, [{
    addresses: [{ ip: '10.244.0.1' }, { ip: '10.244.3.1' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }],
  }]);
  assert.deepEqual(kubernetesEndpoints([]).subsets, []);
});

test('two reconcilers on one API: both listed; one stops cleanly and is dropped at once; one that dies is dropped when its Lease expires', async (t) => {
  const core = await createApiCore({ storage: new MemoryStorage() });
  t.after(() => core.close());
  let now = T0;
  const clock = () => now;
  const mk = (id: string, address: string) => new KubernetesServiceReconciler({
    client: core.client, id, endpoint: { address, port: 6443 }, leaseDurationSeconds: 15, renewMs: 3_600_000, now: clock,
  });
  const a = mk('a', '10.244.0.1');
  const b = mk('b', '10.244.1.1');
  const c = mk('c', '10.244.2.1');
  await a.start();
  await b.start();
  await c.start();
  t.after(() => Promise.all([a.stop(), b.stop(), c.stop()]));
  const ips = async (): Promise<{ ep: string[]; slice: string[] }> => {
    const ep = await core.client.get<Endpoints>(R.endpoints, 'default', 'kubernetes');
    const sl = await core.client.get<EndpointSlice>(R.endpointslices, 'default', 'kubernetes');
    return { ep: (ep.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((x) => x.ip)), slice: sl.endpoints.flatMap((e) => e.addresses) };
  };
  await a.runRound();
  assert.deepEqual(await ips(), { ep: ['10.244.0.1', '10.244.1.1', '10.244.2.1'], slice: ['10.244.0.1', '10.244.1.1', '10.244.2.1'] });
  const sl = await core.client.get<EndpointSlice>(R.endpointslices, 'default', 'kubernetes');
  assert.equal(sl.metadata?.labels?.['kubernetes.io/service-name'], 'kubernetes');
  assert.deepEqual(sl.ports, [{ name: 'https', port: 6443, protocol: 'TCP' }]);

  await c.stop({ release: true });
  assert.deepEqual((await ips()).ep, ['10.244.0.1', '10.244.1.1'], 'a clean stop drops the server at once');

  // b dies (stops renewing); a renews. Ten seconds later b's Lease is still live ...
  await b.stop();
  now = at(10);
  await a.runRound();
  assert.deepEqual((await ips()).ep, ['10.244.0.1', '10.244.1.1']);
  // ... and after its 15 s it is gone.
  now = at(16);
  await a.runRound();
  assert.deepEqual(await ips(), { ep: ['10.244.0.1'], slice: ['10.244.0.1'] });
  const rv = (await core.client.get<Endpoints>(R.endpoints, 'default', 'kubernetes')).metadata?.resourceVersion;
  now = at(17);
  await a.runRound();
  assert.equal((await core.client.get<Endpoints>(R.endpoints, 'default', 'kubernetes')).metadata?.resourceVersion, rv, 'no write when nothing changed');
});

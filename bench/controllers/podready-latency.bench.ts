/**
 * Pod becomes Ready → its EndpointSlice shows it ready, with 1k Services (1 Pod each) in the
 * cluster. Latency measured from the status write to the slice's watch event, p50/p99 over 300
 * samples. Baseline: the same write's own Pod watch event (API write + watch fan-out alone).
 * In-process API core on MemoryStorage; no network involved.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { performance } from 'node:perf_hooks';
import { R } from '../../src/api/resources.js';
import { startControllers } from '../../src/controllers/manager.js';
import { core, percentile, populate } from './common.js';
import { report } from '../report.js';

const SERVICES = 1000;
const SAMPLES = 300;
const ns = 'bench';
const api = await core();
const { client } = api;
await populate(client, ns, SERVICES, 1, false);
const ctrl = await startControllers(client, { enable: ['endpointslice'] });
await ctrl.idle();

const waiters = new Map<string, (t: number) => void>();
const sliceWatch = client.watch<EndpointSlice>(R.endpointslices, ns, {}, (ev) => {
  const s = ev.object;
  const svc = s.metadata?.labels?.['kubernetes.io/service-name'];
  if (!svc || !s.endpoints?.some((e) => e.conditions?.ready)) return;
  waiters.get(`slice/${svc}`)?.(performance.now());
});
const podWatch = client.watch<Pod>(R.pods, ns, {}, (ev) => {
  if (ev.object.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) waiters.get(`pod/${ev.object.metadata?.name}`)?.(performance.now());
});
const lat: number[] = [];
const base: number[] = [];
const own: number[] = [];
for (let k = 0; k < SAMPLES; k++) {
  const i = Math.floor((k * SERVICES) / SAMPLES);
  const pod = await client.get<Pod>(R.pods, ns, `p${i}-0`);
  const sliceSeen = new Promise<number>((r) => waiters.set(`slice/s${i}`, r));
  const podSeen = new Promise<number>((r) => waiters.set(`pod/p${i}-0`, r));
  const t0 = performance.now();
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  await client.update<Pod>(R.pods, ns, { ...pod, status: { ...pod.status, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] } }, { subresource: 'status' });
  const [ts, tp] = await Promise.all([sliceSeen, podSeen]);
  lat.push(ts - t0);
  base.push(tp - t0);
  own.push(ts - tp);
  waiters.clear();
}
sliceWatch.stop();
podWatch.stop();
await ctrl.stop();
await api.close();
const anchor = 'no published per-update figure for kube-controller-manager; clusterloader2 network-programming threshold 30 s (notes/anchors.md)';
report({ figure: 'pod ready → EndpointSlice updated p50 (1k Services)', value: percentile(lat, 50), unit: 'ms', baseline: { name: 'pod status write → pod watch event p50', value: percentile(base, 50) }, anchor, target: '< 20 ms' });
report({ figure: 'pod ready → EndpointSlice updated p99 (1k Services)', value: percentile(lat, 99), unit: 'ms', baseline: { name: 'pod status write → pod watch event p99', value: percentile(base, 99) }, anchor, target: '< 20 ms' });
report({ figure: 'controller share: pod watch event → slice watch event p99 (1k Services)', value: percentile(own, 99), unit: 'ms', baseline: { name: 'pod status write → pod watch event p99', value: percentile(base, 99) }, anchor, target: '< 20 ms' });

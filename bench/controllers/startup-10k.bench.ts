/**
 * 10k Services × 10 ready Pods already stored; the EndpointSlice controller starts: time until
 * every Service has its slice with 10 ready endpoints. Baseline: listing the 100k Pods once through
 * the same client (the bare cost of reading the input). In-process API core on MemoryStorage.
 */
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { performance } from 'node:perf_hooks';
import { R } from '../../src/api/resources.js';
import { startControllers } from '../../src/controllers/manager.js';
import { core, populate } from './common.js';
import { report } from '../report.js';

const SERVICES = Number(process.env.BENCH_SERVICES ?? 10_000);
const PODS = 10;
const ns = 'bench';
const api = await core();
const { client } = api;
const tp = performance.now();
await populate(client, ns, SERVICES, PODS, true);
console.error(`populated ${SERVICES} services × ${PODS} pods in ${Math.round(performance.now() - tp)} ms`);

const tl = performance.now();
const pods = await client.list(R.pods, ns);
const listMs = performance.now() - tl;
if (pods.items.length !== SERVICES * PODS) throw new Error(`expected ${SERVICES * PODS} pods, got ${pods.items.length}`);

let t0 = 0;
const complete = new Set<string>();
let resolveDone!: (t: number) => void;
const done = new Promise<number>((r) => { resolveDone = r; });
const w = client.watch<EndpointSlice>(R.endpointslices, ns, {}, (ev) => {
  const s = ev.object;
  const svc = s.metadata?.labels?.['kubernetes.io/service-name'];
  if (svc && (s.endpoints ?? []).filter((e) => e.conditions?.ready).length === PODS) complete.add(svc);
  if (process.env.BENCH_DEBUG && [0.5, 0.9, 0.99].some((f) => complete.size === Math.floor(SERVICES * f))) console.error(`${complete.size} at ${Math.round(performance.now() - t0)} ms`);
  if (complete.size === SERVICES) resolveDone(performance.now());
});
t0 = performance.now();
const cpu0 = process.cpuUsage();
const ctrl = await startControllers(client, { enable: ['endpointslice'] });
const synced = performance.now() - t0;
if (process.env.BENCH_DEBUG) console.error(`informers synced after ${Math.round(synced)} ms`);
const timeout = setTimeout(() => resolveDone(Number.NaN), 60_000);
const t1 = await done;
clearTimeout(timeout);
const cpu = process.cpuUsage(cpu0);
console.error(`controller phase: wall ${Math.round(t1 - t0)} ms, process CPU ${Math.round((cpu.user + cpu.system) / 1000)} ms`);
w.stop();
await ctrl.stop();
await api.close();
report({ figure: `${SERVICES} Services × ${PODS} Pods: all EndpointSlices correct after controller start`, value: t1 - t0, unit: 'ms', baseline: { name: `list ${SERVICES * PODS} Pods once`, value: listMs }, anchor: 'no published figure (issue 4 target)', target: '< 5000 ms' });

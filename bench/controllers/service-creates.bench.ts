/**
 * Issue 4: "10k Service creates through the API: allocation never the bottleneck (report creates/s)".
 *
 * Creates 10k Services over HTTPS (keep-alive, 16 requests in flight, SQLite storage, as the cluster
 * runs) and reports creates/s. Baseline, same run and same server: 10k ConfigMaps of the same
 * size, which go through the same HTTP, validation, storage and watch path but allocate nothing.
 * If the ClusterIP allocator were a bottleneck, the Service rate would fall well below the
 * ConfigMap rate. The two kinds are created in alternating blocks (ConfigMaps, Services, ConfigMaps,
 * ...), so load from elsewhere on the machine and the growing store fall on both alike.
 * Also checks every Service got a distinct ClusterIP (a wrong allocator fails the run).
 * Run: npx tsx bench/controllers/service-creates.bench.ts   (~30 s; removes everything it made)
 */
import { performance } from 'node:perf_hooks';
import type { ConfigMap, Service } from 'kubernetes-types/core/v1.js';
import { R } from '../../src/api/resources.js';
import type { Client } from '../../src/client/client.js';
import { startTestCluster } from '../../test/harness/cluster.js';

const N = Number(process.env.BENCH_SERVICES ?? 10_000);
const IN_FLIGHT = 16;

const BLOCKS = 5;

/** Runs `make(i)` for i in [from, to) with IN_FLIGHT requests outstanding; returns the milliseconds taken. */
async function timed(from: number, to: number, make: (i: number) => Promise<unknown>): Promise<number> {
  let next = from;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < to) await make(next++);
  }));
  return performance.now() - t0;
}

/** Objects per second of `n` creates. */
async function rate(n: number, make: (i: number) => Promise<unknown>): Promise<number> {
  return n / ((await timed(0, n, make)) / 1000);
}

const service = (i: number): Service => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${i}`, labels: { app: `app-${i}` } },
  spec: { selector: { app: `app-${i}` }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
});
const configMap = (i: number): ConfigMap => ({
  apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, labels: { app: `app-${i}` } },
  data: { selector: `app-${i}`, port: '80', targetPort: '8080', protocol: 'TCP' },
});

const c = await startTestCluster(undefined, { storage: 'sqlite' });
try {
  const http: Client = c.http;
  // Warm-up (JIT, TLS session, SQLite pages) on both kinds, in another namespace.
  await c.core.create(R.namespaces, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'warm' } });
  await rate(500, (i) => http.create(R.configmaps, 'warm', configMap(i)));
  await rate(500, (i) => http.create(R.services, 'warm', service(i)));

  let cmMs = 0;
  let svcMs = 0;
  for (let b = 0; b < BLOCKS; b++) {
    const from = Math.floor((b * N) / BLOCKS);
    const to = Math.floor(((b + 1) * N) / BLOCKS);
    cmMs += await timed(from, to, (i) => http.create(R.configmaps, 'default', configMap(i)));
    svcMs += await timed(from, to, (i) => http.create(R.services, 'default', service(i)));
  }
  const cmRate = N / (cmMs / 1000);
  const svcRate = N / (svcMs / 1000);

  const ips = new Set<string>();
  for (const s of (await c.core.list<Service>(R.services, 'default')).items) {
    if (s.metadata?.name?.startsWith('svc-')) ips.add(s.spec!.clusterIP!);
  }
  if (ips.size !== N) throw new Error(`${N} Services got ${ips.size} distinct ClusterIPs`);

  const anchor = 'no published figure; kube-apiserver SLO: mutating API calls p99 <= 1 s';
  console.log(`BENCH ${JSON.stringify({
    figure: `${N / 1000}k Service creates over HTTPS (${IN_FLIGHT} in flight, SQLite), each allocating a ClusterIP`,
    value: Math.round(svcRate), unit: 'creates/s',
    baseline: { name: 'ConfigMap creates/s, same size, same server (no allocation)', value: Math.round(cmRate) },
    target: 'allocation never the bottleneck (Service rate close to the ConfigMap rate)', anchor,
  })}`);
  console.log(`BENCH ${JSON.stringify({
    figure: 'Service creates/s ÷ ConfigMap creates/s', value: Number((svcRate / cmRate).toFixed(3)), unit: 'ratio',
    target: 'informational (near 1: allocation costs little)', anchor,
  })}`);
  console.error(`Services ${svcRate.toFixed(0)}/s, ConfigMaps ${cmRate.toFixed(0)}/s, ${ips.size} distinct ClusterIPs`);
} finally {
  await c.close();
}

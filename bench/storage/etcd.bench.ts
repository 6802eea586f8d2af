/**
 * The etcd backend behind the API server (issue 22 targets), all in one run:
 *  1. p50/p99 create and get of ConfigMaps over HTTPS keep-alive with 1k objects stored, API server on
 *     etcd (Debian etcd 3.4 on loopback, client-certificate TLS). Baseline: the same loop on SQLite.
 *  2. The floor: etcd's own put latency, as a bare gRPC Put through the same client library (no API
 *     server, no watch wait), and the wall time of one `etcdctl put` (process start included).
 *  3. Watch delivery: from the start of a create over HTTPS to the event arriving at an HTTP watch of
 *     another client, through etcd (write → etcd → the API server's etcd watch → watch cache → HTTP
 *     watch). Baseline: the same through SQLite.
 * Run: npx tsx bench/storage/etcd.bench.ts   (~1 min; etcd and clusters in temp dirs, removed at the end)
 */
import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import { R } from '../../src/api/resources.js';
import type { Client } from '../../src/client/client.js';
import { EtcdClient } from '../../src/storage/etcd/client.js';
import { startTestEtcd, uniquePrefix, type TestEtcd } from '../../src/storage/testing/etcd.js';
import { startTestCluster, type TestClusterOptions } from '../../test/harness/cluster.js';

const run = promisify(execFile);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}
const r3 = (x: number): number => Math.round(x * 1000) / 1000;
function bench(figure: string, value: number, unit: string, baseline: { name: string; value: number } | undefined, anchor: string, target: string): void {
  console.log(`BENCH ${JSON.stringify({ figure, value: r3(value), unit, ...(baseline ? { baseline: { name: baseline.name, value: r3(baseline.value) } } : {}), anchor, target })}`);
}

const cm = (name: string, i: number): ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { k: `v${i}` } });

async function restOps(client: Client, prefix: string, n: number): Promise<{ create: number[]; get: number[] }> {
  const out = { create: [] as number[], get: [] as number[] };
  for (let i = 0; i < n; i++) {
    let t = performance.now();
    await client.create(R.configmaps, 'default', cm(`${prefix}-${i}`, i));
    out.create.push(performance.now() - t);
    t = performance.now();
    await client.get(R.configmaps, 'default', `seed-${i % 1000}`);
    out.get.push(performance.now() - t);
  }
  return out;
}

/** ms from the start of each create (through `writer`) to its ADDED event at a watch through `watcher`. */
async function watchDelivery(writer: Client, watcher: Client, n: number): Promise<number[]> {
  const started = new Map<string, number>();
  const lat: number[] = [];
  let wake: (() => void) | undefined;
  const rv = (await watcher.list(R.configmaps, 'default', { limit: 1 })).metadata.resourceVersion;
  const w = watcher.watch<ConfigMap>(R.configmaps, 'default', { resourceVersion: rv }, (ev) => {
    const t0 = started.get(ev.object.metadata!.name!);
    if (ev.type === 'ADDED' && t0 !== undefined) { lat.push(performance.now() - t0); wake?.(); }
  });
  w.done.catch(() => {});
  for (let i = 0; i < n; i++) {
    const name = `watch-${i}`;
    const seen = new Promise<void>((r) => { wake = r; });
    started.set(name, performance.now());
    await writer.create(R.configmaps, 'default', cm(name, i));
    await seen;
  }
  w.stop();
  return lat;
}

async function measure(opts: TestClusterOptions): Promise<{ create: number[]; get: number[]; watch: number[] }> {
  const c = await startTestCluster(undefined, opts);
  try {
    for (let i = 0; i < 1000; i++) await c.core.create(R.configmaps, 'default', cm(`seed-${i}`, i));
    await restOps(c.http, 'warm', 200);
    const ops = await restOps(c.http, 'h', 1000);
    const watcher = c.http; // a second connection of the same client library
    const watch = await watchDelivery(c.http, watcher, 300);
    return { ...ops, watch };
  } finally { await c.close(); }
}

async function floor(etcd: TestEtcd): Promise<{ grpc: number[]; etcdctl: number[] }> {
  const client = new EtcdClient(etcd.clientOptions);
  const grpc: number[] = [];
  try {
    const value = Buffer.from(JSON.stringify(cm('floor', 0)));
    for (let i = 0; i < 1200; i++) {
      const t = performance.now();
      await client.put({ key: Buffer.from(`/bench-floor/k${i}`), value });
      if (i >= 200) grpc.push(performance.now() - t);
    }
  } finally { client.close(); }
  const o = etcd.clientOptions;
  const args = ['--endpoints', o.endpoints[0], '--cacert', o.caFile!, '--cert', o.certFile!, '--key', o.keyFile!, 'put', '/bench-floor/etcdctl', 'v'];
  const etcdctl: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t = performance.now();
    await run('etcdctl', args, { env: { ...process.env, ETCDCTL_API: '3' } });
    etcdctl.push(performance.now() - t);
  }
  return { grpc, etcdctl };
}

const etcd = await startTestEtcd(undefined, { tls: true });
try {
  const onEtcd = await measure({ etcd: { ...etcd.clientOptions, prefix: uniquePrefix() } });
  const onSqlite = await measure({ storage: 'sqlite' });
  const f = await floor(etcd);
  const anchor = 'issue 22; kube-apiserver SLO: p99 < 1 s for single-object mutating calls';
  for (const op of ['create', 'get'] as const) {
    for (const p of [50, 99]) {
      bench(`p${p} ${op} over HTTPS keep-alive, 1k objects stored (etcd, TLS)`, pct(onEtcd[op], p), 'ms',
        { name: `SQLite p${p} ${op}, same run (etcd ÷ SQLite = ${(pct(onEtcd[op], p) / pct(onSqlite[op], p)).toFixed(2)})`, value: pct(onSqlite[op], p) },
        anchor, p === 99 ? (op === 'create' ? '< 10 ms' : '< 3 ms') : '');
    }
  }
  bench('etcd floor: p50 bare gRPC Put (same client, no API server)', pct(f.grpc, 50), 'ms', undefined, 'etcd on loopback, TLS', '');
  bench('etcd floor: p99 bare gRPC Put (same client, no API server)', pct(f.grpc, 99), 'ms', undefined, 'etcd on loopback, TLS', '');
  bench('etcdctl put, wall time of one invocation (process start included)', pct(f.etcdctl, 50), 'ms', undefined, 'etcd-client 3.4', '');
  for (const p of [50, 99]) {
    bench(`watch delivery p${p}: create start → HTTP watch event (etcd)`, pct(onEtcd.watch, p), 'ms',
      { name: `SQLite p${p}, same run`, value: pct(onSqlite.watch, p) }, 'issue 22', p === 99 ? '< 20 ms' : '');
  }
} finally {
  await etcd.close();
}

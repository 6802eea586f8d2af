/**
 * In-process API core figures (no HTTP): cold start (empty / 10k Services), list of 10k Services as
 * JSON, write → 100 concurrent watchers latency, RSS with 10k Services + 10k EndpointSlices.
 * Run: npx tsx bench/apiserver-core/core.bench.ts   (bounded: ~1 min; state in a temp dir, removed)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { R } from '../../src/api/resources.js';
import { createApiCore } from '../../src/apiserver/core.js';
import { SqliteStorage } from '../../src/storage/sqlite.js';
import { report } from '../report.js';

const svc = (i: number): Service => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${i}`, labels: { app: `app-${i % 100}` } },
  spec: { selector: { app: `app-${i % 100}` }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
});
const slice = (i: number): EndpointSlice => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
  metadata: { name: `svc-${i}-abcde`, labels: { 'kubernetes.io/service-name': `svc-${i}`, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
  addressType: 'IPv4',
  endpoints: [1, 2, 3].map((k) => ({ addresses: [`10.244.${k}.${i % 250}`], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'node-1' })),
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
});

async function populate(db: string, withSlices: boolean): Promise<void> {
  const storage = new SqliteStorage(db);
  const core = await createApiCore({ storage });
  for (let i = 0; i < 10_000; i += 200) {
    await Promise.all(Array.from({ length: 200 }, (_, k) => core.client.create(R.services, 'default', svc(i + k))));
    if (withSlices) await Promise.all(Array.from({ length: 200 }, (_, k) => core.client.create(R.endpointslices, 'default', slice(i + k))));
  }
  await core.close();
  await storage.close();
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

/** Child mode: open a populated store, report RSS as JSON. */
async function rssChild(db: string): Promise<void> {
  const storage = new SqliteStorage(db);
  const t0 = performance.now();
  const core = await createApiCore({ storage });
  const ms = performance.now() - t0;
  (globalThis as { gc?: () => void }).gc?.();
  const svcCount = core.registry.cache(R.services).objects.size;
  const esCount = core.registry.cache(R.endpointslices).objects.size;
  console.log(JSON.stringify({ rss: process.memoryUsage().rss, ms, svcCount, esCount }));
  await core.close();
  await storage.close();
}

async function main(): Promise<void> {
  if (process.argv[2] === '--rss-child') return rssChild(process.argv[3]);
  const dir = mkdtempSync(join(tmpdir(), 'cip-bench-core-'));
  try {
    // Cold start, empty store.
    {
      const db = join(dir, 'empty.db');
      const t0 = performance.now();
      const storage = new SqliteStorage(db);
      const core = await createApiCore({ storage });
      const ms = performance.now() - t0;
      await core.close(); await storage.close();
      const t1 = performance.now();
      const s2 = new SqliteStorage(db);
      const core2 = await createApiCore({ storage: s2 });
      const warm = performance.now() - t1;
      await core2.close(); await s2.close();
      report({ figure: 'cold start, empty store (open SQLite + load caches + system namespaces)', value: ms, unit: 'ms', baseline: { name: 'reopen of the same store', value: warm }, anchor: 'minikube 50.8 s / kind 33.0 s to DNS (whole cluster)', target: '< 300 ms' });
    }
    // 10k Services.
    const db = join(dir, 'svc10k.db');
    await populate(db, false);
    {
      const tRaw = performance.now();
      const raw = new Database(db, { readonly: true });
      const rows = raw.prepare('SELECT value FROM kv').all() as { value: string }[];
      for (const r of rows) JSON.parse(r.value);
      raw.close();
      const rawMs = performance.now() - tRaw;
      const t0 = performance.now();
      const storage = new SqliteStorage(db);
      const core = await createApiCore({ storage });
      const ms = performance.now() - t0;
      report({ figure: 'cold start with 10k Services stored', value: ms, unit: 'ms', baseline: { name: 'raw SELECT + JSON.parse of all rows', value: rawMs }, anchor: 'Kubernetes SLO: none; k3s/kine restart seconds', target: '< 1500 ms' });

      // List of 10k Services as JSON.
      const runs: number[] = [];
      const plain: number[] = [];
      let bytes = 0;
      for (let i = 0; i < 10; i++) {
        const a = performance.now();
        const l = core.registry.listCached(R.services, undefined, {});
        const body = `{"kind":"ServiceList","apiVersion":"v1","metadata":${JSON.stringify(l.metadata)},"items":[${l.objects.map((o) => o.json).join(',')}]}`;
        bytes = body.length;
        runs.push(performance.now() - a);
        const b = performance.now();
        JSON.stringify(await core.client.list(R.services, undefined));
        plain.push(performance.now() - b);
      }
      report({ figure: `list 10k Services as JSON (watch cache, pre-serialized, ${(bytes / 1e6).toFixed(1)} MB) p50`, value: pct(runs, 50), unit: 'ms', baseline: { name: 'client.list + JSON.stringify p50', value: pct(plain, 50) }, anchor: 'Kubernetes SLO: list p99 <= 30 s', target: '< 150 ms' });

      // A write reaching 100 concurrent watchers.
      const lat: number[] = [];
      const single: number[] = [];
      let sent = 0;
      const started = new Map<string, number>();
      const handles = Array.from({ length: 100 }, () => core.client.watch(R.configmaps, 'default', { resourceVersion: String(core.registry.revision()) }, (ev) => {
        const t = started.get(ev.object.metadata!.name!);
        if (t !== undefined) lat.push(performance.now() - t);
      }));
      for (let i = 0; i < 300; i++) {
        const name = `cm-${i}`;
        started.set(name, performance.now());
        await core.client.create(R.configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { i: String(i) } } as never);
        sent++;
        await new Promise((r) => setImmediate(r));
      }
      for (const h of handles) h.stop();
      const one = core.client.watch(R.configmaps, 'default', { resourceVersion: String(core.registry.revision()) }, (ev) => {
        const t = started.get(ev.object.metadata!.name!);
        if (t !== undefined) single.push(performance.now() - t);
      });
      for (let i = 0; i < 300; i++) {
        const name = `cm1-${i}`;
        started.set(name, performance.now());
        await core.client.create(R.configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } } as never);
        await new Promise((r) => setImmediate(r));
      }
      one.stop();
      if (lat.length !== sent * 100) throw new Error(`watchers saw ${lat.length} of ${sent * 100} events`);
      report({ figure: 'write (SQLite commit) reaching 100 concurrent watchers, p99', value: pct(lat, 99), unit: 'ms', baseline: { name: '1 watcher p99', value: pct(single, 99) }, anchor: 'Kubernetes SLO: mutating API call p99 <= 1 s', target: '< 20 ms' });
      await core.close(); await storage.close();
    }
    // RSS with 10k Services + 10k EndpointSlices, in a fresh process.
    {
      const db2 = join(dir, 'svc-es.db');
      await populate(db2, true);
      const me = fileURLToPath(import.meta.url);
      const run = (file: string) => {
        const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', me, '--rss-child', file], { encoding: 'utf8', timeout: 120_000 });
        if (r.status !== 0) throw new Error(`rss child failed: ${r.stderr}`);
        return JSON.parse(r.stdout.trim().split('\n').pop()!) as { rss: number; ms: number; svcCount: number; esCount: number };
      };
      const full = run(db2);
      const empty = run(join(dir, 'empty.db'));
      if (full.svcCount !== 10_000 || full.esCount !== 10_000) throw new Error(`loaded ${full.svcCount}/${full.esCount}`);
      report({ figure: 'RSS with 10k Services + 10k EndpointSlices loaded', value: full.rss / 1048576, unit: 'MB', baseline: { name: 'RSS with an empty store', value: Number((empty.rss / 1048576).toFixed(1)) }, anchor: 'k3s server ~1.6 GB with workload; k0s controller 510 MB idle', target: '< 300 MB' });
      report({ figure: 'cold start with 10k Services + 10k EndpointSlices stored', value: full.ms, unit: 'ms', anchor: 'Kubernetes SLO: none', target: '< 1500 ms' });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();

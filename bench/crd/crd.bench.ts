/**
 * Custom resources (issue 21 targets):
 *  1. p99 of creating a custom object over HTTPS keep-alive (schema with validation, defaulting and
 *     pruning; SQLite storage). Baseline: a ConfigMap create in the same run (built-in kind).
 *  2. Listing 10k custom objects over HTTPS as JSON (the client's full round trip).
 *     Baseline: 10k ConfigMaps listed the same way.
 * Run: npx tsx bench/crd/crd.bench.ts   (about a minute; removes everything it made)
 */
import { request } from 'node:https';
import { performance } from 'node:perf_hooks';
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../src/api/object.js';
import { R, type ResourceInfo } from '../../src/api/resources.js';
import { startTestCluster } from '../../test/harness/cluster.js';
import { report } from '../report.js';

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

const CRD = {
  apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'widgets.bench.example.com' },
  spec: {
    group: 'bench.example.com', scope: 'Namespaced', names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
    versions: [{
      name: 'v1', served: true, storage: true, subresources: { status: {} },
      additionalPrinterColumns: [{ name: 'Size', type: 'integer', jsonPath: '.spec.size' }],
      schema: { openAPIV3Schema: { type: 'object', properties: {
        spec: { type: 'object', required: ['color'], properties: { color: { type: 'string', enum: ['red', 'green', 'blue'] }, size: { type: 'integer', minimum: 1, maximum: 100, default: 10 }, tags: { type: 'array', items: { type: 'string' } } } },
        status: { type: 'object', properties: { ready: { type: 'boolean' } } },
      } } },
    }],
  },
};
const WIDGETS: ResourceInfo = { group: 'bench.example.com', version: 'v1', kind: 'Widget', listKind: 'WidgetList', plural: 'widgets', singular: 'widget', namespaced: true, shortNames: [], categories: [], subresources: ['status'] };
const widget = (i: number): KubeObject => ({ apiVersion: 'bench.example.com/v1', kind: 'Widget', metadata: { name: `w-${i}`, labels: { n: String(Math.abs(i) % 10) } }, spec: { color: 'red', tags: ['a', 'b'], junk: 1 } } as KubeObject);
const cm = (i: number): ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c-${i}`, labels: { n: String(Math.abs(i) % 10) } }, data: { color: 'red', tags: 'a,b' } });

async function main(): Promise<void> {
  const c = await startTestCluster(undefined, { storage: 'sqlite' });
  try {
    await c.http.create(R.customresourcedefinitions, undefined, CRD as KubeObject);
    // Wait until established (the resource is served).
    for (let i = 0; ; i++) {
      try { await c.http.list(WIDGETS, 'default', { limit: 1 }); break; } catch (e) { if (i > 200) throw e; await new Promise((r) => setTimeout(r, 10)); }
    }
    for (let i = 0; i < 200; i++) { await c.http.create(WIDGETS, 'default', widget(-1 - i)); await c.http.create(R.configmaps, 'default', cm(-1 - i)); }
    const tw: number[] = [], tc: number[] = [];
    for (let i = 0; i < 2000; i++) {
      let t = performance.now();
      await c.http.create(WIDGETS, 'default', widget(i));
      tw.push(performance.now() - t);
      t = performance.now();
      await c.http.create(R.configmaps, 'default', cm(i));
      tc.push(performance.now() - t);
    }
    report({ figure: 'p99 create of a custom object over HTTPS (schema validation, defaulting, pruning; SQLite)', value: pct(tw, 99), unit: 'ms', baseline: { name: 'ConfigMap create p99, same run', value: pct(tc, 99) }, p50: pct(tw, 50), target: '< 5 ms' });
    // Fill to 10k of each, in parallel batches, then time full lists.
    for (let i = 2000; i < 10_000; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, k) => c.core.create(WIDGETS, 'default', widget(i + k))));
      await Promise.all(Array.from({ length: 100 }, (_, k) => c.core.create(R.configmaps, 'default', cm(i + k))));
    }
    // The whole response over HTTPS (time to its last byte), as kubectl receives it; no client-side parse.
    const get = (path: string): Promise<{ ms: number; bytes: number }> => new Promise((resolve, reject) => {
      const t = performance.now();
      const u = new URL(c.server.url);
      const req = request({ host: u.hostname, port: u.port, path, method: 'GET', ca: c.pki.caCert, cert: c.pki.adminCert, key: c.pki.adminKey, headers: { Accept: 'application/json' } }, (res) => {
        let bytes = 0;
        res.on('data', (d: Buffer) => { bytes += d.length; });
        res.on('end', () => (res.statusCode === 200 ? resolve({ ms: performance.now() - t, bytes }) : reject(new Error(`HTTP ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end();
    });
    const lw: number[] = [], lc: number[] = [];
    let size = 0;
    for (let r = 0; r < 7; r++) {
      const w = await get('/apis/bench.example.com/v1/widgets');
      lw.push(w.ms); size = w.bytes;
      lc.push((await get('/api/v1/configmaps')).ms);
    }
    const parsed = await c.http.list(WIDGETS, undefined);
    if (parsed.items.length < 10_000) throw new Error(`listed ${parsed.items.length}`);
    report({ figure: 'list 10k custom objects over HTTPS as JSON, to the last byte (median of 7)', value: pct(lw, 50), unit: 'ms', baseline: { name: 'list 10k ConfigMaps, same run', value: pct(lc, 50) }, max: Math.max(...lw), bytes: size, target: '< 150 ms' });
  } finally {
    await c.close();
  }
}

await main();

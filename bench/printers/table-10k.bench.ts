/**
 * Server-side printing cost behind `kubectl get svc -A` with 10k Services: toTable() over 10 000
 * Services plus JSON serialization of the Table (what the API server does per request, storage read
 * excluded). Baseline, same run: serializing the plain ServiceList (what `-o json` costs).
 * Usage: npx tsx bench/printers/table-10k.bench.ts   (pure CPU, < 10 s, touches nothing)
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import { R } from '../../src/api/resources.js';
import { toTable } from '../../src/apiserver/printers/table.js';

const N = 10_000;
const RUNS = 15;
const now = Date.now();
const services: Service[] = Array.from({ length: N }, (_, i) => ({
  apiVersion: 'v1', kind: 'Service',
  metadata: {
    name: `svc-${i}`, namespace: `ns-${i % 100}`, uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    resourceVersion: String(1000 + i), creationTimestamp: new Date(now - i * 1000).toISOString(), labels: { app: `app-${i}` },
  },
  spec: {
    type: 'ClusterIP', clusterIP: `10.96.${(i >> 8) & 255}.${i & 255}`, clusterIPs: [`10.96.${(i >> 8) & 255}.${i & 255}`],
    selector: { app: `app-${i}` }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }, { name: 'https', port: 443, targetPort: 8443, protocol: 'TCP' }],
    sessionAffinity: 'None', ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', internalTrafficPolicy: 'Cluster',
  },
  status: { loadBalancer: {} },
}));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(fn: () => unknown): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

// Warm up the JIT on both paths first.
for (let i = 0; i < 3; i++) { JSON.stringify(toTable(R.services, services, { now })); JSON.stringify({ items: services }); }

const table: number[] = [];
const plain: number[] = [];
for (let i = 0; i < RUNS; i++) {
  table.push(time(() => JSON.stringify(toTable(R.services, services, { now }))));
  plain.push(time(() => JSON.stringify({ apiVersion: 'v1', kind: 'ServiceList', metadata: {}, items: services })));
}
const rows = toTable(R.services, services, { now }).rows.length;
if (rows !== N) throw new Error(`expected ${N} rows, got ${rows}`);

console.log(`BENCH ${JSON.stringify({
  figure: 'toTable + JSON for 10k Services (kubectl get svc -A, server printing share)',
  value: Math.round(median(table) * 10) / 10, unit: 'ms',
  baseline: { name: 'JSON.stringify of the plain 10k ServiceList (-o json)', value: Math.round(median(plain) * 10) / 10 },
  anchor: 'issue 3 target: kubectl get svc -A with 10k Services < 300 ms server time',
  target: '< 300 ms',
})}`);

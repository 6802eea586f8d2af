// Cost of the per-write API semantics (defaulting + validation, strategic merge) on the admit path.
// Run: npx tsx bench/semantics/semantics.bench.ts — prints BENCH lines (see bench/README conventions).
import { R } from '../../src/api/resources.js';
import type { KubeObject } from '../../src/api/object.js';
import { applyDefaults } from '../../src/apiserver/semantics/defaults.js';
import { validateObject } from '../../src/apiserver/semantics/validation.js';
import { strategicMergePatch } from '../../src/apiserver/semantics/strategicmerge.js';

const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'default', labels: { app: 'x' } }, spec: { selector: { app: 'x' }, ports: [{ name: 'h', port: 80, targetPort: 8080 }] } };
const dep = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'default' }, spec: { replicas: 3, selector: { matchLabels: { app: 'x' } }, template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.27', ports: [{ containerPort: 80, name: 'http' }], env: [{ name: 'A', value: '1' }], readinessProbe: { httpGet: { path: '/', port: 80 } } }, { name: 'side', image: 'busybox', args: ['sleep', '3600'] }] } } } };

/** Per-op latencies in µs over `n` runs after a warm-up. */
function sample(f: () => void, n = 20000): number[] {
  for (let i = 0; i < 2000; i++) f();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    f();
    out.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  return out.sort((a, b) => a - b);
}
const p = (xs: number[], q: number): number => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const round = (x: number): number => Math.round(x * 10) / 10;

// Baseline: a JSON round trip of the same object (what any server does with the body anyway).
const baseSvc = p(sample(() => JSON.parse(JSON.stringify(svc))), 0.99);
const baseDep = p(sample(() => JSON.parse(JSON.stringify(dep))), 0.99);
const anchor = "Kubernetes SLO: mutating API calls p99 <= 1 s (whole request)";

const svcAdmit = sample(() => { const o = applyDefaults(R.services, structuredClone(svc) as KubeObject); validateObject(R.services, o); });
console.log(`BENCH ${JSON.stringify({ figure: 'Service defaults+validation p99', value: round(p(svcAdmit, 0.99)), unit: 'us', baseline: { name: 'JSON round trip of the Service p99', value: round(baseSvc) }, anchor, target: '< 500 us' })}`);

const depStored = applyDefaults(R.deployments, structuredClone(dep) as KubeObject);
const depAdmit = sample(() => { const o = applyDefaults(R.deployments, structuredClone(dep) as KubeObject); validateObject(R.deployments, o, depStored); });
console.log(`BENCH ${JSON.stringify({ figure: 'Deployment defaults+update validation p99', value: round(p(depAdmit, 0.99)), unit: 'us', baseline: { name: 'JSON round trip of the Deployment p99', value: round(baseDep) }, anchor, target: '< 1000 us' })}`);

const patch = { spec: { replicas: 5, template: { spec: { '$setElementOrder/containers': [{ name: 'c' }, { name: 'side' }], containers: [{ image: 'nginx:1.28', name: 'c' }] } } } };
const smp = sample(() => strategicMergePatch(R.deployments, depStored, patch));
console.log(`BENCH ${JSON.stringify({ figure: 'kubectl apply strategic merge (Deployment image change) p99', value: round(p(smp, 0.99)), unit: 'us', baseline: { name: 'JSON round trip of the Deployment p99', value: round(baseDep) }, anchor, target: '< 500 us' })}`);

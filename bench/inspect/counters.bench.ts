/**
 * What the per-element counters (clusterip explain's per-endpoint connection counts) cost the
 * proxy: the proxy's own nftables transactions applied with the maps declared `counter` (as shipped)
 * and, as the baseline in the same run, the same text without `counter`, interleaved in two scratch
 * network namespaces. Figures: the full sync (`nft -f`, 1k and 10k Services × 10 endpoints, p50 of
 * 7) and an endpoint change through the proxy's long-lived `nft -i` session (p50 / p99 of 200).
 * Root; the namespaces are removed at the end, also on failure.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { NftablesProxier } from '../../src/proxy/nftables/proxier.js';
import { NftSession } from '../../src/proxy/nftables/session.js';
import { netnsSpawn } from '../../src/proxy/exec.js';
import type { Endpoint, ServiceState } from '../../src/proxy/types.js';
import { report } from '../report.js';

const tag = randomBytes(2).toString('hex');
const nsA = `cipcb-${tag}-a`;
const nsB = `cipcb-${tag}-b`;
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.max(0, Math.ceil((p / 100) * xs.length) - 1))]!;
const strip = (t: string): string => t.replace(/ counter ;/g, '');
function bench(figure: string, value: number, unit: string, baseline: { name: string; value: number }, target?: string): void {
  report({ figure, value, unit, baseline, ...(target ? { target } : {}) });
}

async function run(services: number): Promise<void> {
  const ep = (i: number, j: number): Endpoint => ({ ip: `10.${244 + (j % 2)}.${Math.floor(i / 200)}.${(i % 200) + j + 2}`, port: 80, ready: true, serving: true, terminating: false });
  const svc = (i: number, gen: number): ServiceState => ({
    key: `b/s${i}`, ports: [{ namespace: 'b', name: `s${i}`, portName: '', protocol: 'TCP', clusterIP: `10.100.${Math.floor(i / 250)}.${(i % 250) + 1}`, port: 80 }],
    endpoints: new Map([['/TCP', Array.from({ length: 10 }, (_, j) => (j === 0 && gen > 0 ? { ...ep(i, j), port: 8000 + gen } : ep(i, j)))]]),
  });
  const desired = new Map<string, ServiceState>();
  for (let i = 0; i < services; i++) desired.set(`b/s${i}`, svc(i, 0));
  const a = new NftablesProxier({ serviceCIDR: '10.96.0.0/12', podCIDR: '10.244.0.0/16' });
  const b = new NftablesProxier({ serviceCIDR: '10.96.0.0/12', podCIDR: '10.244.0.0/16' });
  const fa = a.plan(desired, new Set(), true, { chains: new Set(), sets: new Set() });
  const fb = b.plan(desired, new Set(), true, { chains: new Set(), sets: new Set() });
  const fullA: number[] = [];
  const fullB: number[] = [];
  for (let r = 0; r < 7; r++) {
    for (const [ns, text, out] of [[nsA, fa.text, fullA], [nsB, strip(fb.text), fullB]] as const) {
      execFileSync('ip', ['netns', 'exec', ns, 'nft', 'flush', 'ruleset']);
      const t0 = performance.now();
      execFileSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: text, maxBuffer: 1 << 26 });
      out.push(performance.now() - t0);
    }
  }
  fa.commit();
  fb.commit();
  const sa = new NftSession(netnsSpawn(nsA));
  const sb = new NftSession(netnsSpawn(nsB));
  const incA: number[] = [];
  const incB: number[] = [];
  try {
    for (let k = 1; k <= 200; k++) {
      const i = (k * 7919) % services;
      const next = new Map(desired);
      next.set(`b/s${i}`, svc(i, k));
      for (const [p, session, out, plain] of [[a, sa, incA, false], [b, sb, incB, true]] as const) {
        const plan = p.plan(next, new Set([`b/s${i}`]), false);
        const t0 = performance.now();
        await session.run(plain ? strip(plan.text) : plan.text);
        out.push(performance.now() - t0);
        plan.commit();
      }
      desired.set(`b/s${i}`, svc(i, k));
    }
  } finally {
    await sa.close();
    await sb.close();
  }
  const label = `${services >= 1000 ? `${services / 1000}k` : services} Services x 10 endpoints`;
  bench(`nftables full sync with per-element counters, ${label}, p50 of 7`, pct(fullA, 50), 'ms', { name: 'same transaction without counters, ms', value: pct(fullB, 50) });
  bench(`nftables endpoint change through nft -i with counters, ${label}, p50`, pct(incA, 50), 'ms', { name: 'without counters, ms', value: pct(incB, 50) });
  bench(`nftables endpoint change through nft -i with counters, ${label}, p99 (200)`, pct(incA, 99), 'ms', { name: 'without counters, ms', value: pct(incB, 99) });
}

for (const n of [nsA, nsB]) execFileSync('ip', ['netns', 'add', n]);
try {
  await run(1000);
  await run(10_000);
} finally {
  for (const n of [nsA, nsB]) execFileSync('ip', ['netns', 'delete', n]);
}

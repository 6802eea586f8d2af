/**
 * The nftables rule shape keeps the first packet's cost independent of the number of Services:
 * Services without ClientIP affinity add map elements only, never chains or rules, so a new
 * connection walks the same fixed chains with 10 or 10k Services (the hash lookups in
 * `service-ips` / `service-endpoints-<proto>` do not grow with their size). bench/proxy/dataplane.bench.ts
 * measures the latency this shape gives; this test keeps the shape.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NftablesProxier } from './proxier.js';
import { slice, state, svc } from '../testing/shapes.js';
import type { ServiceState } from '../types.js';

/** `count` Services with 1..10 endpoints each (cycling), ClusterIPs from 10.100.0.0. */
function services(count: number): Map<string, ServiceState> {
  const m = new Map<string, ServiceState>();
  for (let i = 0; i < count; i++) {
    const ip = `10.100.${i >> 8}.${i & 255}`;
    const eps = Array.from({ length: (i % 10) + 1 }, (_, j) => ({ ip: `10.244.${(i * 10 + j) >> 8 & 255}.${(i * 10 + j) & 255}` }));
    const s = state(svc('bench', `s${i}`, ip, [{ port: 80 }]), [slice('bench', `s${i}`, `s${i}-1`, [{ port: 8080 }], eps)]);
    m.set(s.key, s);
  }
  return m;
}

function fullSync(count: number): string {
  return new NftablesProxier({ serviceCIDR: '10.96.0.0/12', podCIDR: '10.244.0.0/16' })
    .plan(services(count), new Set(), true, { chains: new Set(), sets: new Set() }).text;
}

const lines = (text: string, re: RegExp): string[] => text.split('\n').filter((l) => re.test(l));

test('10 and 2000 Services give the same chains and rules; only map elements differ', () => {
  const few = fullSync(10);
  const many = fullSync(2000);
  assert.deepEqual(lines(many, /^add chain /), lines(few, /^add chain /));
  assert.deepEqual(lines(many, /^add rule /), lines(few, /^add rule /));
  const elements = (text: string, map: string): number => lines(text, new RegExp(`^add element ip clusterip ${map} `))
    .reduce((n, l) => n + l.split(' , ').length, 0);
  assert.equal(elements(many, 'service-ips'), 2000);
  assert.equal(elements(many, 'service-endpoints-tcp'), 200 * (1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9 + 10));
});

test('no rule matches a ClusterIP: every Service is reached through the service-ips verdict map', () => {
  const rules = lines(fullSync(100), /^add rule /);
  assert.deepEqual(rules.filter((r) => /10\.100\.\d+\.\d+/.test(r)), []);
  assert.ok(rules.some((r) => r.endsWith('ip daddr . meta l4proto . th dport vmap @service-ips')));
});

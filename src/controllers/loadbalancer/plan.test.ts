import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { parsePool, poolWithin } from './pool.js';
import { LB_CLASS, planLoadBalancer } from './plan.js';
import { announcements } from './announce.js';

const pool = parsePool('172.31.255.200-172.31.255.202');

function lb(name: string, extra: Partial<NonNullable<Service['spec']>> = {}, ips: string[] = [], ts = '2026-01-01T00:00:00Z'): Service {
  return {
    metadata: { namespace: 'default', name, creationTimestamp: ts },
    spec: { type: 'LoadBalancer', ports: [{ port: 80 }], externalTrafficPolicy: 'Cluster', ...extra },
    status: { loadBalancer: ips.length ? { ingress: ips.map((ip) => ({ ip, ipMode: 'VIP' as const })) } : {} },
  };
}

test('pools: ranges, CIDRs (network and broadcast skipped), lists; bad input names the part', () => {
  assert.equal(pool.size, 3);
  assert.equal(pool.at(2), '172.31.255.202');
  const cidr = parsePool('192.0.2.0/30');
  assert.deepEqual([cidr.at(0), cidr.at(1)], ['192.0.2.1', '192.0.2.2']);
  assert.equal(parsePool('10.0.0.5, 10.0.0.7-10.0.0.8').size, 3);
  assert.throws(() => parsePool('10.0.0.9-10.0.0.1'), /invalid address pool part "10.0.0.9-10.0.0.1"/);
  assert.equal(poolWithin(pool, '172.31.255.0/24'), true);
  assert.equal(poolWithin(parsePool('10.0.0.1'), '172.31.255.0/24'), false);
});

test('allocation: lowest free address; held ones kept; requests honoured; a full pool and a foreign request are pending', () => {
  assert.deepEqual(planLoadBalancer('default/a', lb('a'), new Map(), pool), { action: 'assign', ip: '172.31.255.200', status: { ingress: [{ ip: '172.31.255.200', ipMode: 'VIP' }] } });
  const held = new Map([['172.31.255.200', 'default/a']]);
  assert.equal((planLoadBalancer('default/b', lb('b'), held, pool) as { ip: string }).ip, '172.31.255.201');
  assert.deepEqual(planLoadBalancer('default/a', lb('a', {}, ['172.31.255.200']), new Map(), pool), { action: 'none' });
  assert.equal((planLoadBalancer('default/c', lb('c', { loadBalancerIP: '172.31.255.202' }), held, pool) as { ip: string }).ip, '172.31.255.202');
  assert.match((planLoadBalancer('default/c', lb('c', { loadBalancerIP: '172.31.255.200' }), held, pool) as { message: string }).message, /already allocated to default\/a/);
  assert.match((planLoadBalancer('default/c', lb('c', { loadBalancerIP: '8.8.8.8' }), held, pool) as { message: string }).message, /not in the address pool/);
  const full = new Map([['172.31.255.200', 'x/a'], ['172.31.255.201', 'x/b'], ['172.31.255.202', 'x/c']]);
  assert.deepEqual(planLoadBalancer('default/d', lb('d'), full, pool), { action: 'pending', reason: 'AllocationFailed', message: 'Failed to allocate IP for "default/d": no available IPs in the address pool 172.31.255.200-172.31.255.202' });
});

test('type changed away from LoadBalancer: the address is given back; another class is left alone', () => {
  const np = lb('a', { type: 'NodePort' }, ['172.31.255.200']);
  assert.deepEqual(planLoadBalancer('default/a', np, new Map(), pool), { action: 'clear', released: ['172.31.255.200'] });
  assert.deepEqual(planLoadBalancer('default/a', lb('a', { loadBalancerClass: 'example.com/other' }), new Map(), pool), { action: 'none' });
  assert.equal(planLoadBalancer('default/a', lb('a', { loadBalancerClass: LB_CLASS }), new Map(), pool).action, 'assign');
});

test('announcements: one Ready node per address, stable; Local policy only nodes with ready endpoints', () => {
  const node = (name: string, isReady = true): Node => ({ metadata: { name }, status: { conditions: [{ type: 'Ready', status: isReady ? 'True' : 'False' }] } });
  const nodes = [node('n0'), node('n1'), node('n2'), node('n3', false)];
  const svcs = [lb('a', {}, ['172.31.255.200']), lb('b', {}, ['172.31.255.201']), lb('loc', { externalTrafficPolicy: 'Local' }, ['172.31.255.202'])];
  const slice: EndpointSlice = { addressType: 'IPv4', metadata: { namespace: 'default', name: 'loc-1', labels: { 'kubernetes.io/service-name': 'loc' } }, endpoints: [{ addresses: ['10.244.2.5'], nodeName: 'n2', conditions: { ready: true } }] };
  const m = announcements(svcs, nodes, [slice], pool);
  assert.ok(['n0', 'n1', 'n2'].includes(m.get('172.31.255.200')!));
  assert.equal(m.get('172.31.255.202'), 'n2', 'the only node with an endpoint');
  assert.deepEqual(announcements(svcs, nodes, [slice], pool), m, 'every node computes the same');
  // The picked node goes: only its addresses move.
  const without = announcements(svcs, nodes.filter((n) => n.metadata!.name !== m.get('172.31.255.200')), [slice], pool);
  for (const [ip, n] of m) if (n !== m.get('172.31.255.200')) assert.equal(without.get(ip), n);
  assert.equal(announcements(svcs, nodes, [], pool).has('172.31.255.202'), false, 'Local without endpoints: nobody answers');
});

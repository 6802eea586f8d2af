import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Node } from 'kubernetes-types/core/v1.js';
import { createApiCore } from '../../apiserver/core.js';
import { MemoryStorage } from '../../storage/memory.js';
import { R } from '../../api/resources.js';
import { startControllers } from '../manager.js';
import { blockIndex, parseCidr, planCidrs } from './plan.js';

test('planCidrs: lowest free /24 per node, occupied blocks skipped whatever set them, exhaustion reported', () => {
  const p = planCidrs('10.244.0.0/16', 24, ['10.244.0.0/24', '10.244.2.0/24', '192.168.0.0/24', 'junk'], ['a', 'b', 'c']);
  assert.deepEqual([...p.assign], [['a', '10.244.1.0/24'], ['b', '10.244.3.0/24'], ['c', '10.244.4.0/24']]);
  assert.deepEqual(p.exhausted, []);
  const small = planCidrs('10.244.0.0/23', 24, ['10.244.1.0/24'], ['x', 'y']);
  assert.deepEqual([...small.assign], [['x', '10.244.0.0/24']]);
  assert.deepEqual(small.exhausted, ['y']);
  assert.equal(blockIndex(parseCidr('10.244.0.0/16')!, 24, '10.244.7.0/24'), 7);
  assert.equal(blockIndex(parseCidr('10.244.0.0/16')!, 24, '10.245.7.0/24'), undefined);
  assert.throws(() => planCidrs('10.244.0.0/16', 8, [], []), /cannot cut/);
});

test('the node IPAM controller gives joining Nodes distinct blocks, keeps the ones Nodes brought, and frees a deleted Node\'s', async (t) => {
  const core = await createApiCore({ storage: new MemoryStorage() });
  t.after(() => core.close());
  const c = core.client;
  const node = (name: string, podCIDR?: string): Node => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {} });
  await c.create(R.nodes, undefined, node('server-node', '10.244.0.0/24'));
  const ctrl = await startControllers(c, { enable: ['nodeipam'], nodeIpam: { clusterCIDR: '10.244.0.0/16' } });
  t.after(() => ctrl.stop());
  // Five machines join at once.
  await Promise.all(['j1', 'j2', 'j3', 'j4', 'j5'].map((n) => c.create(R.nodes, undefined, node(n))));
  const cidrs = async () => {
    for (let i = 0; i < 200; i++) {
      const items = (await c.list<Node>(R.nodes, undefined)).items;
      if (items.every((n) => n.spec?.podCIDR)) return new Map(items.map((n) => [n.metadata!.name!, n.spec!.podCIDR!]));
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('not every node got a CIDR');
  };
  const got = await cidrs();
  assert.equal(got.get('server-node'), '10.244.0.0/24');
  assert.equal(new Set(got.values()).size, 6, 'every block distinct');
  assert.deepEqual([...got.values()].sort(), ['10.244.0.0/24', '10.244.1.0/24', '10.244.2.0/24', '10.244.3.0/24', '10.244.4.0/24', '10.244.5.0/24']);
  const freed = got.get('j2')!;
  await c.delete(R.nodes, undefined, 'j2');
  await new Promise((r) => setTimeout(r, 50));
  await c.create(R.nodes, undefined, node('j6'));
  assert.equal((await cidrs()).get('j6'), freed);
});

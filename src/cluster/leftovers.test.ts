import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planLeftovers, strayProcesses, type ClusterShape } from './leftovers.js';

const shape: ClusterShape = { nodes: 1, proxyMode: 'nftables', serviceCIDR: '10.96.0.0/12', podCIDR: '10.244.0.0/16' };
const id = 'abcd1234';
const ns = ['cip-abcd1234-u', 'cip-abcd1234-out', 'cip-abcd1234-n0', 'cip-abcd1234-pdeadbeef', 'cip-abcd1234-p0badf00d',
  'cip-ffff0000-n0', 'someone-else'];
const recorded = new Set(['cip-abcd1234-pdeadbeef']);

test('same shape as the earlier run: node, underlay, outside and recorded Pod namespaces are adopted; the rest removed', () => {
  const p = planLeftovers({ id, previous: shape, current: shape, namespaces: ns, recordedPods: recorded });
  assert.deepEqual(p.keep, ['cip-abcd1234-n0', 'cip-abcd1234-out', 'cip-abcd1234-pdeadbeef', 'cip-abcd1234-u']);
  assert.deepEqual(p.remove, ['cip-abcd1234-p0badf00d']);
  assert.equal(p.reason, 'adopted 3 node/underlay and 1 Pod namespaces, removed 1');
});

test('a node beyond the node count is removed', () => {
  const p = planLeftovers({ id, previous: shape, current: shape, namespaces: [...ns, 'cip-abcd1234-n1'], recordedPods: recorded });
  assert.ok(p.remove.includes('cip-abcd1234-n1'));
});

test('another shape, or no record: everything of this cluster is removed, nothing of another', () => {
  for (const previous of [undefined, { ...shape, proxyMode: 'iptables' }, { ...shape, nodes: 2 }]) {
    const p = planLeftovers({ id, previous, current: shape, namespaces: ns, recordedPods: recorded });
    assert.deepEqual(p.keep, []);
    assert.deepEqual(p.remove, ns.filter((n) => n.startsWith('cip-abcd1234-')).sort());
  }
  assert.match(planLeftovers({ id, previous: { ...shape, nodes: 2 }, current: shape, namespaces: ns, recordedPods: recorded }).reason, /nodes 2 → 1/);
  assert.equal(planLeftovers({ id, current: shape, namespaces: ['x'], recordedPods: recorded }).reason, 'none');
});

test('in kept namespaces, only the dead daemon\'s own processes (its process group) are ended', () => {
  // 10: a sandbox holder, 20: a container, 21: its child (both in the container's group), 30: the
  // dead daemon (pid 5)'s nft -i and 40: its conntrack -E (in its group), 50: someone's curl.
  const procs = [{ pid: 10, pgid: 10 }, { pid: 20, pgid: 20 }, { pid: 21, pgid: 20 }, { pid: 30, pgid: 5 }, { pid: 40, pgid: 5 }, { pid: 50, pgid: 50 }];
  assert.deepEqual(strayProcesses(procs, 5), [30, 40]);
  assert.deepEqual(strayProcesses(procs, undefined), [], 'no record of the earlier daemon: nothing is ended');
});

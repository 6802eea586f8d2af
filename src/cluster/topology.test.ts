// Kernel test (root): builds the underlay for a throw-away cluster id, joins two node namespaces,
// checks reachability from inside the namespaces, and removes everything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { attachNode, createUnderlay, nodeUnderlayIP, removeAllNamespaces, topologyNames } from './topology.js';
import { runOk } from '../sys/command.js';
import { inNetns, listNetns } from '../sys/netns.js';

test('underlay joins nodes; the outside host reaches node addresses but has no route to Services', async (t) => {
  const id = randomBytes(2).toString('hex');
  t.after(async () => {
    await removeAllNamespaces(id);
    assert.deepEqual((await listNetns()).filter((n) => n.startsWith(`cip-${id}-`)), []);
  });
  const names = topologyNames(id);
  await createUnderlay(id);
  for (const n of [0, 1]) {
    await runOk(['ip', 'netns', 'add', names.node(n)]);
    await attachNode(id, n, ['10.244.0.0/24', '10.244.1.0/24']);
  }
  await createUnderlay(id); // idempotent
  await attachNode(id, 0, ['10.244.0.0/24', '10.244.1.0/24']);
  await inNetns(names.outside, 'busybox', ['ping', '-c1', '-W2', nodeUnderlayIP(1)]);
  await inNetns(names.node(0), 'busybox', ['ping', '-c1', '-W2', nodeUnderlayIP(1)]);
  const routes = await inNetns(names.node(0), 'ip', ['route']);
  assert.match(routes, new RegExp(`10\\.244\\.1\\.0/24 via ${nodeUnderlayIP(1).replace(/\./g, '\\.')}`));
  await assert.rejects(inNetns(names.outside, 'ip', ['route', 'get', '10.96.0.10']), /unreachable/);
});

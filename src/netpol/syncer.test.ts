import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PolicySyncer } from './syncer.js';
import { CASES, NAMESPACES, PODS, pod, policy } from './testing/cluster.js';

/** A syncer whose "kernel" records transactions (the real nft runs in test/e2e/netpol-kernel.test.ts). */
function recording(fail = false) {
  const sent: string[] = [];
  const syncer = new PolicySyncer('node-0', async (argv, stdin) => {
    sent.push(stdin ?? argv.join(' '));
    return fail ? { code: 1, stdout: '', stderr: 'Error: refused' } : { code: 0, stdout: '', stderr: '' };
  });
  for (const n of NAMESPACES) syncer.namespaceChanged(undefined, n);
  for (const p of PODS) syncer.podChanged(undefined, p);
  return { syncer, sent };
}

test('the first sync is a full write; then only the policies a change matters to are recompiled', async () => {
  const { syncer, sent } = recording();
  for (const p of Object.values(CASES).flat()) syncer.policyChanged(p.key, p);
  const first = await syncer.sync();
  assert.equal(first.full, true);
  assert.match(sent[0]!, /^add table inet clusterip-policy\ndelete table inet clusterip-policy\n/);
  // A new Pod in shop: shop/allow-all selects it, default/web-from-team-a has it as a peer (shop is
  // team a); none of the other policies is recompiled.
  assert.equal(syncer.podChanged(undefined, pod('shop', 'other', '10.244.0.40', 'node-0', { app: 'nobody' })), true);
  let r = await syncer.sync();
  assert.equal(r.full, false);
  assert.equal(r.policies, 2);
  // A Pod of lab (team b) matters to no policy: no recompilation, no transaction.
  assert.equal(syncer.podChanged(undefined, pod('lab', 'x', '10.244.1.40', 'node-1', { app: 'x' })), false);
  r = await syncer.sync();
  assert.equal(r.policies, 0);
  assert.equal(r.transaction, '');
  // Relabelling a namespace reaches only the policies whose namespaceSelector matched it or matches now.
  syncer.namespaceChanged(NAMESPACES[3]!, { ...NAMESPACES[3]!, labels: { ...NAMESPACES[3]!.labels, team: 'a' } });
  r = await syncer.sync();
  assert.equal(r.policies, 1, 'default/web-from-team-a');
  assert.match(r.transaction, /^add element inet clusterip-policy peer-pods \{ 10\.244\.1\.30 \. \d+, 10\.244\.1\.40 \. \d+ \}$/m);
});

test('a refused transaction makes the next sync a full one', async () => {
  const { syncer } = recording(true);
  syncer.policyChanged('default/deny-all', policy('default', 'deny-all', {}));
  await assert.rejects(syncer.sync(), /nft -f - exited 1: Error: refused/);
  const ok = recording();
  ok.syncer.policyChanged('default/deny-all', policy('default', 'deny-all', {}));
  assert.equal((await ok.syncer.sync()).full, true);
  ok.syncer.policyChanged('default/deny-all', undefined);
  assert.equal((await ok.syncer.sync()).full, false);
  ok.syncer.forceFull();
  assert.equal((await ok.syncer.sync()).full, true);
});

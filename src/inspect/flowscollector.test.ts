import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeFlowCollector, flowsTable, missingFrom } from './flowscollector.js';

test('what is missing, in words a user can act on', () => {
  assert.match(missingFrom('conntrack', 'spawn conntrack ENOENT', 127), /the conntrack tool \(Debian package conntrack/);
  assert.match(missingFrom('conntrack', 'conntrack v1.4.7 (conntrack-tools): Operation not permitted', 1), /permission: conntrack needs CAP_NET_ADMIN \(run clusterip as root\)/);
  assert.match(missingFrom('conntrack', "conntrack v1.4.7 (conntrack-tools): Can't open handler", 1), /kernel module nf_conntrack_netlink is not loaded \(modprobe nf_conntrack_netlink\)/);
  assert.match(missingFrom('nft', 'Error: Could not process rule: Operation not permitted', 1), /permission: nft needs CAP_NET_ADMIN/);
});

test('a collector without the conntrack tool reports it missing instead of showing nothing', async (t) => {
  const empty = await mkdtemp(join(tmpdir(), 'cip-nopath-'));
  const path = process.env.PATH;
  t.after(async () => { process.env.PATH = path; await rm(empty, { recursive: true, force: true }); });
  process.env.PATH = empty;
  const statuses: (string | undefined)[] = [];
  const col = new NodeFlowCollector({ node: 'n0', netns: 'cip-none-n0', serviceCIDR: '10.96.0.0/12',
    events: { onConntrack: () => {}, onRefused: () => {}, onStatus: (_ok, missing) => statuses.push(missing) } });
  await col.start();
  assert.equal(col.ok, false);
  assert.match(col.missing ?? '', /the conntrack tool/);
  assert.deepEqual(statuses, [col.missing]);
});

test('the owned table counts first packets only and traces only unanswered Service traffic', () => {
  const t = flowsTable('10.96.0.0/12');
  assert.match(t, /table ip clusterip-flows \{/);
  assert.match(t, /type nat hook prerouting priority -99;[^}]*ip daddr 10\.96\.0\.0\/12 ct state new meta nftrace set 1/);
  assert.match(t, /type filter hook output priority -111;/);
  assert.equal(t.match(/ct state new ct status ! confirmed ct original ip daddr 10\.96\.0\.0\/12 counter name "svc-new"/g)?.length, 2);
  // Counted in nat chains (first packets only, no hook more on every packet), before the proxy's source NAT at 100.
  assert.match(t, /chain count-post \{\s*type nat hook postrouting priority 99;/);
  assert.match(t, /chain count-in \{\s*type nat hook input priority 99;/);
});

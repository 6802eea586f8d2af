import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { run } from './exec.js';
import { Ipam } from './ipam.js';
import { deleteNetns, ensureNodeNetwork, netnsExists } from './network.js';
import { createSandbox, destroySandbox, holderAlive, nsenterArgs } from './sandbox.js';

test('sandbox: netns + veth + IP + hostname + resolv.conf, and Pod-to-Pod over the bridge', async (t) => {
  const id = randomBytes(2).toString('hex');
  const nodeNs = `cipt-${id}-n0`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-'));
  t.after(async () => { await deleteNetns(nodeNs); fs.rmSync(dir, { recursive: true, force: true }); });
  await ensureNodeNetwork(nodeNs, '10.244.0.0/24');
  const env = { nodeNetns: nodeNs, podCIDR: '10.244.0.0/24', idPrefix: `cipt-${id}`, ipam: new Ipam(dir, '10.244.0.0/24'),
    dns: { clusterDNS: '10.96.0.10', clusterDomain: 'cluster.local' } };
  const mk = (name: string): Pod => ({ metadata: { name, namespace: 'default', uid: randomUUID() }, spec: { containers: [] } });
  const a = await createSandbox(env, mk('pod-a'), path.join(dir, 'a'));
  t.after(() => destroySandbox(env, a));
  const b = await createSandbox(env, mk('pod-b'), path.join(dir, 'b'));
  t.after(() => destroySandbox(env, b));
  assert.equal(a.ip, '10.244.0.2');
  assert.equal(b.ip, '10.244.0.3');
  assert.equal((await run([...nsenterArgs(a), 'hostname'])).stdout.trim(), 'pod-a');
  assert.match((await run([...nsenterArgs(a), 'cat', '/etc/resolv.conf'])).stdout, /nameserver 10\.96\.0\.10/);
  assert.match((await run([...nsenterArgs(a), 'cat', '/etc/hosts'])).stdout, /10\.244\.0\.2\tpod-a/);
  // The host's own hostname and /etc are untouched.
  assert.notEqual(os.hostname(), 'pod-a');
  // Pod A → Pod B over cbr0 (sent from inside Pod A's namespaces).
  const ping = await run([...nsenterArgs(a), 'busybox', 'ping', '-c', '1', '-W', '2', b.ip]);
  assert.equal(ping.code, 0, ping.stdout + ping.stderr);
  await destroySandbox(env, a);
  assert.equal(holderAlive(a), false);
  assert.equal(netnsExists(a.netns), false);
  const links = await run(['ip', '-n', nodeNs, '-o', 'link', 'show']);
  assert.ok(!links.stdout.includes(a.veth));
  assert.equal(env.ipam.addressOf(a.uid), undefined);
});

test('sandbox failure (no node namespace) is a typed error and leaves nothing', async (t) => {
  const id = randomBytes(2).toString('hex');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const env = { nodeNetns: `cipt-${id}-nX`, podCIDR: '10.244.0.0/24', idPrefix: `cipt-${id}`, ipam: new Ipam(dir, '10.244.0.0/24'),
    dns: { clusterDNS: '10.96.0.10', clusterDomain: 'cluster.local' } };
  const uid = randomUUID();
  await assert.rejects(createSandbox(env, { metadata: { name: 'x', namespace: 'd', uid }, spec: { containers: [] } }, dir),
    { name: 'NodeError', code: 'SandboxFailed' });
  assert.equal(env.ipam.addressOf(uid), undefined);
  assert.equal((await run(['ip', 'netns', 'list'])).stdout.includes(`cipt-${id}-p`), false);
});

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
import { createSandbox, destroySandbox, holderAlive, nsenterArgs, type SandboxRecord } from './sandbox.js';

test('sandbox: netns + veth + IP + hostname + resolv.conf, and Pod-to-Pod over the bridge', async (t) => {
  const id = randomBytes(2).toString('hex');
  const nodeNs = `cipt-${id}-n0`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-'));
  const made: SandboxRecord[] = [];
  const env = { nodeNetns: nodeNs, podCIDR: '10.244.0.0/24', idPrefix: `cipt-${id}`, ipam: new Ipam(dir, '10.244.0.0/24'),
    dns: { clusterDNS: '10.96.0.10', clusterDomain: 'cluster.local' } };
  // One cleanup, in order: sandboxes, then the node namespace, then the files.
  t.after(async () => {
    for (const s of made) await destroySandbox(env, s);
    await deleteNetns(nodeNs);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await ensureNodeNetwork(nodeNs, '10.244.0.0/24');
  const mk = (name: string): Pod => ({ metadata: { name, namespace: 'default', uid: randomUUID() }, spec: { containers: [] } });
  const a = await createSandbox(env, mk('pod-a'), path.join(dir, 'a'));
  made.push(a);
  const b = await createSandbox(env, mk('pod-b'), path.join(dir, 'b'));
  made.push(b);
  assert.equal(a.ip, '10.244.0.2');
  // Node namespace: forwarding and bridge-netfilter on (per namespace), hairpin on the Pod's port.
  assert.equal((await run(['ip', 'netns', 'exec', nodeNs, 'cat', '/proc/sys/net/ipv4/ip_forward', '/proc/sys/net/bridge/bridge-nf-call-iptables'])).stdout, '1\n1\n');
  assert.match((await run(['ip', '-n', nodeNs, '-d', 'link', 'show', a.veth])).stdout, /master cbr0[\s\S]*hairpin on/);
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
  // A new Pod that reuses A's address also gets A's MAC (derived from the IP), so B's ARP entry for
  // that address is still right: B reaches it at once.
  const c = await createSandbox(env, mk('pod-c'), path.join(dir, 'c'));
  made.push(c);
  assert.equal(c.ip, a.ip);
  assert.match((await run(['ip', '-n', c.netns, 'link', 'show', 'eth0'])).stdout, /link\/ether 0a:58:0a:f4:00:02 /);
  const back = await run([...nsenterArgs(b), 'busybox', 'ping', '-c', '1', '-W', '1', c.ip]);
  assert.equal(back.code, 0, back.stdout + back.stderr);

  // hostNetwork: the Pod shares the NODE namespace (never the machine's), keeps its own UTS/mount.
  const h = await createSandbox(env, { metadata: { name: 'hn', namespace: 'default', uid: randomUUID() }, spec: { hostNetwork: true, containers: [] } }, path.join(dir, 'h'));
  made.push(h);
  assert.equal((await run(['ip', 'netns', 'identify', String(h.holderPid)])).stdout.trim(), nodeNs);
  assert.equal(h.ip, '10.244.0.1');
  assert.equal((await run([...nsenterArgs(h), 'hostname'])).stdout.trim(), 'hn');
  await destroySandbox(env, h);
  assert.equal(netnsExists(nodeNs), true, 'the node namespace stays');
});

test('sandbox failure (no node namespace) is a typed error and leaves nothing', async (t) => {
  const id = randomBytes(2).toString('hex');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const env = { nodeNetns: `cipt-${id}-nX`, podCIDR: '10.244.0.0/24', idPrefix: `cipt-${id}`, ipam: new Ipam(dir, '10.244.0.0/24'),
    dns: { clusterDNS: '10.96.0.10', clusterDomain: 'cluster.local' } };
  const uid = randomUUID();
  await assert.rejects(createSandbox(env, { metadata: { name: 'x', namespace: 'd', uid }, spec: { containers: [] } }, dir),
    { name: 'NodeError', code: 'SANDBOX_FAILED' });
  assert.equal(env.ipam.addressOf(uid), undefined);
  assert.equal((await run(['ip', 'netns', 'list'])).stdout.includes(`cipt-${id}-p`), false);
});

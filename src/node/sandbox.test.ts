import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { run } from './exec.js';
import { Ipam, macForIP } from './ipam.js';
import { deleteNetns, ensureNodeNetwork, netnsExists } from './network.js';
import { createSandbox, destroySandbox, holderAlive, nsenterArgs, type SandboxRecord } from './sandbox.js';

/**
 * A node namespace name, an IPAM dir and the sandbox env of one test, with one cleanup in order:
 * the sandboxes made (push them on `made`), the extra namespaces `cipt-<id>-<suffix>`, the node
 * namespace, then the files.
 */
function sandboxFixture(t: TestContext, extraSuffixes: string[] = []) {
  const id = randomBytes(2).toString('hex');
  const nodeNs = `cipt-${id}-n0`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-'));
  const made: SandboxRecord[] = [];
  const env = { nodeNetns: nodeNs, podCIDR: '10.244.0.0/24', idPrefix: `cipt-${id}`, ipam: new Ipam(dir, '10.244.0.0/24'),
    dns: { clusterDNS: '10.96.0.10', clusterDomain: 'cluster.local' } };
  t.after(async () => {
    for (const s of made) await destroySandbox(env, s);
    for (const suffix of extraSuffixes) await deleteNetns(`cipt-${id}-${suffix}`);
    await deleteNetns(nodeNs);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { id, nodeNs, dir, made, env };
}

test('sandbox: netns + veth + IP + hostname + resolv.conf, and Pod-to-Pod over the bridge', async (t) => {
  const { id, nodeNs, dir, made, env } = sandboxFixture(t);
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

test('node bridge: its MAC stays put when Pods come and go, so routed traffic of the Pods already there keeps flowing', async (t) => {
  const { id, nodeNs, dir, made, env } = sandboxFixture(t, ['r']);
  const remoteNs = `cipt-${id}-r`;
  // A bridge made the old way (no MAC of its own), as a node namespace kept from an earlier version has.
  await run(['ip', 'netns', 'add', nodeNs]);
  await run(['ip', '-n', nodeNs, 'link', 'add', 'cbr0', 'type', 'bridge']);
  await ensureNodeNetwork(nodeNs, '10.244.0.0/24');
  const bridgeMac = async (): Promise<string> => /link\/ether (\S+)/.exec((await run(['ip', '-n', nodeNs, '-o', 'link', 'show', 'dev', 'cbr0'])).stdout)![1]!;
  assert.equal(await bridgeMac(), macForIP('10.244.0.1'), 'the bridge takes the MAC derived from its gateway address');
  assert.equal((await run(['ip', 'netns', 'exec', nodeNs, 'cat', '/proc/sys/net/ipv4/conf/cbr0/arp_notify'])).stdout, '1\n');
  // Somewhere the node routes to (another node over the overlay, in the cluster): a veth to a namespace.
  await run(['ip', 'netns', 'add', remoteNs]);
  await run(['ip', '-n', nodeNs, '-batch', '-'], { input: 'link add rx type veth peer name eth0 netns ' + remoteNs + '\naddr add 10.99.0.1/24 dev rx\nlink set rx up\n' });
  await run(['ip', '-n', remoteNs, '-batch', '-'], { input: 'link set lo up\naddr add 10.99.0.2/24 dev eth0\nlink set eth0 up\nroute add default via 10.99.0.1\n' });
  const mk = (name: string): Pod => ({ metadata: { name, namespace: 'default', uid: randomUUID() }, spec: { containers: [] } });
  const ping = async (s: SandboxRecord): Promise<number> => (await run([...nsenterArgs(s), 'busybox', 'ping', '-c', '1', '-W', '2', '10.99.0.2'])).code;
  const a = await createSandbox(env, mk('pod-a'), path.join(dir, 'a'));
  made.push(a);
  const b0 = await createSandbox(env, mk('pod-b'), path.join(dir, 'b'));
  made.push(b0);
  // The client: the Pod whose port does not have the lowest MAC (a bridge without a MAC of its own
  // would be answering ARP with the other port's address, which it stops taking as its own once it
  // changes: frames to it are then dropped).
  const portMac = async (s: SandboxRecord): Promise<string> => /link\/ether (\S+)/.exec((await run(['ip', '-n', nodeNs, '-o', 'link', 'show', 'dev', s.veth])).stdout)![1]!;
  const b = (await portMac(a)) < (await portMac(b0)) ? b0 : a;
  assert.equal(await ping(b), 0);
  // Another Pod whose node-side veth has a MAC lower than every port's so far (node-side veths get
  // random MACs, so this happens as Pods come and go; here it is made to happen): a bridge without a
  // MAC of its own would take it. The client, its gateway's MAC cached, must still get through.
  const lowestPortMac = async (): Promise<string> => {
    const ports = (await run(['ip', '-n', nodeNs, '-o', 'link', 'show', 'master', 'cbr0'])).stdout;
    return [...ports.matchAll(/link\/ether (\S+)/g)].map((m) => m[1]!).sort()[0]!;
  };
  const first = await lowestPortMac();
  const c = await createSandbox(env, mk('pod-c'), path.join(dir, 'c'));
  made.push(c);
  await run(['ip', '-n', nodeNs, 'link', 'set', 'dev', c.veth, 'address', '02:00:00:00:00:01']);
  assert.equal(await lowestPortMac(), '02:00:00:00:00:01', `a port with a lower MAC than ${first} joined`);
  assert.equal(await bridgeMac(), macForIP('10.244.0.1'));
  assert.equal(await ping(b), 0, 'the client routes through the node after the bridge gained a port with a lower MAC');
});

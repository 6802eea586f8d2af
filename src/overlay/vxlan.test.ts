/**
 * The overlay against the real kernel, with "machines" modelled as network namespaces this test
 * creates (m1, m2 on one underlay bridge) and node namespaces on them: n1 and n3 on m1, n2 on m2.
 * The VXLAN devices' UDP sockets live in the machines' namespaces, the devices in the nodes'; Pod
 * CIDR gateways on each node answer pings across machines. Everything is removed at the end.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomBytes } from 'node:crypto';
import type { Node } from 'kubernetes-types/core/v1.js';
import { createApiCore } from '../apiserver/core.js';
import { MemoryStorage } from '../storage/memory.js';
import { R } from '../api/resources.js';
import { run, runOk } from '../sys/command.js';
import { startOverlay, type Overlay } from './vxlan.js';

const root = process.getuid?.() === 0;

test('VXLAN overlay between two machines: nodes ping each other\'s Pod gateways, same-machine nodes are not overlay peers, a removed Node is unrouted, a restart keeps the device', { skip: !root && 'needs root', timeout: 60_000 }, async (t) => {
  const p = `cip-t${randomBytes(3).toString('hex')}`;
  const ns = (n: string) => `${p}-${n}`;
  const all = ['u', 'm1', 'm2', 'n1', 'n2', 'n3'];
  t.after(async () => { for (const n of all) await run(['ip', 'netns', 'delete', ns(n)]); });
  for (const n of all) { await runOk(['ip', 'netns', 'add', ns(n)]); await runOk(['ip', '-n', ns(n), 'link', 'set', 'lo', 'up']); }
  await runOk(['ip', '-n', ns('u'), '-batch', '-'], { input: 'link add br0 type bridge\nlink set br0 up\n' });
  for (const [i, m] of [[1, 'm1'], [2, 'm2']] as const) {
    await runOk(['ip', '-n', ns('u'), 'link', 'add', `v${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns(m)]);
    await runOk(['ip', '-n', ns('u'), 'link', 'set', `v${i}`, 'master', 'br0', 'up']);
    await runOk(['ip', '-n', ns(m), '-batch', '-'], { input: `addr add 192.168.77.${i}/24 dev eth0\nlink set eth0 up\n` });
  }
  const cidr = { n1: '10.244.1.0/24', n2: '10.244.2.0/24', n3: '10.244.3.0/24' } as const;
  for (const [n, c] of Object.entries(cidr)) {
    await runOk(['ip', '-n', ns(n), '-batch', '-'], { input: `link add cbr0 type bridge\naddr add ${c.replace('.0/24', '.1/24')} dev cbr0\nlink set cbr0 up\n` });
    await runOk(['ip', 'netns', 'exec', ns(n), 'sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward']);
  }
  const core = await createApiCore({ storage: new MemoryStorage() });
  t.after(() => core.close());
  for (const [n, c] of Object.entries(cidr)) await core.client.create<Node>(R.nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: n }, spec: { podCIDR: c } });
  const machineOf = { n1: ['m1', '192.168.77.1'], n2: ['m2', '192.168.77.2'], n3: ['m1', '192.168.77.1'] } as const;
  const overlays = new Map<string, Overlay>();
  const start = async (n: keyof typeof cidr) => {
    const o = await startOverlay({ client: core.client, nodeName: n, netns: ns(n), podCIDR: cidr[n], clusterCIDR: '10.244.0.0/16', publicIP: machineOf[n][1], machineNetns: ns(machineOf[n][0]) });
    overlays.set(n, o);
    return o;
  };
  t.after(async () => { for (const o of overlays.values()) await o.stop(); });
  await Promise.all([start('n1'), start('n2'), start('n3')]);
  for (const o of overlays.values()) await o.whenIdle();

  const ping = async (from: string, to: string) => (await run(['ip', 'netns', 'exec', ns(from), 'busybox', 'ping', '-c1', '-W2', to])).code === 0;
  assert.equal(await ping('n1', '10.244.2.1'), true, 'n1 (m1) → n2 (m2)');
  assert.equal(await ping('n2', '10.244.1.1'), true, 'n2 (m2) → n1 (m1)');
  assert.equal(await ping('n2', '10.244.3.1'), true, 'n2 (m2) → n3 (m1): a second node on m1 shares m1\'s socket, told apart by its VNI');
  assert.deepEqual(overlays.get('n1')!.peers().map((x) => x.node), ['n2'], 'n3 is on the same machine: not an overlay peer');
  assert.deepEqual(overlays.get('n2')!.peers().map((x) => `${x.node} vni ${x.vni}`), ['n1 vni 2', 'n3 vni 4']);
  // The device is in the node namespace, its socket in the machine's.
  assert.match(await runOk(['ip', '-n', ns('n1'), '-d', 'link', 'show', 'vxlan0']), /vxlan id 2 local 192\.168\.77\.1 .*dstport 8472/);
  assert.match(await runOk(['ip', 'netns', 'exec', ns('m1'), 'ss', '-uan']), /:8472\b/);
  assert.match(await runOk(['ip', '-n', ns('n1'), '-o', 'link', 'show', 'vxlan0']), / mtu 1450 /, 'underlay MTU minus the 50 bytes of VXLAN headers');

  await core.client.delete(R.nodes, undefined, 'n3');
  await overlays.get('n2')!.whenIdle();
  await new Promise((r) => setTimeout(r, 100));
  await overlays.get('n2')!.whenIdle();
  assert.doesNotMatch(await runOk(['ip', '-n', ns('n2'), 'route', 'show', 'dev', 'vxlan0']), /10\.244\.3\.0/);
  assert.equal(await ping('n2', '10.244.3.1'), false);

  // A restarted agent (the daemon was killed) finds its device and keeps it.
  const mac = overlays.get('n1')!.mac;
  await overlays.get('n1')!.stop();
  overlays.delete('n1');
  const again = await start('n1');
  assert.equal(again.mac, mac);
  assert.equal(await ping('n2', '10.244.1.1'), true);
});

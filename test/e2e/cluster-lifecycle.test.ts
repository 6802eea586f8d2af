// Whole-cluster lifecycle with the real CLI and kubectl: several nodes with cross-node Service
// traffic (iptables mode, to exercise the second backend end to end), and down → up keeping every
// object and ClusterIP, with Pods recreated and traffic flowing again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { upCluster, type UpCluster } from '../harness/up.js';

async function ok(c: UpCluster, args: string[], timeoutMs = 60_000): Promise<string> {
  const r = await c.kubectl(args, { timeoutMs });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

async function fetchTitles(c: UpCluster, n: number): Promise<string> {
  const r = await c.kubectl(['run', `q${Date.now() % 100000}`, '--image=busybox', '--restart=Never', '--rm', '-i', '--',
    'sh', '-c', `for i in $(seq ${n}); do timeout 3 wget -qO- http://web | grep -m1 -o 'Welcome to nginx!'; done`], { timeoutMs: 60_000 });
  return r.stdout;
}

test('two nodes, iptables mode: Pods on both nodes, Service traffic crosses nodes', async (t) => {
  const c = await upCluster(t, { nodes: 2, proxyMode: 'iptables' });
  const nodes = await ok(c, ['get', 'nodes']);
  assert.equal((nodes.match(/\sReady\s/g) ?? []).length, 2, nodes);
  await ok(c, ['create', 'deployment', 'web', '--image=nginx', '--replicas=4']);
  await ok(c, ['expose', 'deployment', 'web', '--port=80']);
  await ok(c, ['rollout', 'status', 'deployment/web', '--timeout=60s'], 70_000);
  const placed = await ok(c, ['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={range .items[*]}{.spec.nodeName}{"\\n"}{end}']);
  assert.equal(new Set(placed.trim().split('\n')).size, 2, `Pods not spread over both nodes: ${placed}`);
  const out = await fetchTitles(c, 12);
  assert.equal((out.match(/Welcome to nginx!/g) ?? []).length, 12, out);
});

test('down then up keeps objects and ClusterIPs; Pods come back and traffic flows', async (t) => {
  const c = await upCluster(t);
  await ok(c, ['create', 'deployment', 'web', '--image=nginx', '--replicas=2']);
  await ok(c, ['expose', 'deployment', 'web', '--port=80']);
  await ok(c, ['rollout', 'status', 'deployment/web', '--timeout=60s'], 70_000);
  const ip = (await ok(c, ['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
  await c.restart();
  assert.equal((await ok(c, ['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).trim(), ip);
  await ok(c, ['rollout', 'status', 'deployment/web', '--timeout=60s'], 70_000);
  // The node agent recreates the stored Pods' sandboxes; wait until one request succeeds, then all must.
  const deadline = Date.now() + 30_000;
  while (!/Welcome to nginx!/.test(await fetchTitles(c, 1)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
  const out = await fetchTitles(c, 4);
  assert.equal((out.match(/Welcome to nginx!/g) ?? []).length, 4, out);
});

/**
 * Two API servers of one cluster on two machines, and a node on a third (issue 22, "API server
 * restart"), on one host with machines as namespaces (test/harness/machines.ts):
 * - machine 1: `clusterip up --embedded-etcd --advertise-address` (API server A, etcd, a node);
 * - machine 2: `clusterip up --server <A> --token <join-server token>` (API server B: CA, settings
 *   and the etcd from A; its node's Pod CIDR from node IPAM);
 * - machine 3: `clusterip join --server <A>` (its load balancer learns B from the Leases).
 * Both servers are in the `kubernetes` endpoints. A's daemon is SIGKILLed: B keeps serving, the
 * node on machine 3 stays Ready through B (its load balancer fails over), B's controllers take
 * the leadership and run new work, A leaves the `kubernetes` endpoints when its Lease expires, and
 * a Pod reaches the API through the `kubernetes` Service at B. A comes back and is listed again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Endpoints, Node, Pod } from 'kubernetes-types/core/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { createMachines } from '../harness/machines.js';
import type { KubectlRunner } from '../harness/kubectl.js';
import { isReady as ready, kubectlJson as json, until } from '../harness/waits.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const endpointIPs = async (k: KubectlRunner): Promise<string[]> =>
  ((await json<Endpoints>(k, ['get', 'endpoints', 'kubernetes'])).subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip)).sort();

test('two API servers on two machines and a node on a third: killing one, clients fail over and the other carries on', { timeout: 300_000 }, async (t) => {
  const ms = await createMachines(t, 3);
  const [m1, m2, m3] = ms.list as [typeof ms.list[0], typeof ms.list[0], typeof ms.list[0]];
  const fast = ['--node-monitor-grace-period', '3', '--pod-eviction-timeout', '300', '--apiserver-lease-duration', '4', '--leader-elect-lease-duration', '3'];
  const a = await ms.up(m1, ['--embedded-etcd', '--advertise-address', m1.ip, ...fast]);
  const urlA = /--server (\S+)/.exec(a.record().joinCommand!)![1]!;
  const nodeToken = /--token (\S+)/.exec(a.record().joinCommand!)![1]!;
  // A node token cannot make an API server.
  const refused = await m2.cli(['up', '--name', `x${ms.tag}`, '--state-dir', `${m2.root}/x`, '--api-port', '0', '--kubeconfig', `${m2.root}/x.kubeconfig`,
    '--server', urlA, '--token', nodeToken, '--advertise-address', m2.ip]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /may not be used to add an API server/);
  const tok = await m1.cli(['token', 'create', '--name', a.name, '--state-dir', a.stateDir, '--usages', 'join-node,join-server', '--ttl', '1h']);
  assert.equal(tok.code, 0, tok.stderr);
  const serverToken = tok.stdout.trim();
  assert.match(serverToken, /^K10[0-9a-f]{64}::[a-z0-9]{6}\.[a-z0-9]{16}$/);

  const b = await ms.up(m2, ['--server', urlA, '--token', serverToken, '--advertise-address', m2.ip, ...fast]);
  const kA = a.kubectl;
  const kB = b.kubectl;
  const nodeA = `${a.name}-node`;
  const nodeB = `${b.name}-node`;
  const nB = await json<Node>(kB, ['get', 'node', nodeB]);
  assert.notEqual(nB.spec?.podCIDR, '10.244.0.0/24', 'the second server\'s node has its own block (node IPAM)');
  const gwB = nB.spec!.podCIDR!.replace(/\.0\/24$/, '.1');
  await until('both API servers in the kubernetes endpoints', 20_000, async () => (await endpointIPs(kA)).join(' ') === ['10.244.0.1', gwB].sort().join(' '));
  // The same CA: A's kubeconfig credentials work against B.
  const leases = await json<{ items: Lease[] }>(kB, ['get', 'leases', '-n', 'kube-system', '-l', 'apiserver.kubernetes.io/identity=kube-apiserver']);
  assert.deepEqual(leases.items.map((l) => l.metadata!.annotations!['clusterip.dev/server-url']).sort(), [urlA, `https://${m2.ip}:${b.record().apiPort}`].sort());

  const j3 = await ms.join(m3, ['--server', urlA, '--token', nodeToken, '--node-name', 'm3']);
  void j3;
  const apply = async (k: KubectlRunner, objs: object[]) => {
    const r = await k(['apply', '-f', '-'], { input: objs.map((o) => JSON.stringify(o)).join('\n') });
    assert.equal(r.code, 0, r.stderr);
  };
  await apply(kA, [{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'client' }, spec: { nodeName: 'm3', containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] } }]);
  await until('the client Pod on m3 Ready', 60_000, async () => ready(await json<Pod>(kA, ['get', 'pod', 'client'])));

  // A dies (its embedded etcd, a process of its own, lives on).
  await ms.kill(a);
  const tKill = Date.now();
  const k = kB;
  // B serves; m3 stays Ready for well past the grace period (its load balancer reaches B).
  await sleep(3 * 3000);
  const m3Node = await json<Node>(k, ['get', 'node', 'm3']);
  assert.ok(ready(m3Node), `m3 stays Ready through B: ${JSON.stringify(m3Node.status?.conditions?.find((c) => c.type === 'Ready'))}`);
  const renewed = (await json<Lease>(k, ['get', 'lease', '-n', 'kube-node-lease', 'm3'])).spec!.renewTime!;
  assert.ok(Date.parse(renewed) > tKill, 'm3 renewed its Lease after A died');
  // A's own node (its agent died with it) goes NotReady: B's controllers lead now.
  await until(`${nodeA} NotReady (B's node lifecycle controller)`, 30_000, async () => !ready(await json<Node>(k, ['get', 'node', nodeA])));
  // A leaves the kubernetes endpoints when its Lease expires; B stays.
  await until('only B in the kubernetes endpoints', 30_000, async () => (await endpointIPs(k)).join(' ') === gwB);
  // New work through B: a Deployment's Pod is created, scheduled and runs.
  await apply(k, [{
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'after' },
    spec: { replicas: 2, selector: { matchLabels: { app: 'after' } }, template: { metadata: { labels: { app: 'after' } }, spec: { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] } } },
  }]);
  const pods = await until('the Deployment\'s Pods Ready after A died', 60_000, async () => {
    const ps = (await json<{ items: Pod[] }>(k, ['get', 'pods', '-l', 'app=after'])).items;
    return ps.length === 2 && ps.every(ready) ? ps : undefined;
  });
  assert.ok(pods.every((p) => p.spec?.nodeName !== nodeA), 'nothing scheduled on the dead machine\'s node');
  // A Pod on m3 reaches the API through the kubernetes Service's ClusterIP: now at B. (By IP: the
  // DNS Pod reads the API over A's unix socket, so names wait for A — a limit until it can use a
  // service-account token.)
  const api = await k(['exec', 'client', '--', 'sh', '-c', 'timeout 5 wget -S --no-check-certificate -qO- https://10.96.0.1/api 2>&1; true'], { timeoutMs: 30_000 });
  assert.match(api.stdout, /HTTP\/1\.1 401/, api.stdout + api.stderr);

  // A comes back: the same `up` on machine 1 (it adopts what its killed daemon left, and restarts
  // its etcd, which B waits for meanwhile). Both servers are listed again.
  const back = await m1.cli(['up', '--name', a.name, '--state-dir', a.stateDir, '--api-port', '0', '--kubeconfig', a.kubeconfig, '--detach', '--embedded-etcd', '--advertise-address', m1.ip, ...fast]);
  assert.equal(back.code, 0, back.stdout + back.stderr);
  await until('A back in the kubernetes endpoints', 60_000, async () => (await endpointIPs(k)).join(' ') === ['10.244.0.1', gwB].sort().join(' '));
  await until(`${nodeA} Ready again`, 30_000, async () => ready(await json<Node>(k, ['get', 'node', nodeA])));
});

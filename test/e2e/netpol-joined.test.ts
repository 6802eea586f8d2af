/**
 * NetworkPolicy on a joined node (issues 21 and 22), end to end on two "machines" of the
 * multi-machine harness (test/harness/machines.ts): machine 1 runs the API server and a node,
 * machine 2 joins one node with the command `up` printed. The server Pod runs on the joined node,
 * the clients on machine 1, so every connection crosses the underlay (VXLAN) after machine 1's
 * Service DNAT. Checked with the real kubectl and real Pods:
 * - a default deny selecting the server blocks cross-node Pod → ClusterIP traffic to it, and an
 *   allow rule naming the client restores it (another client stays blocked);
 * - it is the joined node that enforces: its agent (reading with the node's credentials) writes the
 *   policy's group chain into its own node namespace; machine 1's node, where the server does not
 *   run, isolates nothing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { createMachines } from '../harness/machines.js';
import { run as runCmd } from '../../src/sys/command.js';
import { isReady as ready, kubectlJson as json, until } from '../harness/waits.js';

test('NetworkPolicy on a joined node: default deny blocks cross-node Pod → Service, an allow rule restores it', { timeout: 240_000 }, async (t) => {
  const ms = await createMachines(t, 2);
  const [m1, m2] = ms.list as [typeof ms.list[0], typeof ms.list[0]];
  const server = await ms.up(m1, ['--embedded-etcd', '--advertise-address', m1.ip]);
  const k = server.kubectl;
  const [, , , url, , token] = server.record().joinCommand!.split(' ') as string[];
  const serverNode = `${server.name}-node`;
  const joined = await ms.join(m2, ['--server', url!, '--token', token!, '--node-name', 'm2']);

  const apply = async (objs: object[]) => {
    const a = await k(['apply', '-f', '-'], { input: objs.map((o) => JSON.stringify(o)).join('\n') });
    assert.equal(a.code, 0, a.stderr);
  };
  const busybox = (name: string, labels: Record<string, string>) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels },
    spec: { nodeName: serverNode, containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] },
  });
  await apply([
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-m2', labels: { app: 'web' } },
      spec: { nodeName: 'm2', containers: [{ name: 'agnhost', image: 'registry.k8s.io/e2e-test-images/agnhost:2.52', args: ['serve-hostname'], ports: [{ name: 'http', containerPort: 9376 }] }] } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] } },
    busybox('client', { role: 'client' }), busybox('other', { role: 'other' }),
  ]);
  await until('every Pod Ready', 90_000, async () => {
    const ps = (await json<{ items: Pod[] }>(k, ['get', 'pods'])).items;
    return ps.length === 3 && ps.every(ready) ? true : undefined;
  });
  const svcIP = (await k(['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
  assert.match(svcIP, /^\d+\.\d+\.\d+\.\d+$/);
  /** One request from `pod` to the Service's ClusterIP (3 s): the answering Pod's name, or '' when nothing answered. */
  const get = async (pod: string): Promise<string> =>
    (await k(['exec', pod, '--', 'sh', '-c', `timeout 3 wget -qO- http://${svcIP}; true`], { timeoutMs: 30_000 })).stdout.trim();
  await until('client → web through the ClusterIP before any policy', 30_000, async () => (await get('client')) === 'web-m2' || undefined);
  assert.equal(await get('other'), 'web-m2');

  const policyTable = async (node: 'joined' | 'server') => {
    const netns = `cip-${(node === 'joined' ? joined : server).record().id}-n0`;
    const r = await runCmd(['ip', 'netns', 'exec', netns, 'nft', 'list', 'table', 'inet', 'clusterip-policy']);
    return r.code === 0 ? r.stdout : '';
  };

  // Default deny for the server: applied on m2, where it runs.
  await apply([{ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'deny-web' }, spec: { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'] } }]);
  await until('the joined node isolates web-m2', 30_000, async () => (await policyTable('joined')).includes('NetworkPolicy ingress: default/deny-web') || undefined);
  assert.doesNotMatch(await policyTable('server'), /default\/deny-web/, 'the server\'s node runs no selected Pod: no group chain there');
  await until('client → web dropped', 15_000, async () => (await get('client')) === '' || undefined);
  assert.equal(await get('other'), '', 'other → web dropped');

  // An allow rule naming the client (on the named port, as the Service's targetPort does).
  await apply([{ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'allow-client' }, spec: {
    podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'],
    ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }], ports: [{ protocol: 'TCP', port: 'http' }] }],
  } }]);
  await until('client → web restored', 15_000, async () => (await get('client')) === 'web-m2' || undefined);
  assert.equal(await get('other'), '', 'other → web still dropped');
  // The drop is counted on the joined node's table, the server's node saw nothing to judge.
  const counted = /counter packets (\d+) bytes \d+ drop comment "NetworkPolicy ingress:[^"]*default\/deny-web/.exec(await policyTable('joined'));
  assert.ok(counted && Number(counted[1]) > 0, `the joined node counted the drops:\n${await policyTable('joined')}`);

  // The policies gone: open again.
  assert.equal((await k(['delete', 'networkpolicy', 'deny-web', 'allow-client'])).code, 0);
  await until('other → web open again', 15_000, async () => (await get('other')) === 'web-m2' || undefined);
});

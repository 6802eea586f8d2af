/**
 * Chaos (real CLI, kubectl, kernel): while a client Pod sends requests to a Service by name in a
 * loop, each kind of process the cluster runs is killed with SIGKILL in turn — a container (nginx),
 * a Pod's sandbox holder, the DNS server, the proxy's `nft -i` session, and the daemon itself in the middle of a
 * `kubectl apply` — and after each the cluster must converge by itself: every Pod Running and
 * Ready, DNS answering, traffic from a Pod through every ClusterIP, ClusterIPs and objects intact,
 * restarts counted and announced by Events, no acknowledged write lost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Event, Pod } from 'kubernetes-types/core/v1.js';
import { topologyNames } from '../../src/cluster/topology.js';
import { upCluster, type UpCluster } from '../harness/up.js';
import {
  allPodsReady, clusterIPs, clusterProcesses, eventually, getPods, killHard, kubectlOk, onlyProcess, podNetns, serviceWorksFrom,
} from './recovery-helpers.js';
import type { ClusterProcess } from './recovery-helpers.js';

async function events(c: UpCluster): Promise<Event[]> {
  return (JSON.parse(await kubectlOk(c, ['get', 'events', '-A', '-o', 'json'])) as { items: Event[] }).items;
}

const restarts = (p: Pod | undefined): number => p?.status?.containerStatuses?.[0]?.restartCount ?? -1;

test('chaos: a container, the DNS server, the nft session and the daemon mid-apply are killed in turn; the cluster converges each time', async (t) => {
  const c = await upCluster(t);
  await kubectlOk(c, ['create', 'deployment', 'web', '--image=nginx', '--replicas=2']);
  await kubectlOk(c, ['expose', 'deployment', 'web', '--port=80']);
  // The traffic that runs through every kill: by name (DNS) to the ClusterIP, 5 times a second.
  await kubectlOk(c, ['run', 'client', '--image=busybox', '--', 'sh', '-c',
    'while true; do if timeout 2 wget -qO- http://web >/dev/null 2>&1; then echo ok; else echo fail; fi; sleep 0.2; done']);
  await kubectlOk(c, ['rollout', 'status', 'deployment/web', '--timeout=60s'], 70_000);
  await kubectlOk(c, ['wait', '--for=condition=Ready', 'pod/client', '--timeout=60s'], 70_000);
  const ips = await clusterIPs(c);
  const id = c.record.id;

  /** Everything that must hold again after each kill. */
  const converged = (what: string, services: Record<string, string> = ips): Promise<void> => eventually(`${what}: converged`, async () => {
    await allPodsReady(c);
    assert.deepEqual(await clusterIPs(c), services, 'ClusterIPs intact');
    for (const [key, ip] of Object.entries(services)) {
      if (key.startsWith('default/web')) await serviceWorksFrom(c, 'client', key.slice('default/'.length), ip);
    }
  }, 30_000, 300);
  await converged('before any kill');

  // 1. A container: nginx's master process in one web Pod.
  const web = (await getPods(c)).find((p) => p.metadata!.name!.startsWith('web-'))!;
  await killHard((await onlyProcess(id, podNetns(id, web), /^nginx: master/)).pid);
  await converged('nginx killed');
  const web2 = (await getPods(c)).find((p) => p.metadata!.uid === web.metadata!.uid);
  assert.equal(restarts(web2), 1, 'the killed container was restarted once, in the same Pod');
  const started = (await events(c)).filter((e) => e.involvedObject?.uid === web.metadata!.uid && e.reason === 'Started');
  // Repeats of one event are one Event with a count (as client-go aggregates the kubelet's): "Started (x2)".
  assert.equal(started.reduce((n, e) => n + (e.count ?? 1), 0), 2, 'a Started Event for the first start and one for the restart');

  // 1b. A Pod sandbox: the holder process that keeps the other web Pod's namespaces.
  const other = (await getPods(c)).find((p) => p.metadata!.name!.startsWith('web-') && p.metadata!.uid !== web.metadata!.uid)!;
  await killHard((await onlyProcess(id, podNetns(id, other), /^sleep infinity/)).pid);
  await eventually('the sandbox re-created', async () => {
    const p = (await getPods(c)).find((x) => x.metadata!.uid === other.metadata!.uid);
    assert.equal(restarts(p), 1, 'its container restarted in the new sandbox');
    assert.equal(p?.status?.podIP, other.status?.podIP, 'same Pod, same IP');
  });
  assert.ok((await events(c)).some((e) => e.involvedObject?.uid === other.metadata!.uid && e.reason === 'SandboxChanged'));
  await converged('sandbox holder killed');

  // 2. The DNS server (the kube-dns Pod's process).
  const dns = (await getPods(c)).find((p) => p.metadata!.namespace === 'kube-system')!;
  await killHard((await onlyProcess(id, podNetns(id, dns), /dns\/main/)).pid);
  await converged('DNS server killed');
  assert.equal(restarts((await getPods(c)).find((p) => p.metadata!.uid === dns.metadata!.uid)), 1, 'the DNS server was restarted once');

  // 3. The long-lived nft -i sessions in the node namespace: the proxy's and the NetworkPolicy
  // enforcer's (src/netpol). Both are killed; both are started again. The enforcer runs its session
  // only while a NetworkPolicy exists: one that selects no Pod changes no traffic.
  const node = topologyNames(id).node(0);
  const sessions = async (): Promise<ClusterProcess[]> => (await clusterProcesses(id)).filter((p) => p.netns === node && /^nft -i/.test(p.cmd));
  assert.equal((await sessions()).length, 1, 'without a NetworkPolicy only the proxy runs nft -i');
  await kubectlOk(c, ['apply', '-f', await c.file('policy.yaml',
    'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: selects-nothing\nspec:\n  podSelector:\n    matchLabels:\n      app: nothing-here\n  policyTypes: [Ingress]\n')]);
  const before = await eventually('the enforcer\'s nft -i', async () => {
    const now = await sessions();
    assert.equal(now.length, 2, `the proxy's and the NetworkPolicy enforcer's nft -i: ${JSON.stringify(now)}`);
    return now;
  }, 10_000);
  for (const p of before) await killHard(p.pid);
  const ev = await eventually('KernelSessionRestarted Event', async () => {
    const e = (await events(c)).find((x) => x.reason === 'KernelSessionRestarted');
    assert.ok(e, 'no Event yet');
    return e;
  });
  assert.equal(ev.involvedObject?.kind, 'Node');
  assert.match(ev.message ?? '', /nft -i.*SIGKILL/);
  await eventually('two new nft -i', async () => {
    const now = await sessions();
    assert.equal(now.length, 2, JSON.stringify(now));
    assert.ok(now.every((p) => !before.some((b) => b.pid === p.pid)), 'both are new processes');
  }, 10_000);
  // Programming still works: a new Service gets rules and carries traffic.
  await kubectlOk(c, ['expose', 'deployment', 'web', '--name=web-b', '--port=80']);
  const withB = await eventually('web-b allocated', async () => {
    const now = await clusterIPs(c);
    assert.ok(now['default/web-b']);
    return now;
  });
  await converged('nft -i killed', withB);

  // 4. The daemon, in the middle of a kubectl apply (and of the client's traffic).
  const manifest = Array.from({ length: 40 }, (_, i) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\ndata:\n  i: "${i}"\n`).join('---\n');
  const file = await c.file('cms.yaml', manifest);
  let killed: Promise<void> | undefined;
  const apply = await c.kubectl(['apply', '-f', file], {
    timeoutMs: 60_000,
    onStdout: (out) => {
      if (!killed && (out.match(/ created/g) ?? []).length >= 8) killed = killHard(c.record.pid!);
    },
  });
  await killed;
  assert.ok(killed, `the daemon was killed during the apply: ${apply.stdout}`);
  const acknowledged = [...apply.stdout.matchAll(/configmap\/(cm-\d+) created/g)].map((m) => m[1]!);
  assert.ok(acknowledged.length >= 8 && acknowledged.length < 40, `apply was cut short: ${apply.stdout}${apply.stderr}`);
  const rec = await c.upAgain();
  c.record = rec;
  const stored = (await kubectlOk(c, ['get', 'configmaps', '-o', 'jsonpath={.items[*].metadata.name}'])).split(/\s+/);
  for (const name of acknowledged) assert.ok(stored.includes(name), `acknowledged write ${name} survived the crash`);
  await kubectlOk(c, ['apply', '-f', file]);
  assert.equal((await kubectlOk(c, ['get', 'configmaps', '-o', 'name'])).split('\n').filter((l) => l.startsWith('configmap/cm-')).length, 40);
  await converged('daemon killed mid-apply', withB);

  // The client's traffic ran through all of it in one Pod that never restarted, and flows now.
  const client = (await getPods(c)).find((p) => p.metadata!.name === 'client');
  assert.equal(restarts(client), 0);
  const log = await kubectlOk(c, ['logs', 'client']);
  assert.match(log, /ok\n$/, `the client's latest requests succeed: ${log.slice(-200)}`);
  t.diagnostic(`client requests during the test: ${(log.match(/^ok$/gm) ?? []).length} ok, ${(log.match(/^fail$/gm) ?? []).length} failed`);
});

/**
 * Nodes on other machines (issue 22), on one host: three "machines", each its own network namespace
 * and its own processes, joined only by an underlay bridge and sharing no files
 * (test/harness/machines.ts). Machine 1 runs the API server with its embedded etcd and one node
 * (`clusterip up --embedded-etcd --advertise-address`), machines 2 and 3 each join one node with the
 * command `up` printed. Checked with the real kubectl and real Pods:
 * - the joined nodes are Ready with distinct Pod CIDRs from node IPAM and their VXLAN VTEPs published;
 * - Pod → Pod and Pod → ClusterIP across machines, names through cluster DNS, and the `kubernetes`
 *   Service from a joined machine's Pod;
 * - bad joins (wrong token, wrong CA hash, a duplicate node name) are refused with the reason and
 *   register nothing;
 * - a partition (machine 3's link down, then up): NotReady, its endpoints not ready, then Ready and
 *   ready again without eviction;
 * - a node's death (its daemon SIGKILLed): NotReady after the grace period, its endpoints not ready
 *   at once, its Deployment Pod replaced on another node after --pod-eviction-timeout; and its
 *   return: Ready again, the evicted Pod's leftovers ended, traffic to it again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMachines, type Machine, type Machines, type Started } from '../harness/machines.js';
import { clusterId } from '../../src/cluster/state.js';
import { listNetns } from '../../src/sys/netns.js';
import { run as runCmd } from '../../src/sys/command.js';
import { podHash } from '../../src/node/podnames.js';
import type { KubectlRunner } from '../harness/kubectl.js';
import { isReady as ready, kubectlJson as json, until } from '../harness/waits.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));


/** A Pod pinned to `node` (serve-hostname answers its own name on :9376). */
function webPod(name: string, node: string): object {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'web' } },
    spec: { nodeName: node, containers: [{ name: 'agnhost', image: 'registry.k8s.io/e2e-test-images/agnhost:2.52', args: ['serve-hostname'], ports: [{ containerPort: 9376 }] }] },
  };
}

test('three machines: join, cross-machine Pod and Service traffic, DNS, bad joins refused, a node dies and returns', { timeout: 300_000 }, async (t) => {
  const ms = await createMachines(t, 3);
  const [m1, m2, m3] = ms.list as [typeof ms.list[0], typeof ms.list[0], typeof ms.list[0]];
  const server = await ms.up(m1, ['--embedded-etcd', '--advertise-address', m1.ip, '--node-monitor-grace-period', '2', '--pod-eviction-timeout', '8']);
  const k = server.kubectl;
  const joinCmd = server.record().joinCommand!;
  assert.match(joinCmd, new RegExp(`^clusterip join --server https://${m1.ip.replace(/\./g, '\\.')}:\\d+ --token K10[0-9a-f]{64}::[a-z0-9]{6}\\.[a-z0-9]{16}$`));
  const [, , , url, , token] = joinCmd.split(' ') as string[];
  const serverNode = `${server.name}-node`;

  // Bad joins first (from machine 2): refused with the reason, nothing registered, nothing left on the machine.
  const wrongSecret = token!.replace(/\.[a-z0-9]{16}$/, '.0000000000000000');
  const refused: string[] = [];
  let r = await ms.tryJoin(m2, ['--server', url!, '--token', wrongSecret, '--node-name', 'bad-token']);
  refused.push(r.name);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Unauthorized: the bootstrap token is not valid: no token with this id and secret exists in the cluster/);
  const otherCa = token!.replace(/^K10[0-9a-f]{8}/, 'K1000000000');
  r = await ms.tryJoin(m2, ['--server', url!, '--token', otherCa, '--node-name', 'bad-ca']);
  refused.push(r.name);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /the cluster CA of https:\/\/192\.168\.77\.1:\d+ does not match the CA hash in the token.*nothing secret was sent/);
  r = await ms.tryJoin(m2, ['--server', url!, '--token', token!, '--node-name', serverNode]);
  refused.push(r.name);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`nodes "${serverNode}" already exists: it was registered by another machine`));

  // Token management on the API server's machine: create, list (never the secret), delete; a deleted token no longer joins.
  const created = await m1.cli(['token', 'create', '--name', server.name, '--state-dir', server.stateDir, '--ttl', '30m', '--description', 'for the test', '--print-join-command']);
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, new RegExp(`^clusterip join --server ${url!.replace(/\./g, '\\.')} --token K10[0-9a-f]{64}::([a-z0-9]{6})\\.[a-z0-9]{16}\n$`));
  const [, extraId, extraSecret] = /::([a-z0-9]{6})\.([a-z0-9]{16})/.exec(created.stdout)!;
  const listed = await m1.cli(['token', 'list', '--name', server.name, '--state-dir', server.stateDir]);
  assert.match(listed.stdout, /^TOKEN\s+TTL\s+EXPIRES\s+USAGES\s+DESCRIPTION$/m);
  assert.match(listed.stdout, new RegExp(`^${extraId}\\.<secret>\\s+1h\\s+\\S+\\s+join-node\\s+for the test$`, 'm'));
  assert.match(listed.stdout, /<forever>\s+<never>\s+join-node\s+default node-token \(clusterip up\)/);
  assert.ok(!listed.stdout.includes(extraSecret!), 'no secret listed');
  assert.equal((await m1.cli(['token', 'delete', '--name', server.name, '--state-dir', server.stateDir, extraId!])).code, 0);
  r = await ms.tryJoin(m2, ['--server', url!, '--token', /--token (\S+)/.exec(created.stdout)![1]!, '--node-name', 'deleted-token']);
  refused.push(r.name);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /the bootstrap token is not valid/);

  // Two good joins, timed as the user sees them.
  const t0 = Date.now();
  const j2 = await ms.join(m2, ['--server', url!, '--token', token!, '--node-name', 'm2']);
  t.diagnostic(`join of m2 until Ready: ${Date.now() - t0} ms (CLI included)`);
  const j3 = await ms.join(m3, ['--server', url!, '--token', token!, '--node-name', 'm3']);
  // The same name from the other machine: refused, m2 untouched.
  r = await ms.tryJoin(m3, ['--server', url!, '--token', token!, '--node-name', 'm2']);
  refused.push(r.name);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /nodes "m2" already exists: it was registered by another machine \(its node password does not match this one's\)/);
  const nodes = (await json<{ items: Node[] }>(k, ['get', 'nodes'])).items;
  assert.deepEqual(nodes.map((n) => n.metadata!.name).sort(), ['m2', 'm3', serverNode].sort(), 'no refused join left a Node');
  assert.ok(nodes.every(ready), 'every node Ready');
  const cidrs = nodes.map((n) => n.spec!.podCIDR!);
  assert.equal(new Set(cidrs).size, 3, `distinct Pod CIDRs: ${cidrs.join(' ')}`);
  for (const n of nodes) assert.equal(n.metadata?.annotations?.['flannel.alpha.coreos.com/backend-type'], 'vxlan', n.metadata!.name);
  assert.equal(nodes.find((n) => n.metadata!.name === 'm3')!.metadata!.annotations!['flannel.alpha.coreos.com/public-ip'], m3.ip);
  // Refused joins made no namespace on their machine.
  const namespaces = await listNetns();
  for (const name of refused) assert.ok(!namespaces.some((n) => n.startsWith(`cip-${clusterId(name)}-`)), `a refused join (${name}) left a namespace`);
  assert.ok(namespaces.includes(`cip-${j2.record().id}-n0`));

  // Workloads: one web Pod per machine, a Service, client Pods on the joined machines.
  const apply = async (objs: object[]) => {
    const a = await k(['apply', '-f', '-'], { input: objs.map((o) => JSON.stringify(o)).join('\n') });
    assert.equal(a.code, 0, a.stderr);
  };
  await apply([
    webPod('web-1', serverNode), webPod('web-2', 'm2'), webPod('web-3', 'm3'),
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 9376 }] } },
    ...['m2', 'm3'].map((n) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `client-${n}` }, spec: { nodeName: n, containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] } })),
  ]);
  const pods = await until('every Pod Ready', 60_000, async () => {
    const ps = (await json<{ items: Pod[] }>(k, ['get', 'pods'])).items;
    return ps.length === 5 && ps.every(ready) ? new Map(ps.map((p) => [p.metadata!.name!, p])) : undefined;
  });
  const ip = (name: string) => pods.get(name)!.status!.podIP!;
  const inPod = (pod: string, cmd: string) => k(['exec', pod, '--', 'sh', '-c', cmd], { timeoutMs: 30_000 });

  // Pod → Pod across machines (m2 → m3, m2 → m1, m3 → m1) over VXLAN.
  for (const [from, to] of [['client-m2', 'web-3'], ['client-m2', 'web-1'], ['client-m3', 'web-1'], ['client-m3', 'web-2']] as const) {
    await until(`${from} → ${to}`, 15_000, async () => (await inPod(from, `timeout 3 wget -qO- http://${ip(to)}:9376`)).stdout.trim() === to);
  }
  // Pod → ClusterIP by name (cluster DNS; the DNS Pod runs on machine 1): every backend answers, on every machine.
  const ns = await inPod('client-m3', 'nslookup web.default.svc.cluster.local');
  const svcIP = (await k(['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
  assert.match(ns.stdout, new RegExp(`Address:\\s+${svcIP.replace(/\./g, '\\.')}`), ns.stdout + ns.stderr);
  const seen = new Set<string>();
  await until('all three backends through the ClusterIP from machine 3', 30_000, async () => {
    const out = await inPod('client-m3', 'for i in 1 2 3 4 5 6 7 8 9 10; do timeout 3 wget -qO- http://web; echo; done');
    for (const l of out.stdout.split('\n')) if (l.trim()) seen.add(l.trim());
    return seen.size === 3 ? true : undefined;
  });
  assert.deepEqual([...seen].sort(), ['web-1', 'web-2', 'web-3']);
  // The API server from a joined machine's Pod, through the kubernetes Service (401: reached, no token).
  const api = await inPod('client-m2', 'timeout 5 wget -S --no-check-certificate -qO- https://kubernetes.default.svc/api 2>&1; true');
  assert.match(api.stdout, /HTTP\/1\.1 401/, api.stdout);

  // A network partition: machine 3's link goes down for a moment. m3 goes NotReady and its endpoint
  // not ready; when the link returns (before the eviction timeout) the node posts Ready again and
  // its agent writes its Pods' readiness back, so the endpoint is ready again.
  const slices = async () => (await json<{ items: EndpointSlice[] }>(k, ['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web'])).items.flatMap((x) => x.endpoints);
  await runCmd(['ip', '-n', m3.netns, 'link', 'set', 'eth0', 'down']);
  await until('m3 unreachable while its link is down', 20_000, async () =>
    (await json<Node>(k, ['get', 'node', 'm3'])).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'Unknown');
  await until('web-3 not ready', 5_000, async () => (await slices()).find((e) => e.targetRef?.name === 'web-3')?.conditions?.ready === false);
  await runCmd(['ip', '-n', m3.netns, 'link', 'set', 'eth0', 'up']);
  await until('m3 Ready again after the partition', 20_000, async () => {
    const n = await json<Node>(k, ['get', 'node', 'm3']);
    return ready(n) && !(n.spec?.taints ?? []).some((x) => x.key.startsWith('node.kubernetes.io/'));
  });
  await until('web-3 ready again in the EndpointSlice', 20_000, async () => (await slices()).find((e) => e.targetRef?.name === 'web-3')?.conditions?.ready === true);
  assert.equal((await k(['get', 'pod', 'web-3', '-o', 'jsonpath={.metadata.deletionTimestamp}'])).stdout, '', 'not evicted: back before the eviction timeout');

  // A Deployment whose Pod runs on m3 (the other nodes cordoned while it is placed).
  await k(['cordon', serverNode, 'm2']);
  await apply([{
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'rep' },
    spec: { replicas: 1, selector: { matchLabels: { app: 'rep' } }, template: { metadata: { labels: { app: 'rep' } }, spec: { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] } } },
  }]);
  const repPod = await until('the Deployment Pod running on m3', 60_000, async () => {
    const p = (await json<{ items: Pod[] }>(k, ['get', 'pods', '-l', 'app=rep'])).items[0];
    return p && ready(p) ? p : undefined;
  });
  assert.equal(repPod.spec?.nodeName, 'm3');
  await k(['uncordon', serverNode, 'm2']);

  // m3 dies. From here on, the Nodes' overlay annotations and readiness are recorded over time
  // (printed if the traffic check below fails).
  const nodeHistory = watchNodes(k);
  t.after(() => nodeHistory.stop());
  await ms.kill(j3);
  const tDead = Date.now();
  await until('m3 NotReady', 20_000, async () => {
    const n = await json<Node>(k, ['get', 'node', 'm3']);
    return n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'Unknown';
  });
  const notReadyAfter = Date.now() - tDead;
  const slice = async () => (await json<{ items: EndpointSlice[] }>(k, ['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web'])).items.flatMap((s) => s.endpoints);
  await until('web-3 not ready in the EndpointSlice', 3_000, async () => slice().then((eps) => eps.find((e) => e.targetRef?.name === 'web-3')?.conditions?.ready === false));
  t.diagnostic(`m3 NotReady ${notReadyAfter} ms after its daemon died; its endpoint not ready ${Date.now() - tDead} ms after`);
  const node3 = await json<Node>(k, ['get', 'node', 'm3']);
  assert.deepEqual(node3.spec?.taints?.map((x) => `${x.key}:${x.effect}`).sort(), ['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
  // Traffic to the Service now avoids m3.
  const after = await inPod('client-m2', 'for i in 1 2 3 4 5 6 7 8; do timeout 3 wget -qO- http://web; echo; done');
  assert.doesNotMatch(after.stdout, /web-3/);
  assert.match(after.stdout, /web-1|web-2/);
  // After --pod-eviction-timeout, the Deployment's Pod is replaced on a live node.
  const replacement = await until('the Deployment Pod replaced on another node', 30_000, async () => {
    const ps = (await json<{ items: Pod[] }>(k, ['get', 'pods', '-l', 'app=rep'])).items;
    return ps.find((p) => p.spec?.nodeName !== 'm3' && ready(p));
  });
  assert.notEqual(replacement.spec?.nodeName, 'm3');
  const old = await json<Pod>(k, ['get', 'pod', repPod.metadata!.name!]);
  assert.ok(old.metadata?.deletionTimestamp, 'the Pod on the dead node is Terminating (it cannot confirm while its node is away)');

  // m3 returns (the same command; its credentials are kept, no token needed).
  const back = await m3.cli(['join', '--name', j3.name, '--state-dir', j3.stateDir, '--detach', '--server', url!, '--node-name', 'm3']);
  assert.equal(back.code, 0, back.stdout + back.stderr);
  await until('m3 Ready without taints', 20_000, async () => {
    const n = await json<Node>(k, ['get', 'node', 'm3']);
    return ready(n) && !(n.spec?.taints ?? []).some((x) => x.key.startsWith('node.kubernetes.io/'));
  });
  await until('the evicted Pod gone once its node ended it', 30_000, async () => (await k(['get', 'pod', repPod.metadata!.name!])).stderr.includes('NotFound'));
  await apply([webPod('web-3b', 'm3')]);
  const web3b = await until('a new Pod on m3 Ready', 30_000, async () => {
    const p = await json<Pod>(k, ['get', 'pod', 'web-3b']);
    return ready(p) ? p : undefined;
  });
  // Ready means started (no readiness probe): the server may take a moment to bind its port.
  // Each attempt also records the packet counters along the path (m2's vxlan0 and machine eth0, the
  // underlay, m3's machine eth0, UDP and vxlan0): where a lost packet stops.
  const path: string[] = [];
  await until('m2 → the new Pod on m3', 30_000, async () => {
    const r = await inPod('client-m2', `timeout 3 wget -qO- http://${web3b.status!.podIP}:9376`);
    if (r.stdout.trim() === 'web-3b') return true;
    path.push(`${new Date().toISOString()} wget → ${r.code} ${r.stderr.trim()}\n${await pathCounters(ms, m2, m3, [j2, j3])}`);
    return undefined;
  })
    .catch(async (e: unknown) => {
      t.diagnostic(`Nodes over time (overlay annotations, Ready):\n${nodeHistory.stop().join('\n')}`);
      t.diagnostic(`Path counters after each failed attempt:\n${path.join('\n')}`);
      await dumpState(t, k, [j2, j3], web3b, pods.get('client-m2')!);
      throw e;
    });
  if (path.length) t.diagnostic(`attempts that failed before one passed:\n${path.join('\n')}`);
  t.diagnostic(`web-3b got ${web3b.status!.podIP} (web-3 had ${ip('web-3')}, client-m3 ${ip('client-m3')}, the Deployment Pod ${repPod.status!.podIP}, its replacement placed on ${replacement.spec?.nodeName})`);
  // kubectl logs of a Pod on a joined node: passed on to that node's stream server.
  const logs = await k(['logs', 'client-m2']);
  assert.equal(logs.code, 0, logs.stderr);
});

/** Packet counters and neighbours along the VXLAN path from m2's node to m3's node (one line per place). */
async function pathCounters(ms: Machines, m2: Machine, m3: Machine, nodes: Started[]): Promise<string> {
  const link = async (ns: string, dev: string): Promise<string> => {
    const r = await runCmd(['ip', '-n', ns, '-s', '-j', 'link', 'show', 'dev', dev]);
    try {
      const [l] = JSON.parse(r.stdout) as [{ stats64: { rx: { packets: number; dropped: number }; tx: { packets: number; dropped: number } } }];
      return `${dev} rx ${l.stats64.rx.packets}/${l.stats64.rx.dropped}d tx ${l.stats64.tx.packets}/${l.stats64.tx.dropped}d`;
    } catch { return `${dev}: ${r.stderr.trim()}`; }
  };
  const udp = async (ns: string): Promise<string> => (await runCmd(['ip', 'netns', 'exec', ns, 'sh', '-c', 'nstat -az Udp* 2>&1 | grep -E "UdpInDatagrams|UdpNoPorts|UdpInErrors|UdpRcvbufErrors|UdpInCsumErrors"'])).stdout.replace(/\s+/g, ' ');
  const neigh = async (ns: string): Promise<string> => (await runCmd(['ip', '-n', ns, 'neigh'])).stdout.trim().replace(/\n/g, '; ');
  const [n2, n3] = nodes.map((s) => `cip-${s.record().id}-n0`) as [string, string];
  return [
    `  m2 node: ${await link(n2, 'vxlan0')}`,
    `  m2 machine: ${await link(m2.netns, 'eth0')} | neigh ${await neigh(m2.netns)} | ${await udp(m2.netns)}`,
    `  underlay: ${await link(`cip-m${ms.tag}-u`, 'm2')} ${await link(`cip-m${ms.tag}-u`, 'm3')} | fdb ${(await runCmd(['bridge', '-n', `cip-m${ms.tag}-u`, 'fdb', 'show', 'br', 'br0'])).stdout.split('\n').filter((l) => !l.includes('permanent')).join('; ')}`,
    `  m3 machine: ${await link(m3.netns, 'eth0')} | neigh ${await neigh(m3.netns)} | ${await udp(m3.netns)} | ${(await runCmd(['ip', 'netns', 'exec', m3.netns, 'ss', '-uanp'])).stdout.replace(/\s+/g, ' ')}`,
    `  m3 node: ${await link(n3, 'vxlan0')} ${await link(n3, 'cbr0')}`,
  ].join('\n');
}

/** Polls the Nodes every 500 ms, keeping each change of a node's overlay annotations, Ready condition and taints (with the time). */
function watchNodes(k: KubectlRunner): { stop(): string[] } {
  const lines: string[] = [];
  const last = new Map<string, string>();
  let stopped = false;
  const t0 = Date.now();
  void (async () => {
    while (!stopped) {
      try {
        for (const n of (await json<{ items: Node[] }>(k, ['get', 'nodes'])).items) {
          const a = n.metadata?.annotations ?? {};
          const v = [a['flannel.alpha.coreos.com/backend-data'], a['flannel.alpha.coreos.com/public-ip'],
            `Ready=${n.status?.conditions?.find((c) => c.type === 'Ready')?.status}`, (n.spec?.taints ?? []).map((x) => `${x.key}:${x.effect}`).join(',')].join(' ');
          if (last.get(n.metadata!.name!) !== v) { last.set(n.metadata!.name!, v); lines.push(`+${Date.now() - t0} ms ${n.metadata!.name}: ${v}`); }
        }
      } catch (e) { lines.push(`+${Date.now() - t0} ms error: ${(e as Error).message}`); }
      await sleep(500);
    }
  })();
  return { stop() { stopped = true; return lines; } };
}

/** What the kernel and the API show, for a failure that is hard to reproduce (printed as test diagnostics). */
async function dumpState(t: { diagnostic(msg: string): void }, k: KubectlRunner, nodes: Started[], pod: Pod, client: Pod): Promise<void> {
  const out = async (c: string[]): Promise<void> => {
    const r = await runCmd(c, { timeoutMs: 20_000 });
    t.diagnostic(`${c.join(' ')} → ${r.code}\n${r.stdout}${r.stderr}`);
  };
  const nodeNs = (s: Started) => `cip-${s.record().id}-n0`;
  const podNs = (s: Started, p: Pod) => `cip-${s.record().id}-p${podHash(p.metadata!.uid!)}`;
  const [n2, n3] = nodes as [Started, Started];
  const clientNs = podNs(n2, client);
  const serverNs = podNs(n3, pod);
  const ip = pod.status!.podIP!;
  // Every namespace of the two joined nodes (a leftover Pod namespace holding the same address shows here).
  const all = await listNetns();
  for (const s of nodes) {
    for (const n of all.filter((x) => x.startsWith(`cip-${s.record().id}-`))) await out(['ip', '-n', n, '-br', 'addr']);
  }
  for (const s of nodes) {
    const ns = nodeNs(s);
    for (const c of [['ip', '-n', ns, '-d', 'link'], ['ip', '-n', ns, 'route'], ['ip', '-n', ns, 'neigh'], ['bridge', '-n', ns, 'fdb', 'show'],
      ['ip', 'netns', 'exec', ns, 'conntrack', '-L'], ['ip', 'netns', 'exec', ns, 'nft', 'list', 'ruleset'],
      ['ip', 'netns', 'exec', ns, 'sh', '-c', 'grep -H . /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/conf/*/rp_filter /proc/sys/net/bridge/bridge-nf-call-iptables 2>&1']]) await out(c);
  }
  for (const ns of [clientNs, serverNs]) for (const c of [['ip', '-n', ns, 'addr'], ['ip', '-n', ns, 'route'], ['ip', '-n', ns, 'neigh']]) await out(c);
  await out(['ip', 'netns', 'exec', serverNs, 'ss', '-ltnp']);
  await out(['ip', 'netns', 'pids', serverNs]);
  // Where a packet from the client stops: link counters along the path around one ping and one wget.
  const counters = async (): Promise<string> => (await runCmd(['ip', '-n', nodeNs(n3), '-s', '-o', 'link'])).stdout + (await runCmd(['ip', '-n', nodeNs(n2), '-s', '-o', 'link'])).stdout;
  const before = await counters();
  await out(['ip', 'netns', 'exec', clientNs, 'busybox', 'ping', '-c', '3', '-W', '1', ip]);
  await out(['ip', 'netns', 'exec', clientNs, 'timeout', '5', 'wget', '-O-', `http://${ip}:9376`]);
  await out(['ip', 'netns', 'exec', serverNs, 'busybox', 'ping', '-c', '2', '-W', '1', client.status!.podIP!]);
  t.diagnostic(`link counters before the pings:\n${before}\nafter:\n${await counters()}`);
  for (const c of [['ip', 'netns', 'exec', nodeNs(n3), 'conntrack', '-L'], ['ip', 'netns', 'exec', nodeNs(n2), 'conntrack', '-L']]) await out(c);
  const wg = await k(['exec', client.metadata!.name!, '--', 'sh', '-c', `timeout 5 wget -O- http://${ip}:9376`], { timeoutMs: 30_000 });
  t.diagnostic(`kubectl exec wget → ${wg.code}\n${wg.stdout}${wg.stderr}`);
  // The node's agent log (RBAC refusals, errors).
  for (const s of nodes) {
    try {
      const log = readFileSync(join(s.stateDir, 'daemon.log'), 'utf8');
      t.diagnostic(`${s.name} daemon.log (last 200 lines):\n${log.split('\n').slice(-200).join('\n')}`);
    } catch (e) { t.diagnostic(`${s.name} daemon.log: ${(e as Error).message}`); }
  }
  for (const a of [['get', 'pods', '-o', 'wide'], ['get', 'nodes', '-o', 'yaml'], ['logs', pod.metadata!.name!], ['get', 'pod', pod.metadata!.name!, '-o', 'yaml'], ['get', 'events', '-A']]) {
    const r = await k(a);
    t.diagnostic(`kubectl ${a.join(' ')}\n${r.stdout}${r.stderr}`);
  }
}

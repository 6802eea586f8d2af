// `clusterip explain` against real clusters (`clusterip up`, real kubectl, real kernel): seed 004's
// app shows its 3 Pods and IPs, the nftables entries that carry them, DNS answers, and per-endpoint
// connection counters that grow after wgets from a busybox Pod; the same in iptables mode; the
// kubectl plugin; bad input (unknown Service, wrong namespace, malformed kind/name, a cluster that
// is not running).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { upCluster, runCli, type UpCluster } from '../harness/up.js';
import { seed004Manifest } from '../fixtures/seed004.js';
import { STATE_VERSION } from '../../src/cluster/state.js';
import type { PodExplanation, ServiceExplanation } from '../../src/inspect/types.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const afterHooks: (() => Promise<void>)[] = [];
const t = { after: (fn: () => Promise<void>) => { afterHooks.push(fn); } } as never;
after(async () => { for (const h of afterHooks.reverse()) await h(); });

let nft: UpCluster;
before(async () => { nft = await upCluster(t); });

async function ok(c: UpCluster, args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<string> {
  const r = await c.kubectl(args, opts);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

async function seed004(c: UpCluster): Promise<{ ip: string; pods: Map<string, string> }> {
  await ok(c, ['create', 'namespace', 'student-01']);
  await ok(c, ['apply', '-f', await c.file('seed004.yaml', seed004Manifest('01'))]);
  await ok(c, ['rollout', 'status', 'deployment/nginx-deployment-01', '-n', 'student-01', '--timeout=60s'], { timeoutMs: 70_000 });
  const ip = (await ok(c, ['get', 'svc', 'nginx-service-01', '-n', 'student-01', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
  const list = JSON.parse(await ok(c, ['get', 'pods', '-n', 'student-01', '-l', 'app=nginx-01', '-o', 'json'])) as { items: { metadata: { name: string }; status: { podIP: string } }[] };
  // Endpoints follow readiness; wait until the slice has all 3 before reading the rules.
  for (let i = 0; i < 100; i++) {
    const eps = await ok(c, ['get', 'endpoints', 'nginx-service-01', '-n', 'student-01', '-o', 'jsonpath={.subsets[*].addresses[*].ip}']);
    if (eps.trim().split(/\s+/).length === 3) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { ip, pods: new Map(list.items.map((p) => [p.metadata.name, p.status.podIP])) };
}

async function explainJson(c: UpCluster, target: string, ns = 'student-01'): Promise<ServiceExplanation> {
  const r = await c.cli(['explain', target, '-n', ns, '-o', 'json']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return JSON.parse(r.stdout) as ServiceExplanation;
}

/** Six wgets to the Service from a busybox Pod of its namespace (never from the host). */
async function sixWgets(c: UpCluster): Promise<void> {
  const r = await c.kubectl(['run', `wget-${Math.random().toString(36).slice(2, 7)}`, '--rm', '-i', '--restart=Never', '--image=busybox', '-n', 'student-01', '--',
    'sh', '-c', 'for i in 1 2 3 4 5 6; do wget -qO- http://nginx-service-01 | grep -m1 -c "Welcome to nginx!"; done'], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^(1\n){6}/);
}

const sumCounters = (e: ServiceExplanation): Map<string, number> => {
  const m = new Map<string, number>();
  for (const n of e.nodes) for (const p of n.ports) for (const ep of p.endpoints) m.set(ep.ip, (m.get(ep.ip) ?? 0) + (ep.counter?.packets ?? NaN));
  return m;
};

let seed: { ip: string; pods: Map<string, string> };

test('nftables: explain svc lists the 3 Pods and IPs, the nft entries that carry them, and the DNS answers', async () => {
  seed = await seed004(nft);
  const e = await explainJson(nft, 'svc/nginx-service-01');
  assert.equal(e.service.clusterIP, seed.ip);
  assert.deepEqual(new Map(e.pods.map((p) => [p.name, p.ip])), seed.pods, 'the 3 Pods with their IPs');
  for (const p of e.pods) {
    assert.equal(p.ready, true);
    assert.deepEqual(p.ports.map((x) => [x.servicePort, x.resolved, x.listening, x.listeners.map((l) => `${l.address}:${l.port}`)]), [['http', 80, 'yes', ['0.0.0.0:80']]]);
  }
  const node = e.nodes[0]!;
  assert.equal(node.mode, 'nftables');
  assert.equal(node.ports[0]!.state, 'endpoints');
  assert.deepEqual(node.ports[0]!.endpoints.map((x) => x.ip).sort(), [...seed.pods.values()].sort());
  for (const podIP of seed.pods.values()) {
    assert.match(node.text, new RegExp(`^\\t${seed.ip.replace(/\./g, '\\.')} \\. tcp \\. 80 \\. [0-2] counter packets \\d+ bytes \\d+ : ${podIP.replace(/\./g, '\\.')} \\. 80$`, 'm'));
  }
  assert.match(node.text, /^map service-ips \{\n\t\S+ \. tcp \. 80 counter packets \d+ bytes \d+ comment "student-01\/nginx-service-01:http" : goto tcp-endpoints-mod-3\n\}$/m);
  assert.ok(node.proxy && node.proxy.syncs > 0 && node.proxy.lastSyncAt, 'the proxy status of the node');
  const a = (name: string) => e.dns.find((d) => d.name === name);
  for (const n of ['nginx-service-01', 'nginx-service-01.student-01', 'nginx-service-01.student-01.svc.cluster.local']) assert.deepEqual(a(n)?.answers, [seed.ip], n);
  assert.deepEqual(a('_http._tcp.nginx-service-01.student-01.svc.cluster.local')?.answers, ['0 100 80 nginx-service-01.student-01.svc.cluster.local']);
  assert.equal(e.slices[0]!.endpoints.length, 3);
  assert.ok(e.slices[0]!.endpoints.every((x) => x.ready && x.pod && seed.pods.has(x.pod)));
});

test('nftables: the per-endpoint counters grow by exactly the connections made from a Pod', async () => {
  const before = sumCounters(await explainJson(nft, 'svc/nginx-service-01'));
  await sixWgets(nft);
  const after = sumCounters(await explainJson(nft, 'svc/nginx-service-01'));
  const delta = [...after].map(([ip, n]) => n - (before.get(ip) ?? 0));
  assert.equal(delta.reduce((x, y) => x + y, 0), 6, `six new connections spread over the endpoints: ${JSON.stringify([...after])} vs ${JSON.stringify([...before])}`);
  assert.ok(delta.every((d) => d >= 0));
});

test('nftables: the text view draws the path: DNS, VIP, rules with counters, endpoints, Pods, outside', async () => {
  const r = await nft.cli(['explain', 'svc/nginx-service-01', '-n', 'student-01']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^Service student-01/nginx-service-01  ClusterIP ${seed.ip.replace(/\./g, '\\.')}  selector app=nginx-01  affinity None$`, 'm'));
  assert.match(r.stdout, new RegExp(`^├─ VIP       ${seed.ip.replace(/\./g, '\\.')}:80/TCP \\(http\\) → targetPort 80`, 'm'));
  assert.match(r.stdout, /^│   80\/TCP \(http\): 3 endpoints, \d+ conns$/m);
  for (const [name, ip] of seed.pods) {
    assert.match(r.stdout, new RegExp(`^│   ✓ ${ip.replace(/\./g, '\\.')}  pod ${name}  on \\S+  ready  \\d+ conns?$`, 'm'));
    assert.match(r.stdout, new RegExp(`^│   ${name}  ${ip.replace(/\./g, '\\.')}  node \\S+  Running  ready$`, 'm'));
  }
  assert.match(r.stdout, /^└─ outside   not reachable: a ClusterIP exists only inside the cluster network/m);
});

test('explain pod/NAME: its Services and the kernel entry that sends to it', async () => {
  const [name, ip] = [...seed.pods][0]!;
  const r = await nft.cli(['explain', `pod/${name}`, '-n', 'student-01', '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const e = JSON.parse(r.stdout) as PodExplanation;
  assert.equal(e.pod.ip, ip);
  assert.equal(e.services.length, 1);
  assert.equal(e.services[0]!.service.name, 'nginx-service-01');
  assert.equal(e.services[0]!.endpoint?.ready, true);
  assert.equal(e.services[0]!.rules[0]!.endpoint?.ip, ip);
  assert.deepEqual(e.dns[0]!.answers, [ip], 'the Pod A record');
});

test('kubectl plugin: kubectl finds kubectl-clusterip on PATH; cluster from the context', async () => {
  const bin = await mkdtemp(join(tmpdir(), 'cip-plugin-'));
  afterHooks.push(() => rm(bin, { recursive: true, force: true }));
  const loader = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
  await writeFile(join(bin, 'kubectl-clusterip'), `#!/bin/sh\nexec "${process.execPath}" --import ${loader} ${join(ROOT, 'src', 'cli', 'kubectl-clusterip.ts')} "$@"\n`);
  await chmod(join(bin, 'kubectl-clusterip'), 0o755);
  const env = { PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` };
  const list = await nft.kubectl(['plugin', 'list'], { env });
  assert.match(list.stdout, /kubectl-clusterip/);
  const r = await nft.kubectl(['clusterip', 'explain', 'svc/nginx-service-01', '-n', 'student-01', '--state-dir', nft.stateDir], { env, timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Service student-01\/nginx-service-01  ClusterIP /m);
  const help = await nft.kubectl(['clusterip', 'diagnose', '--help'], { env });
  assert.match(help.stdout, /^kubectl clusterip diagnose \[svc\/NAME\] \[flags\]/);
  const d = await nft.kubectl(['clusterip', 'diagnose', 'svc/nginx-servce-01', '-n', 'student-01', '--state-dir', nft.stateDir], { env, timeoutMs: 30_000 });
  assert.equal(d.code, 1);
  assert.match(d.stdout, /^      kubectl clusterip diagnose svc\/nginx-service-01 -n student-01$/m, 'fixes say kubectl clusterip');
});

test('bad input: unknown Service, wrong namespace, malformed kind/name — non-zero exit naming the nearest', async () => {
  const typo = await nft.cli(['explain', 'svc/nginx-servce-01', '-n', 'student-01']);
  assert.equal(typo.code, 1);
  assert.equal(typo.stderr, 'error: service "nginx-servce-01" not found in namespace "student-01"; did you mean svc/nginx-service-01?\n');
  const wrongNs = await nft.cli(['explain', 'svc/nginx-service-01']);
  assert.equal(wrongNs.code, 1);
  assert.equal(wrongNs.stderr, 'error: service "nginx-service-01" not found in namespace "default"; did you mean svc/nginx-service-01 -n student-01?\n');
  const kind = await nft.cli(['explain', 'svcs/nginx-service-01', '-n', 'student-01']);
  assert.equal(kind.code, 2);
  assert.match(kind.stderr, /^error: unknown kind "svcs" in "svcs\/nginx-service-01": expected svc\/NAME or pod\/NAME \(did you mean svc\/nginx-service-01\?\)$/m);
  const pod = await nft.cli(['explain', 'pod/nginx-deployment-01', '-n', 'student-01']);
  assert.equal(pod.code, 1);
  assert.match(pod.stderr, /did you mean pod\/nginx-deployment-01-\S+, or pod\/nginx-deployment-01-\S+, or pod\/nginx-deployment-01-\S+\?/);
  const flag = await nft.cli(['diagnose', '--bogus']);
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /^error: Unknown option '--bogus'/);
});

test('a cluster that is not running gets one clear line', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cip-stopped-'));
  afterHooks.push(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'state'));
  await writeFile(join(dir, 'state', 'cluster.json'), JSON.stringify({
    stateVersion: STATE_VERSION, name: 'stopped', id: '00000000', pid: 2 ** 22 + 17, apiPort: 1, apiURL: 'https://127.0.0.1:1', unixSocket: join(dir, 'state', 'api.sock'),
    kubeconfig: join(dir, 'kc'), context: 'clusterip-stopped', nodes: 1, proxyMode: 'nftables', serviceCIDR: '10.96.0.0/12', podCIDR: '10.244.0.0/16',
  }));
  for (const cmd of [['explain', 'svc/x'], ['diagnose', 'svc/x'], ['diagnose']]) {
    const r = await runCli([cmd[0]!, '--name', 'stopped', '--state-dir', join(dir, 'state'), ...cmd.slice(1)]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `error: cluster "stopped" is not running; start it with 'clusterip up --name stopped'\n`);
  }
  const none = await runCli(['explain', 'svc/x', '--name', 'nosuchcluster', '--state-dir', join(dir, 'nothing')]);
  assert.equal(none.code, 1);
  assert.equal(none.stderr, `error: no cluster named "nosuchcluster" (nothing in ${join(dir, 'nothing')}); start one with 'clusterip up --name nosuchcluster'\n`);
});

test('iptables mode: the KUBE-SERVICES / KUBE-SVC / KUBE-SEP rules as iptables-save -c prints them, and counters that grow', async () => {
  const ipt = await upCluster(t, { proxyMode: 'iptables' });
  const s = await seed004(ipt);
  const before = await explainJson(ipt, 'svc/nginx-service-01');
  const node = before.nodes[0]!;
  assert.equal(node.mode, 'iptables');
  assert.deepEqual(node.ports[0]!.endpoints.map((x) => x.ip).sort(), [...s.pods.values()].sort());
  assert.match(node.text, new RegExp(`^\\[\\d+:\\d+\\] -A KUBE-SERVICES -d ${s.ip.replace(/\./g, '\\.')}/32 -p tcp -m tcp --dport 80 -m comment --comment "student-01/nginx-service-01:http cluster IP" -j KUBE-SVC-\\w+$`, 'm'));
  for (const podIP of s.pods.values()) assert.match(node.text, new RegExp(`^\\[\\d+:\\d+\\] -A KUBE-SEP-\\w+ .*-j DNAT --to-destination ${podIP.replace(/\./g, '\\.')}:80$`, 'm'));
  await sixWgets(ipt);
  const after = sumCounters(await explainJson(ipt, 'svc/nginx-service-01'));
  const b = sumCounters(before);
  assert.equal([...after].reduce((n, [ip, v]) => n + v - (b.get(ip) ?? 0), 0), 6);
});

/**
 * NetworkPolicy rule sets in the real kernel (root), in scratch namespaces made here:
 * - every golden transaction is accepted by nft, and a table reached by incremental transactions
 *   lists exactly as the same state written whole;
 * - real traffic on a bridge laid out as a node (br_netfilter, echo "Pods"): default deny, an allow
 *   rule on a named port, ipBlock with except, egress deny and allow, established replies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { runInNetns, netnsSpawn } from '../../src/proxy/exec.js';
import { NftSession } from '../../src/proxy/nftables/session.js';
import { compilePolicy } from '../../src/netpol/compile.js';
import { fullTransaction, planIncremental, writtenFrom } from '../../src/netpol/plan.js';
import { rulesetFor } from '../../src/netpol/ruleset.js';
import { PolicySyncer } from '../../src/netpol/syncer.js';
import { CASES, NAMESPACES, PODS, policy, pod, snapshot } from '../../src/netpol/testing/cluster.js';
import type { PodInfo, PolicyInfo } from '../../src/netpol/model.js';
import { ProxyFixture, inNs } from './proxy-fixture.js';
import { TraceAssembler, type TracedRefusal } from '../../src/inspect/flowsparse.js';

function scratch(t: { after(fn: () => void): void }): string {
  const ns = `cip-npk-${randomBytes(4).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', ns]);
  t.after(() => { try { execFileSync('ip', ['netns', 'del', ns]); } catch { /* gone */ } });
  return ns;
}

async function nft(ns: string, text: string): Promise<void> {
  const r = await runInNetns(ns, ['nft', '-f', '-'], text);
  assert.equal(r.code, 0, `nft refused:\n${r.stderr}\n--- transaction:\n${text}`);
}

async function listing(ns: string): Promise<string> {
  const r = await runInNetns(ns, ['nft', 'list', 'table', 'inet', 'clusterip-policy']);
  assert.equal(r.code, 0, r.stderr);
  // Objects are listed in creation order, which differs between the two ways: compare them sorted.
  const text = r.stdout.replace(/counter packets \d+ bytes \d+/g, 'counter').trim().replace(/\n}$/, '');
  // Group and rule numbers are handed out in the order they appear, which differs between the two
  // ways: name each group number by its chain and each rule number by its rule's comment, and
  // compare map elements as sorted lists.
  const groupIds = new Map([...text.matchAll(/(0x[0-9a-f]{8}) : jump (\S+?)[,\s]/g)].map((m) => [m[1]!, m[2]!]));
  const ruleIds = new Map([...text.matchAll(/ct mark set (0x[0-9a-f]{8}) .*comment "([^"]+)"/g)].map((m) => [m[1]!, m[2]!]));
  const blocks = text.split(/\n(?=\t(?:chain|set|map) )/).map((b) => {
    const ids = /^\t?(?:map) (?:ingress|egress)-(?:pods|groups) /.test(b) ? groupIds : ruleIds;
    return b.replace(/0x[0-9a-f]{8}/g, (id) => `#${ids.get(id) ?? id}`)
      .replace(/elements = \{([^}]*)\}/g, (_m, els: string) => `elements = { ${els.split(',').map((e) => e.trim()).sort().join(', ')} }`);
  });
  return blocks.map((b) => b.trim()).sort().join('\n');
}

test('kernel accepts every golden case', async (t) => {
  const ns = scratch(t);
  for (const [name, policies] of Object.entries(CASES)) {
    await nft(ns, fullTransaction(rulesetFor(policies, snapshot(), 'node-0'))).catch((e: unknown) => { throw new Error(`${name}: ${String(e)}`); });
  }
});

test('incremental transactions leave the table as a full write of the same state', async (t) => {
  const inc = scratch(t);
  const full = scratch(t);
  const session = new NftSession(netnsSpawn(inc));
  t.after(() => session.close());
  // A walk through changes: policies arrive, Pods come and go, labels change, policies leave.
  let pods: PodInfo[] = [...PODS];
  let policies: PolicyInfo[] = [];
  const steps: { name: string; run(): void }[] = [
    { name: 'deny-all', run: () => { policies = [...CASES['default-deny-ingress']!]; } },
    { name: 'allow named port', run: () => { policies = [...CASES['allow-client-named-port']!]; } },
    { name: 'new web Pod', run: () => { pods = [...pods, pod('default', 'web-3', '10.244.0.12', 'node-0', { app: 'web' }, [{ name: 'http', protocol: 'TCP', port: 9000 }])]; } },
    { name: 'client leaves', run: () => { pods = pods.filter((p) => p.name !== 'client'); } },
    { name: 'all cases', run: () => { policies = Object.values(CASES).flat().filter((p, i, a) => a.findIndex((x) => x.key === p.key) === i); } },
    { name: 'web-1 relabelled', run: () => { pods = pods.map((p) => (p.name === 'web-1' ? { ...p, labels: { app: 'api' } } : p)); } },
    { name: 'ipBlock narrowed', run: () => { policies = policies.map((p) => (p.name === 'web-ranges' ? policy('default', 'web-ranges', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.244.0.0/16'] } }] }] }) : p)); } },
    { name: 'deny-all gone', run: () => { policies = policies.filter((p) => p.name !== 'deny-all'); } },
    { name: 'everything gone', run: () => { policies = []; } },
  ];
  const syncer = new PolicySyncer('node-0', (argv, stdin) => runInNetns(inc, argv, stdin), session);
  for (const n of NAMESPACES) syncer.namespaceChanged(undefined, n);
  for (const p of pods) syncer.podChanged(undefined, p);
  assert.equal((await syncer.sync()).full, true);
  let prevPods = new Map(pods.map((p) => [p.key, p]));
  let prevPolicies = new Map<string, PolicyInfo>();
  for (const step of steps) {
    step.run();
    const curPods = new Map(pods.map((p) => [p.key, p]));
    for (const [k, p] of prevPods) if (!curPods.has(k)) syncer.podChanged(p, undefined);
    for (const [k, p] of curPods) if (prevPods.get(k) !== p) syncer.podChanged(prevPods.get(k), p);
    const curPolicies = new Map(policies.map((p) => [p.key, p]));
    for (const k of prevPolicies.keys()) if (!curPolicies.has(k)) syncer.policyChanged(k, undefined);
    for (const [k, p] of curPolicies) if (prevPolicies.get(k) !== p) syncer.policyChanged(k, p);
    prevPods = curPods;
    prevPolicies = curPolicies;
    const r = await syncer.sync().catch((e: unknown) => { throw new Error(`${step.name}: ${String(e)}`); });
    assert.equal(r.full, false, step.name);
    await nft(full, fullTransaction(rulesetFor(policies, snapshot(pods), 'node-0')));
    assert.equal(await listing(inc), await listing(full), `after "${step.name}"`);
  }
});

test('planIncremental alone agrees with the syncer (pure model round trip)', () => {
  const rs = rulesetFor([], snapshot(), 'node-0');
  const w = writtenFrom(rs);
  for (const p of Object.values(CASES).flat()) rs.setFragment(p.key, compilePolicy(p, snapshot(), 'node-0', rs.numbers));
  planIncremental(w, rs, rs.takeChanged()).commit();
  assert.equal(fullTransaction(w), fullTransaction(rs));
});

/** Whether a TCP connection from `ns` to ip:port is established within 1 s (a drop times out). */
function connects(ns: string, ip: string, port: number): boolean {
  const r = spawnSync('ip', ['netns', 'exec', ns, 'timeout', '1', 'bash', '-c', `exec 3<>/dev/tcp/${ip}/${port}`], { stdio: 'ignore' });
  return r.status === 0;
}

test('traffic through a node bridge: deny, named-port allow, ipBlock except, egress, established replies', async (t) => {
  const fx = new ProxyFixture();
  t.after(() => fx.cleanup());
  fx.setup();
  const web = await fx.addPod('web', ['tcp:8080', 'tcp:9090']);
  const client = fx.addClient();
  const other = fx.addClient();
  const pods: PodInfo[] = [
    pod('default', 'web', web.ip, 'node-0', { app: 'web' }, [{ name: 'http', protocol: 'TCP', port: 8080 }]),
    pod('default', 'client', client.ip, 'node-0', { app: 'client' }),
    pod('other', 'other', other.ip, 'node-0', { app: 'client' }),
  ];
  const session = new NftSession(netnsSpawn(fx.nodeNs));
  t.after(() => session.close());
  const syncer = new PolicySyncer('node-0', (argv, stdin) => runInNetns(fx.nodeNs, argv, stdin), session);
  for (const n of [...NAMESPACES, { name: 'other', labels: { 'kubernetes.io/metadata.name': 'other' } }]) syncer.namespaceChanged(undefined, n);
  for (const p of pods) syncer.podChanged(undefined, p);
  await syncer.sync();
  assert.ok(connects(client.ns, web.ip, 8080), 'no policy: open');

  // A connection opened before the deny keeps working (established is accepted first): it
  // connects now and sends its request after the deny is in the kernel.
  const held = spawn('ip', ['netns', 'exec', client.ns, 'bash', '-c',
    `exec 3<>/dev/tcp/${web.ip}/8080; sleep 1.5; printf 'GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' >&3; timeout 2 cat <&3`], { stdio: ['ignore', 'pipe', 'ignore'] });
  let heldOut = '';
  held.stdout.on('data', (d: Buffer) => { heldOut += d; });
  const heldDone = new Promise((r) => held.on('exit', r));
  await new Promise((r) => setTimeout(r, 500));

  syncer.policyChanged('default/deny', policy('default', 'deny', {}));
  await syncer.sync();
  // `nft monitor trace` (what `clusterip flows` reads) shows the drop with the policy's name.
  const monitor = spawn('ip', ['netns', 'exec', fx.nodeNs, 'stdbuf', '-oL', 'nft', 'monitor', 'trace'], { stdio: ['ignore', 'pipe', 'ignore'] });
  t.after(() => { if (monitor.exitCode === null) monitor.kill('SIGKILL'); });
  const assembler = new TraceAssembler();
  const refusals: TracedRefusal[] = [];
  let partial = '';
  monitor.stdout.on('data', (d: Buffer) => {
    partial += d;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const l of lines) { const r = assembler.line(l, Date.now()); if (r) refusals.push(r); }
  });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(connects(client.ns, web.ip, 8080), false, 'default deny drops');
  await new Promise((r) => setTimeout(r, 200));
  monitor.kill('SIGTERM');
  const drop = refusals.find((r) => r.src === client.ip && r.dst === web.ip && r.dport === 8080);
  assert.ok(drop, `no traced drop in ${JSON.stringify(refusals)}`);
  assert.equal(drop.chain.split(' ').slice(0, 2).join(' '), 'inet clusterip-policy');
  assert.match(drop.rule, /comment "NetworkPolicy ingress: default\/deny"/);
  await heldDone;
  assert.match(heldOut, /web:8080/, 'the connection opened before the deny still gets its answer');
  const counters = inNs(fx.nodeNs, ['nft', 'list', 'table', 'inet', 'clusterip-policy']);
  assert.match(counters, /counter packets [1-9]\d* bytes \d+ drop comment "NetworkPolicy ingress: default\/deny"/);

  syncer.policyChanged('default/web-http', policy('default', 'web-http', {
    podSelector: { matchLabels: { app: 'web' } },
    ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }], ports: [{ port: 'http', protocol: 'TCP' }] }],
  }));
  await syncer.sync();
  assert.ok(connects(client.ns, web.ip, 8080), 'named port http (8080) allowed from app=client');
  assert.equal(connects(client.ns, web.ip, 9090), false, '9090 is not the named port');
  assert.equal(connects(other.ns, web.ip, 8080), false, 'app=client in another namespace is not a peer without namespaceSelector');

  syncer.policyChanged('default/web-http', policy('default', 'web-http', {
    podSelector: { matchLabels: { app: 'web' } },
    ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'other' } } }], ports: [{ port: 9000, endPort: 9100 }] }],
  }));
  await syncer.sync();
  assert.ok(connects(other.ns, web.ip, 9090), 'namespaceSelector + endPort range');
  assert.equal(connects(client.ns, web.ip, 9090), false);

  syncer.policyChanged('default/web-http', policy('default', 'web-http', {
    podSelector: { matchLabels: { app: 'web' } },
    ingress: [{ from: [{ ipBlock: { cidr: '10.244.0.0/24', except: [`${other.ip}/32`] } }] }],
  }));
  await syncer.sync();
  assert.ok(connects(client.ns, web.ip, 9090), 'ipBlock allows the client');
  assert.equal(connects(other.ns, web.ip, 9090), false, 'except cuts the other Pod out');

  syncer.policyChanged('default/deny', undefined);
  syncer.policyChanged('default/web-http', undefined);
  syncer.policyChanged('default/client-out', policy('default', 'client-out', {
    podSelector: { matchLabels: { app: 'client' } }, policyTypes: ['Egress'], egress: [{ ports: [{ port: 'http', protocol: 'TCP' }] }],
  }));
  await syncer.sync();
  assert.ok(connects(client.ns, web.ip, 8080), 'egress to the named port of the destination Pod');
  assert.equal(connects(client.ns, web.ip, 9090), false, 'other egress dropped');
  assert.ok(connects(other.ns, web.ip, 9090), 'other Pods are not isolated');

  syncer.policyChanged('default/client-out', undefined);
  await syncer.sync();
  assert.ok(connects(client.ns, web.ip, 9090), 'policies gone: open again');
  assert.doesNotMatch(inNs(fx.nodeNs, ['nft', 'list', 'table', 'inet', 'clusterip-policy']), /pol-|in-|out-\w/, 'nothing left of the policies');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertGolden } from '../proxy/testing/golden.js';
import { compilePolicy } from './compile.js';
import { parseDropComment, dropComment } from './names.js';
import { fullTransaction, planIncremental, writtenFrom } from './plan.js';
import { rulesetFor } from './ruleset.js';
import { CASES, PODS, policy, pod, snapshot } from './testing/cluster.js';

const DIR = import.meta.dirname;

// One golden transaction per case: the whole table node-0 gets (review testdata/*.nft by hand).
for (const [name, policies] of Object.entries(CASES)) {
  test(`golden: ${name} on node-0`, () => {
    assertGolden(DIR, `${name}.nft`, fullTransaction(rulesetFor(policies, snapshot(), 'node-0')));
  });
}

test('a policy selects only local Pods with their own address (not hostNetwork, not finished)', () => {
  const f = compilePolicy(policy('default', 'p', { podSelector: { matchLabels: { app: 'web' } } }), snapshot(), 'node-0');
  assert.deepEqual(f.selected, ['10.244.0.10']);
  assert.deepEqual([...compilePolicy(policy('default', 'p', {}), snapshot(), 'node-1').selected], ['10.244.1.10']);
});

test('ingress with no rules isolates (empty chain); policyTypes Egress alone leaves ingress open', () => {
  const f = compilePolicy(CASES['default-deny-ingress']![0]!, snapshot(), 'node-0');
  assert.deepEqual([...f.chains.values()], [[]]);
  assert.equal(f.ingress, true);
  assert.equal(f.egress, false);
  const e = compilePolicy(CASES['egress-dns-only']![0]!, snapshot(), 'node-0');
  assert.equal(e.ingress, false);
  assert.equal(e.egress, true);
});

test('named ports resolve on the destination: ingress on each selected Pod, egress on each peer', () => {
  const ing = compilePolicy(CASES['allow-client-named-port']![1]!, snapshot(), 'node-0');
  assert.deepEqual([...ing.sets.values()].find((s) => s.name.endsWith('named'))!.elements, ['10.244.0.10 . tcp . 8080']);
  const ing1 = compilePolicy(CASES['allow-client-named-port']![1]!, snapshot(), 'node-1');
  assert.deepEqual([...ing1.sets.values()].find((s) => s.name.endsWith('named'))!.elements, ['10.244.1.10 . tcp . 8081']);
  const eg = compilePolicy(CASES['egress-named-port-any-destination']![0]!, snapshot(), 'node-0');
  assert.deepEqual([...eg.sets.values()].find((s) => s.name.endsWith('named'))!.elements, ['10.244.0.10 . tcp . 8080', '10.244.1.10 . tcp . 8081']);
});

test('ipBlock except is cut out of the interval set, blocks merged', () => {
  const f = compilePolicy(CASES['ip-block-end-port']![0]!, snapshot(), 'node-0');
  const cidrs = [...f.sets.values()].find((s) => s.name.endsWith('cidrs'))!;
  assert.deepEqual(cidrs.elements, ['10.244.0.0-10.244.0.10', '10.244.0.12-10.244.0.255', '10.244.2.0-10.244.255.255']);
  const ports = [...f.sets.values()].find((s) => s.name.endsWith('ports'))!;
  assert.deepEqual(ports.elements, ['tcp . 8000-8100', 'udp . 0-65535']);
});

test('Pods isolated by the same policies share one group chain; its drop names the policies', () => {
  const extra = [...PODS, pod('default', 'web-3', '10.244.0.12', 'node-0', { app: 'web' })];
  const rs = rulesetFor(CASES['allow-client-named-port']!, snapshot(extra), 'node-0');
  assert.equal(rs.dispatch.ingress.get('10.244.0.10'), rs.dispatch.ingress.get('10.244.0.12'));
  assert.notEqual(rs.dispatch.ingress.get('10.244.0.10'), rs.dispatch.ingress.get('10.244.0.11'));
  const g = rs.groups.get(rs.dispatch.ingress.get('10.244.0.10')!)!.rules;
  assert.match(g[g.length - 1]!, /comment "NetworkPolicy ingress: default\/deny-all default\/web-from-client"$/);
  assert.deepEqual(parseDropComment('NetworkPolicy ingress: default/deny-all default/web-from-client'), { dir: 'ingress', keys: ['default/deny-all', 'default/web-from-client'], more: 0 });
});

test('drop comments stay within nftables 128 bytes', () => {
  const keys = Array.from({ length: 20 }, (_, i) => `namespace-${i}/policy-with-a-long-name-${i}`);
  const c = dropComment('egress', keys);
  assert.ok(c.length <= 127, c);
  const parsed = parseDropComment(c)!;
  assert.equal(parsed.keys.length + parsed.more, 20);
});

test('incremental plan: only the changed policy and addresses, and the model follows', () => {
  const before = rulesetFor(CASES['default-deny-ingress']!, snapshot(), 'node-0');
  const written = writtenFrom(before);
  // The allow policy arrives: a new chain and sets, web-1 moves to a new group.
  const allow = CASES['allow-client-named-port']![1]!;
  before.setFragment(allow.key, compilePolicy(allow, snapshot(), 'node-0'));
  const plan = planIncremental(written, before, before.takeChanged());
  assert.match(plan.text, /^add set inet clusterip-policy pol-\w+-in-0-pods \{ type ipv4_addr; \}$/m);
  assert.match(plan.text, /^delete element inet clusterip-policy ingress-pods \{ 10\.244\.0\.10 \}$/m);
  assert.match(plan.text, /^add element inet clusterip-policy ingress-groups \{ (\d+) : jump in-\w+-default\/deny-all_default\/web-from-client \}$/m);
  const id = /ingress-groups \{ (\d+) : jump/.exec(plan.text)![1];
  assert.match(plan.text, new RegExp(`^add element inet clusterip-policy ingress-pods \\{ 10\\.244\\.0\\.10 : ${id} \\}$`, 'm'));
  assert.doesNotMatch(plan.text, /ingress-pods \{ 10\.244\.0\.11/, 'client keeps its group');
  plan.commit();
  assert.equal(planIncremental(written, before, { policies: new Set([allow.key]), ips: new Set(['10.244.0.10']) }).text, '');
  // A peer Pod leaves: one element deleted, nothing else.
  const fewer = snapshot(PODS.filter((p) => p.name !== 'client'));
  before.setFragment(allow.key, compilePolicy(allow, fewer, 'node-0'));
  const p2 = planIncremental(written, before, before.takeChanged());
  assert.equal(p2.text, `delete element inet clusterip-policy ${[...before.fragments.get(allow.key)!.sets.keys()][0]} { 10.244.0.11 }\n`);
});

test('a group emptied and filled again in one sync keeps its chain and gets a new number', () => {
  const p = policy('default', 'web-only', { podSelector: { matchLabels: { app: 'web' } } });
  const pods = PODS.filter((x) => x.name !== 'done');
  const rs = rulesetFor([p], snapshot(pods), 'node-0');
  const written = writtenFrom(rs);
  const chain = rs.dispatch.ingress.get('10.244.0.10')!;
  const oldId = rs.groups.get(chain)!.id;
  // web-1 leaves (relabelled), then web-3 arrives: the group's only member changes within one sync.
  const after = [...pods.map((x) => (x.name === 'web-1' ? { ...x, labels: { app: 'api' } } : x)), pod('default', 'web-3', '10.244.0.12', 'node-0', { app: 'web' })];
  rs.setFragment(p.key, compilePolicy(p, snapshot(after.filter((x) => x.name !== 'web-3')), 'node-0'));
  rs.setFragment(p.key, compilePolicy(p, snapshot(after), 'node-0'));
  const newId = rs.groups.get(chain)!.id;
  assert.notEqual(newId, oldId);
  const plan = planIncremental(written, rs, rs.takeChanged());
  assert.doesNotMatch(plan.text, /(add|delete) chain/);
  assert.match(plan.text, new RegExp(`^add element inet clusterip-policy ingress-groups \\{ ${newId} : jump `, 'm'));
  assert.match(plan.text, new RegExp(`^delete element inet clusterip-policy ingress-groups \\{ ${oldId} \\}$`, 'm'));
  assert.match(plan.text, new RegExp(`^add element inet clusterip-policy ingress-pods \\{ 10\\.244\\.0\\.12 : ${newId} \\}$`, 'm'));
  plan.commit();
  assert.equal(fullTransaction(written), fullTransaction(rs));
});

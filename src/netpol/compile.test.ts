import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertGolden } from '../proxy/testing/golden.js';
import { compilePolicy } from './compile.js';
import { parseDropComment, dropComment } from './policynames.js';
import { fullTransaction, planIncremental, writtenFrom } from './plan.js';
import { groupRules, rulesetFor, RuleNumberTable } from './ruleset.js';
import type { PolicyInfo } from './model.js';
import { CASES, PODS, policy, pod, snapshot } from './testing/cluster.js';

const DIR = import.meta.dirname;

// One golden transaction per case: the whole table node-0 gets (review testdata/*.nft by hand).
for (const [name, policies] of Object.entries(CASES)) {
  test(`golden: ${name} on node-0`, () => {
    assertGolden(DIR, `${name}.nft`, fullTransaction(rulesetFor(policies, snapshot(), 'node-0')));
  });
}

/** Rule numbers 1, 2, 3… in the order asked (a fresh table per compile). */
const nums = (): RuleNumberTable => new RuleNumberTable();
const compile = (p: PolicyInfo, node = 'node-0', pods = PODS) => compilePolicy(p, snapshot(pods), node, nums());

test('a policy selects only local Pods with their own address (not hostNetwork, not finished)', () => {
  const f = compile(policy('default', 'p', { podSelector: { matchLabels: { app: 'web' } } }));
  assert.deepEqual(f.selected, ['10.244.0.10']);
  assert.deepEqual([...compile(policy('default', 'p', {}), 'node-1').selected], ['10.244.1.10']);
});

test('ingress with no rules isolates (no rule: the group drops); policyTypes Egress alone leaves ingress open', () => {
  const f = compile(CASES['default-deny-ingress']![0]!);
  assert.deepEqual(f.rules, { ingress: [], egress: [] });
  assert.equal(f.ingress, true);
  assert.equal(f.egress, false);
  const e = compile(CASES['egress-dns-only']![0]!);
  assert.equal(e.ingress, false);
  assert.equal(e.egress, true);
});

test('one rule: the rule number in ct mark ties the lookups to its elements', () => {
  const f = compile(CASES['allow-client-named-port']![1]!);
  assert.deepEqual(f.rules.ingress, ['ct mark set 1 ip saddr . ct mark @peer-pods ip daddr . meta l4proto . th dport . ct mark @named-ports return comment "default/web-from-client ingress 0"']);
  assert.deepEqual(f.elements.get('peer-pods'), ['10.244.0.11 . 1']);
  const all = compile(CASES['allow-all-ingress']![0]!);
  assert.deepEqual(all.rules.ingress, ['return comment "shop/allow-all ingress 0"']);
});

test('named ports resolve on the destination: ingress on each selected Pod, egress on each peer', () => {
  assert.deepEqual(compile(CASES['allow-client-named-port']![1]!).elements.get('named-ports'), ['10.244.0.10 . tcp . 8080 . 1']);
  assert.deepEqual(compile(CASES['allow-client-named-port']![1]!, 'node-1').elements.get('named-ports'), ['10.244.1.10 . tcp . 8081 . 1']);
  assert.deepEqual(compile(CASES['egress-named-port-any-destination']![0]!).elements.get('named-ports'), ['10.244.0.10 . tcp . 8080 . 1', '10.244.1.10 . tcp . 8081 . 1']);
});

test('ipBlock except is cut out of the interval set, blocks merged; ports and endPort ranges', () => {
  const f = compile(CASES['ip-block-end-port']![0]!);
  assert.deepEqual(f.elements.get('peer-cidrs'), ['10.244.0.0-10.244.0.10 . 1', '10.244.0.12-10.244.0.255 . 1', '10.244.2.0-10.244.255.255 . 1']);
  // The single port 8080 lies inside 8000-8100 and is merged into it.
  assert.deepEqual(f.elements.get('rule-port-ranges'), ['tcp . 8000-8100 . 1', 'udp . 0-65535 . 1']);
  assert.equal(f.elements.get('rule-ports'), undefined);
});

test('single ports and short ranges go to the hash set one by one, wide ranges to the interval set, one rule each', () => {
  const f = compile(CASES['ports-single-and-ranges']![0]!);
  assert.deepEqual(f.elements.get('rule-ports'), ['tcp . 80 . 1', 'tcp . 8080 . 1', 'tcp . 8081 . 1', 'tcp . 8082 . 1', 'tcp . 8083 . 1', 'udp . 53 . 1']);
  assert.deepEqual(f.elements.get('rule-port-ranges'), ['tcp . 9000-9100 . 1']);
  assert.deepEqual(f.rules.ingress, [
    'ct mark set 1 ip saddr . ct mark @peer-pods meta l4proto . th dport . ct mark @rule-ports return comment "default/web-ports ingress 0"',
    'ct mark set 1 ip saddr . ct mark @peer-pods meta l4proto . th dport . ct mark @rule-port-ranges return comment "default/web-ports ingress 0"',
  ]);
});

test('Pods isolated by the same policies share one group chain; its drop names the policies', () => {
  const extra = [...PODS, pod('default', 'web-3', '10.244.0.12', 'node-0', { app: 'web' })];
  const rs = rulesetFor(CASES['allow-client-named-port']!, snapshot(extra), 'node-0');
  assert.equal(rs.dispatch.ingress.get('10.244.0.10'), rs.dispatch.ingress.get('10.244.0.12'));
  assert.notEqual(rs.dispatch.ingress.get('10.244.0.10'), rs.dispatch.ingress.get('10.244.0.11'));
  const g = groupRules(rs, rs.groups.get(rs.dispatch.ingress.get('10.244.0.10')!)!);
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
  // The allow policy arrives: its elements, a new group for web-1; the client keeps its group.
  const allow = CASES['allow-client-named-port']![1]!;
  before.setFragment(allow.key, compilePolicy(allow, snapshot(), 'node-0', before.numbers));
  const plan = planIncremental(written, before, before.takeChanged());
  assert.match(plan.text, /^add element inet clusterip-policy peer-pods \{ 10\.244\.0\.11 \. \d+ \}$/m);
  assert.match(plan.text, /^add element inet clusterip-policy ingress-groups \{ (\d+) : jump in-\w+-default\/deny-all_default\/web-from-client \}$/m);
  const id = /ingress-groups \{ (\d+) : jump/.exec(plan.text)![1];
  assert.match(plan.text, new RegExp(`^add element inet clusterip-policy ingress-pods \\{ 10\\.244\\.0\\.10 : ${id} \\}$`, 'm'));
  assert.doesNotMatch(plan.text, /ingress-pods \{ 10\.244\.0\.11/, 'client keeps its group');
  plan.commit();
  assert.equal(planIncremental(written, before, { policies: new Set([allow.key]), ips: new Set(['10.244.0.10']) }).text, '');
  // A peer Pod leaves: one element deleted, nothing else.
  const fewer = snapshot(PODS.filter((p) => p.name !== 'client'));
  before.setFragment(allow.key, compilePolicy(allow, fewer, 'node-0', before.numbers));
  const p2 = planIncremental(written, before, before.takeChanged());
  assert.match(p2.text, /^delete element inet clusterip-policy peer-pods \{ 10\.244\.0\.11 \. \d+ \}\n$/);
  p2.commit();
  // Its rules change: every group that includes it is rewritten.
  const changed = policy('default', 'web-from-client', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ ports: [{ port: 80 }] }] });
  before.setFragment(changed.key, compilePolicy(changed, fewer, 'node-0', before.numbers));
  const p3 = planIncremental(written, before, before.takeChanged());
  assert.match(p3.text, /^flush chain inet clusterip-policy in-\w+-default\/deny-all_default\/web-from-client$/m);
  p3.commit();
  assert.equal(fullTransaction(written), fullTransaction(before));
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
  rs.setFragment(p.key, compilePolicy(p, snapshot(after.filter((x) => x.name !== 'web-3')), 'node-0', rs.numbers));
  rs.setFragment(p.key, compilePolicy(p, snapshot(after), 'node-0', rs.numbers));
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

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judge } from './evaluate.js';
import { CASES, NAMESPACES, PODS, policy } from './testing/cluster.js';

const ns = (n: string) => NAMESPACES.find((x) => x.name === n);
const at = (name: string) => { const p = PODS.find((x) => x.name === name)!; return { ip: p.ip, pod: p }; };

test('default deny isolates and nothing allows; the allow policy on the named port allows only that port', () => {
  const deny = judge(CASES['default-deny-ingress']!, ns, at('client'), at('web-1'), 'TCP', 8080);
  assert.deepEqual(deny.ingress, { isolatedBy: ['default/deny-all'], allowedBy: [], allowed: false });
  assert.equal(deny.egress.allowed, true);
  const both = CASES['allow-client-named-port']!;
  assert.deepEqual(judge(both, ns, at('client'), at('web-1'), 'TCP', 8080).ingress.allowedBy, ['default/web-from-client']);
  assert.equal(judge(both, ns, at('client'), at('web-1'), 'TCP', 9090).ingress.allowed, false);
  assert.equal(judge(both, ns, at('cart'), at('web-1'), 'TCP', 8080).ingress.allowed, false);
});

test('namespaceSelector, ipBlock except, egress to DNS', () => {
  assert.equal(judge(CASES['namespace-selector']!, ns, at('cart'), at('web-1'), 'TCP', 80).ingress.allowed, true);
  assert.equal(judge(CASES['namespace-selector']!, ns, at('probe'), at('web-1'), 'TCP', 80).ingress.allowed, false);
  const ranges = CASES['ip-block-end-port']!;
  assert.equal(judge(ranges, ns, at('client'), at('web-1'), 'TCP', 8050).ingress.allowed, false, 'the client is excepted');
  assert.equal(judge(ranges, ns, at('cart'), at('web-1'), 'TCP', 8050).ingress.allowed, true);
  assert.equal(judge(ranges, ns, at('cart'), at('web-1'), 'TCP', 8101).ingress.allowed, false, 'past endPort');
  const dns = CASES['egress-dns-only']!;
  assert.equal(judge(dns, ns, at('client'), at('dns'), 'UDP', 53).egress.allowed, true);
  assert.deepEqual(judge(dns, ns, at('client'), at('web-1'), 'TCP', 8080).egress, { isolatedBy: ['default/deny-egress', 'default/allow-dns'], allowedBy: [], allowed: false });
  assert.equal(judge([policy('default', 'x', { policyTypes: ['Egress'] })], ns, { ip: '172.31.255.10', pod: PODS.find((p) => p.hostNetwork) }, at('web-1'), 'TCP', 1).egress.allowed, true, 'hostNetwork Pods are not isolated');
});

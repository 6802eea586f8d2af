import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { iptRulesForService, parseIptablesSave } from './iptservice.js';

// Captured with `iptables-save -c` from the node of a real cluster in iptables mode: seed 004's
// nginx-service-01, the ClientIP Service `sticky` (600 s), kube-dns and default/kubernetes, after
// 6 wgets to each from a busybox Pod.
const rules = parseIptablesSave(readFileSync(join(import.meta.dirname, 'testdata', 'iptables-save-c.txt'), 'utf8'));

test('iptables-save -c: rules with table, chain and [packets:bytes]', () => {
  const r = rules.find((x) => x.spec.includes('--to-destination 10.244.0.4:80') && x.chain === 'KUBE-SEP-B3VFKKWPHAXXC6J7')!;
  assert.equal(r.table, 'nat');
  assert.deepEqual(r.counter, { packets: 3, bytes: 180 });
  assert.ok(r.text.startsWith('[3:180] -A KUBE-SEP-B3VFKKWPHAXXC6J7 '));
});

test('a Service: KUBE-SERVICES entry, its KUBE-SVC chain, one KUBE-SEP per endpoint with DNAT counters', () => {
  const r = iptRulesForService(rules, '10.111.84.79', [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 80 }]);
  assert.deepEqual(r.ports, [{
    protocol: 'TCP', port: 80, portName: 'http', state: 'endpoints', counter: { packets: 6, bytes: 360 },
    endpoints: [
      { ip: '10.244.0.3', port: 80, counter: { packets: 0, bytes: 0 } },
      { ip: '10.244.0.4', port: 80, counter: { packets: 3, bytes: 180 } },
      { ip: '10.244.0.5', port: 80, counter: { packets: 3, bytes: 180 } },
    ],
  }]);
  assert.deepEqual(r.hairpin.sort(), ['10.244.0.3', '10.244.0.4', '10.244.0.5']);
  const lines = r.text.trimEnd().split('\n');
  assert.equal(lines[0], '*nat');
  assert.equal(lines.length, 1 + 1 + 4 + 6, 'the entry, the Service chain (masq + 3 jumps), 2 rules per endpoint');
  assert.ok(lines.every((l, i) => i === 0 || /^\[\d+:\d+\] -A KUBE-(SERVICES|SVC|SEP)/.test(l)));
});

test('ClientIP affinity: the recent --seconds of the Service chain', () => {
  const r = iptRulesForService(rules, '10.97.126.139', [{ name: 'web', protocol: 'TCP', port: 8080, targetPort: 'http' }]);
  assert.equal(r.ports[0]!.affinityTimeoutSeconds, 600);
  assert.deepEqual(r.ports[0]!.endpoints.map((e) => e.counter?.packets), [6, 0, 0]);
});

test('no endpoints: the filter REJECT rule; an unknown port is absent', () => {
  const r = iptRulesForService(rules, '10.96.0.1', [{ name: 'https', protocol: 'TCP', port: 443, targetPort: 6443 }, { name: '', protocol: 'TCP', port: 9, targetPort: 9 }]);
  assert.deepEqual(r.ports.map((p) => p.state), ['reject', 'absent']);
  assert.match(r.text, /^\*filter\n\[0:0\] -A KUBE-SERVICES -d 10\.96\.0\.1\/32 -p tcp -m tcp --dport 443 .*-j REJECT --reject-with tcp-reset\n$/);
});

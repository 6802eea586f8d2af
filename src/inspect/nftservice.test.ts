import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseElement, parseNftTable } from './nfttext.js';
import { nftRulesForService, parseNftDuration } from './nftservice.js';

// Captured with `nft list table ip clusterip` from a node of a real cluster: seed 004's
// nginx-service-01 (3 endpoints), a ClientIP-affinity Service `sticky`, kube-dns and the
// endpoint-less default/kubernetes, after 6 wgets to each from a busybox Pod.
const text = readFileSync(join(import.meta.dirname, 'testdata', 'nft-list-table.txt'), 'utf8');
const table = parseNftTable(text);

test('elements: key, data, counter and comment as nft prints them', () => {
  assert.deepEqual(parseElement('10.108.177.126 . tcp . 80 counter packets 6 bytes 360 comment "student-01/nginx-service-01:http" : goto tcp-endpoints-mod-3'), {
    text: '10.108.177.126 . tcp . 80 counter packets 6 bytes 360 comment "student-01/nginx-service-01:http" : goto tcp-endpoints-mod-3',
    key: '10.108.177.126 . tcp . 80', value: 'goto tcp-endpoints-mod-3', counter: { packets: 6, bytes: 360 }, comment: 'student-01/nginx-service-01:http',
  });
  assert.deepEqual(parseElement('10.244.0.6 expires 9m59s884ms'), { text: '10.244.0.6 expires 9m59s884ms', key: '10.244.0.6' });
  assert.deepEqual(parseElement('10.96.0.1'), { text: '10.96.0.1', key: '10.96.0.1' });
  assert.deepEqual(parseElement('1.2.3.4 comment "a : b, c"'), { text: '1.2.3.4 comment "a : b, c"', key: '1.2.3.4', comment: 'a : b, c' });
});

test('the whole table: every map, set and chain with its elements', () => {
  assert.deepEqual(table.sets.get('cluster-ips')!.elements.map((e) => e.key), ['10.96.0.1', '10.96.0.10', '10.103.227.68', '10.108.177.126']);
  assert.equal(table.sets.get('service-endpoints-tcp')!.elements.length, 4);
  assert.equal(table.sets.get('service-endpoints-sctp')!.elements.length, 0);
  assert.ok(table.sets.get('service-ips')!.declaration.includes('counter'));
  assert.deepEqual(table.chains.get('nat-prerouting')!.rules, ['ip daddr 10.96.0.0/12 jump services'], 'the hook line is not a rule');
  assert.equal(table.chains.get('service-STGSHAIX-student-01/sticky/tcp/web')!.rules.length, 4);
});

test('a Service without affinity: its verdict element, the mod chain, one element per endpoint with counters', () => {
  const r = nftRulesForService(table, '10.108.177.126', [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 80 }]);
  assert.deepEqual(r.ports, [{
    protocol: 'TCP', port: 80, portName: 'http', state: 'endpoints', counter: { packets: 6, bytes: 360 }, modulus: 3,
    endpoints: [
      { ip: '10.244.0.3', port: 80, slot: 0, counter: { packets: 4, bytes: 240 } },
      { ip: '10.244.0.4', port: 80, slot: 1, counter: { packets: 1, bytes: 60 } },
      { ip: '10.244.0.5', port: 80, slot: 2, counter: { packets: 1, bytes: 60 } },
    ],
  }]);
  assert.deepEqual(r.hairpin, ['10.244.0.3', '10.244.0.4', '10.244.0.5']);
  assert.equal(r.text, `map service-ips {
\t10.108.177.126 . tcp . 80 counter packets 6 bytes 360 comment "student-01/nginx-service-01:http" : goto tcp-endpoints-mod-3
}
chain tcp-endpoints-mod-3 {
\tdnat ip to ip daddr . meta l4proto . tcp dport . numgen random mod 3 map @service-endpoints-tcp
}
map service-endpoints-tcp {
\t10.108.177.126 . tcp . 80 . 0 counter packets 4 bytes 240 : 10.244.0.3 . 80
\t10.108.177.126 . tcp . 80 . 1 counter packets 1 bytes 60 : 10.244.0.4 . 80
\t10.108.177.126 . tcp . 80 . 2 counter packets 1 bytes 60 : 10.244.0.5 . 80
}
set hairpin-endpoints {
\t10.244.0.3 . 10.244.0.3 counter packets 0 bytes 0
\t10.244.0.4 . 10.244.0.4 counter packets 0 bytes 0
\t10.244.0.5 . 10.244.0.5 counter packets 0 bytes 0
}
`);
});

test('ClientIP affinity: service chain, endpoint chains with DNAT counters, the timeout from the set', () => {
  const r = nftRulesForService(table, '10.103.227.68', [{ name: 'web', protocol: 'TCP', port: 8080, targetPort: 'http' }]);
  const p = r.ports[0]!;
  assert.equal(p.state, 'endpoints');
  assert.equal(p.modulus, 3);
  assert.equal(p.affinityTimeoutSeconds, 600);
  assert.deepEqual(p.endpoints.map((e) => [e.ip, e.port, e.counter?.packets]), [['10.244.0.3', 80, 0], ['10.244.0.4', 80, 6], ['10.244.0.5', 80, 0]]);
  assert.match(r.text, /^set affinity-HQQ5EDBD-student-01\/sticky\/tcp\/web__10\.244\.0\.4\/80 \{\n(\t.*\n)*\t10\.244\.0\.6 expires 9m59s884ms\n\}/m);
  assert.match(r.text, /\tmeta l4proto tcp counter packets 6 bytes 360 dnat to 10\.244\.0\.4:80\n/);
});

test('no endpoints is a reject element; an unknown port is absent', () => {
  const r = nftRulesForService(table, '10.96.0.1', [{ name: 'https', protocol: 'TCP', port: 443, targetPort: 6443 }, { name: 'x', protocol: 'UDP', port: 1, targetPort: 1 }]);
  assert.deepEqual(r.ports.map((p) => [p.state, p.counter?.packets]), [['reject', 0], ['absent', undefined]]);
  assert.match(r.text, /^map no-endpoint-services \{\n\t10\.96\.0\.1 \. tcp \. 443 counter packets 0 bytes 0 comment "default\/kubernetes:https" : goto reject-chain\n\}\n$/);
});

test('nft durations', () => {
  assert.equal(parseNftDuration('10m'), 600);
  assert.equal(parseNftDuration('3h'), 10800);
  assert.equal(parseNftDuration('1d2h46m40s'), 96400);
  assert.equal(parseNftDuration('x'), undefined);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConntrackLine, TraceAssembler } from './flowsparse.js';

test('conntrack NEW event: original tuple is client → ClusterIP, reply tuple is backend → client', () => {
  const e = parseConntrackLine('[1796591052.757447]\t    [NEW] ipv4     2 tcp      6 120 SYN_SENT src=10.244.0.6 dst=10.98.164.45 sport=43210 dport=80 [UNREPLIED] src=10.244.0.3 dst=10.244.0.6 sport=80 dport=43210 id=3452122831');
  assert.deepEqual(e, {
    type: 'NEW', at: 1796591052757.447, proto: 'TCP', state: 'SYN_SENT',
    orig: { src: '10.244.0.6', dst: '10.98.164.45', sport: 43210, dport: 80 },
    reply: { src: '10.244.0.3', dst: '10.244.0.6', sport: 80, dport: 43210 }, id: '3452122831', assured: false,
  });
});

test('conntrack DESTROY with accounting and a listing line carry bytes and packets per direction', () => {
  const d = parseConntrackLine('[1796591053.0]\t[DESTROY] ipv4     2 udp      17 src=10.244.0.5 dst=10.96.0.10 sport=41197 dport=53 packets=2 bytes=164 src=10.244.0.2 dst=10.244.0.5 sport=53 dport=41197 packets=2 bytes=234 id=7');
  assert.equal(d?.type, 'DESTROY');
  assert.equal(d?.proto, 'UDP');
  assert.equal(d?.state, undefined);
  assert.deepEqual([d?.orig.bytes, d?.orig.packets, d?.reply.bytes, d?.reply.packets], [164, 2, 234, 2]);
  const l = parseConntrackLine('ipv4     2 tcp      6 118 TIME_WAIT src=10.9.0.2 dst=10.96.5.5 sport=46528 dport=80 packets=6 bytes=392 src=10.8.0.2 dst=10.9.0.2 sport=80 dport=46528 packets=6 bytes=533 [ASSURED] mark=0 use=1 id=99');
  assert.equal(l?.type, '');
  assert.equal(l?.state, 'TIME_WAIT');
  assert.equal(l?.assured, true);
  assert.equal(l?.reply.bytes, 533);
  assert.equal(parseConntrackLine('conntrack v1.4.7 (conntrack-tools): 6 flow events have been shown.'), undefined);
  assert.equal(parseConntrackLine('WARNING: We have hit ENOBUFS! We are losing events.'), undefined);
  assert.equal(parseConntrackLine('    [NEW] ipv6     10 tcp 6 120 SYN_SENT src=::1 dst=::1 sport=1 dport=2 src=::1 dst=::1 sport=2 dport=1'), undefined);
});

test('nft monitor trace: a packet dropped by a reject rule is one refusal with the rule that did it', () => {
  const a = new TraceAssembler();
  const lines = [
    'trace id f13bd866 ip clusterip-flows refused-trace packet: iif "vp1" ether saddr 96:6c ether daddr 8e:35 ip saddr 10.244.0.6 ip daddr 10.101.3.4 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 26257 ip length 60 tcp sport 43212 tcp dport 80 tcp flags == syn tcp window 64240 ',
    'trace id f13bd866 ip clusterip-flows refused-trace rule ip daddr 10.96.0.0/12 ct state new meta nftrace set 1 (verdict continue)',
    'trace id f13bd866 ip clusterip-flows refused-trace policy accept ',
    'trace id f13bd866 ip clusterip filter-prerouting-post-dnat packet: iif "vp1" ip saddr 10.244.0.6 ip daddr 10.101.3.4 tcp sport 43212 tcp dport 80',
    'trace id f13bd866 ip clusterip service-endpoints-check rule ip daddr . meta l4proto . th dport vmap @no-endpoint-services (verdict goto reject-chain)',
  ];
  for (const l of lines) assert.equal(a.line(l, 1000), undefined);
  const r = a.line('trace id f13bd866 ip clusterip reject-chain rule meta l4proto tcp reject with tcp reset (verdict drop)', 1001);
  assert.deepEqual(r, { traceId: 'f13bd866', proto: 'TCP', src: '10.244.0.6', dst: '10.101.3.4', sport: 43212, dport: 80, verdict: 'rejected',
    chain: 'clusterip reject-chain', rule: 'meta l4proto tcp reject with tcp reset' });
  // A drop without reject (an address no Service has), and UDP.
  a.line('trace id 2 ip clusterip-flows refused-trace packet: iif "vp1" ip saddr 10.244.0.6 ip daddr 10.96.9.9 udp sport 5000 udp dport 53 udp length 30', 2000);
  const d = a.line('trace id 2 ip clusterip cluster-ips-check rule ip daddr 10.96.0.0/12 drop (verdict drop)', 2001);
  assert.equal(d?.verdict, 'dropped');
  assert.equal(d?.proto, 'UDP');
  // An accepted trace never reports.
  a.line('trace id 3 ip clusterip-flows refused-trace-local packet: oif "lo" ip saddr 10.96.0.10 ip daddr 10.96.0.10 udp sport 1 udp dport 53', 3000);
  assert.equal(a.line('trace id 3 ip clusterip-flows refused-trace-local policy accept ', 3001), undefined);
});

test('nft monitor trace: a NetworkPolicy drop (inet table), also when nft prints the rule as unknown', () => {
  const a = new TraceAssembler();
  a.line('trace id 1f686473 inet clusterip-policy in-7OD6OUX3OB-default/deny-all packet: iif "" oif "" ether saddr 0a:58:0a:f4:00:04 ether daddr 0a:58:0a:f4:00:03 ip saddr 10.244.0.4 ip daddr 10.244.0.3 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 46611 ip protocol tcp ip length 60 tcp sport 43906 tcp dport 80 tcp flags == syn tcp window 64240 ', 1);
  const r = a.line('trace id 1f686473 inet clusterip-policy in-7OD6OUX3OB-default/deny-all unknown rule handle 6 (verdict drop)', 2);
  assert.deepEqual(r, { traceId: '1f686473', proto: 'TCP', src: '10.244.0.4', dst: '10.244.0.3', sport: 43906, dport: 80, verdict: 'dropped',
    chain: 'inet clusterip-policy in-7OD6OUX3OB-default/deny-all', rule: 'rule handle 6' });
});

test('nft monitor trace: the proxy\'s reject printed as an unknown rule is still a rejection', () => {
  const a = new TraceAssembler();
  a.line('trace id 9 ip clusterip-flows refused-trace packet: iif "cbr0" ip saddr 10.244.0.3 ip daddr 10.110.145.199 tcp sport 35240 tcp dport 80', 1);
  const r = a.line('trace id 9 ip clusterip reject-chain unknown rule handle 12 (verdict drop)', 2);
  assert.equal(r?.verdict, 'rejected');
  assert.equal(r?.chain, 'clusterip reject-chain');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AffinityMemory, flowFromConntrack, flowFromRefusal } from './flowsclassify.js';
import { NameTables } from './flowsnames.js';
import { parseConntrackLine } from './flowsparse.js';
import { renderFlow } from './flowsrender.js';
import { matchesFlow, parseFlowTarget, filterFromQuery, FlowFilterError } from './flowsfilter.js';

function tables(): NameTables {
  const n = new NameTables();
  n.setService({ key: 'default/nginx-service', ips: ['10.98.164.45'], ports: [{ name: '', port: 80, protocol: 'TCP' }] }, 'default/nginx-service');
  n.setService({ key: 'default/sticky', ips: ['10.98.0.7'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }], affinitySeconds: 10800 }, 'default/sticky');
  n.setService({ key: 'default/lonely', ips: ['10.101.3.4'], ports: [{ name: '', port: 80, protocol: 'TCP' }] }, 'default/lonely');
  n.setPod('default/test-7xk', '10.244.0.6');
  n.setPod('default/nginx-abc', '10.244.0.3');
  n.hosts.set('10.244.0.1', 'node n0');
  return n;
}

test('a NEW event names the client Pod, the Service and the backend Pod on one line', () => {
  const ev = parseConntrackLine('[1796591052.757447] [NEW] ipv4 2 tcp 6 120 SYN_SENT src=10.244.0.6 dst=10.98.164.45 sport=43210 dport=80 [UNREPLIED] src=10.244.0.3 dst=10.244.0.6 sport=80 dport=43210 id=1')!;
  const f = flowFromConntrack('n0', ev, ev.at!, tables());
  assert.deepEqual(f.client, { ip: '10.244.0.6', port: 43210, name: 'default/test-7xk' });
  assert.deepEqual(f.service, { ip: '10.98.164.45', port: 80, name: 'default/nginx-service' });
  assert.deepEqual(f.backend, { ip: '10.244.0.3', port: 80, pod: 'default/nginx-abc' });
  const line = renderFlow({ ...f, state: 'ESTABLISHED', received: { bytes: 615, packets: 3 }, sent: { bytes: 400, packets: 4 } });
  assert.match(line, /^\d\d:\d\d:\d\d\.\d{3} default\/test-7xk 10\.244\.0\.6:43210 → svc default\/nginx-service 10\.98\.164\.45:80 → pod default\/nginx-abc 10\.244\.0\.3:80 TCP ESTABLISHED sent 400 B received 615 B$/);
});

test('ClientIP affinity: the second connection of a client to the same Pod is sticky, another Pod is not', () => {
  const n = tables();
  const mem = new AffinityMemory();
  const ev = (sport: number, backend: string) => parseConntrackLine(`[1.0] [NEW] ipv4 2 tcp 6 120 SYN_SENT src=10.244.0.6 dst=10.98.0.7 sport=${sport} dport=80 [UNREPLIED] src=${backend} dst=10.244.0.6 sport=8080 dport=${sport} id=${sport}`)!;
  assert.deepEqual(flowFromConntrack('n0', ev(1, '10.244.0.3'), 1, n, mem).affinity, { timeoutSeconds: 10800, first: true, sticky: false });
  assert.deepEqual(flowFromConntrack('n0', ev(2, '10.244.0.3'), 2, n, mem).affinity, { timeoutSeconds: 10800, first: false, sticky: true });
  const moved = flowFromConntrack('n0', ev(3, '10.244.0.9'), 3, n, mem);
  assert.equal(moved.affinity?.sticky, false);
  assert.match(renderFlow(moved), /another Pod/);
  assert.equal(flowFromConntrack('n0', parseConntrackLine('[1.0] [NEW] ipv4 2 tcp 6 120 SYN_SENT src=10.244.0.6 dst=10.98.164.45 sport=9 dport=80 src=10.244.0.3 dst=10.244.0.6 sport=80 dport=9 id=9')!, 1, n, mem).affinity, undefined);
});

test('refused packets say why: no endpoints, no such port, no such Service', () => {
  const n = tables();
  const r = (dst: string, dport: number) => flowFromRefusal('n0', { traceId: 'x', proto: 'TCP', src: '10.244.0.6', dst, sport: 5, dport, verdict: 'rejected', chain: 'clusterip reject-chain', rule: 'reject' }, 1, 1, n);
  assert.equal(r('10.101.3.4', 80).reason, 'no endpoints');
  assert.match(renderFlow(r('10.101.3.4', 80)), /default\/test-7xk 10\.244\.0\.6:5 → svc default\/lonely 10\.101\.3\.4:80 TCP REJECTED \(no endpoints\)$/);
  assert.equal(r('10.101.3.4', 81).reason, 'no port 81/TCP on this Service');
  assert.equal(r('10.96.77.7', 80).reason, 'no Service has this address');
  assert.equal(r('10.101.3.4', 80).kernelRule, 'clusterip reject-chain: reject');
});

test('filters: svc/NAME, pod/NAME, namespace; unknown kinds and bad names are errors that say what is accepted', () => {
  assert.deepEqual(parseFlowTarget('svc/web', 'shop'), { service: 'shop/web' });
  assert.deepEqual(parseFlowTarget('pod/web-1', undefined), { pod: 'default/web-1' });
  assert.deepEqual(parseFlowTarget(undefined, 'shop'), { namespace: 'shop' });
  assert.throws(() => parseFlowTarget('deploy/web', undefined), (e: Error) => e instanceof FlowFilterError && /unknown filter "deploy\/web": use svc\/NAME, pod\/NAME or -n NAMESPACE/.test(e.message));
  assert.throws(() => parseFlowTarget('web', undefined), FlowFilterError);
  assert.throws(() => parseFlowTarget('svc/Web!', undefined), /invalid name/);
  assert.throws(() => filterFromQuery(new URLSearchParams('svc=default/x')), /unknown query parameter "svc"/);
  const ev = parseConntrackLine('[1.0] [NEW] ipv4 2 tcp 6 120 SYN_SENT src=10.244.0.6 dst=10.98.164.45 sport=1 dport=80 src=10.244.0.3 dst=10.244.0.6 sport=80 dport=1 id=1')!;
  const f = flowFromConntrack('n0', ev, 1, tables());
  assert.ok(matchesFlow(f, { service: 'default/nginx-service' }));
  assert.ok(!matchesFlow(f, { service: 'default/lonely' }));
  assert.ok(matchesFlow(f, { pod: 'default/nginx-abc' }), 'a Pod matches as backend');
  assert.ok(matchesFlow(f, { pod: 'default/test-7xk' }), 'and as client');
  assert.ok(matchesFlow(f, { namespace: 'default' }));
  assert.ok(!matchesFlow(f, { namespace: 'kube-system' }));
});

test('a NetworkPolicy drop names the policies (from the comment, or from the chain name) and the Pods', () => {
  const n = new NameTables();
  n.setPod('default/client', '10.244.0.4');
  n.setPod('default/web-1', '10.244.0.3');
  const base = { traceId: 'x', proto: 'TCP', src: '10.244.0.4', dst: '10.244.0.3', sport: 5, dport: 80, verdict: 'dropped' as const, chain: 'inet clusterip-policy in-7OD6OUX3OB-default/deny-all_default/web' };
  const f = flowFromRefusal('n0', { ...base, rule: 'rule handle 6' }, 1, 1, n);
  assert.equal(f.reason, 'dropped by NetworkPolicy ingress: default/deny-all default/web');
  assert.deepEqual(f.client, { ip: '10.244.0.4', port: 5, name: 'default/client' });
  assert.deepEqual(f.backend, { ip: '10.244.0.3', port: 80, pod: 'default/web-1' });
  assert.equal(f.service, undefined);
  const g = flowFromRefusal('n0', { ...base, rule: 'meta nftrace set 1 counter packets 1 bytes 60 drop comment "NetworkPolicy egress: lab/deny-egress"' }, 1, 2, n);
  assert.equal(g.reason, 'dropped by NetworkPolicy egress: lab/deny-egress');
});

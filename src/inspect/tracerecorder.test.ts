import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { R } from '../api/resources.js';
import type { WriteRecord } from '../apiserver/http/server.js';
import { TraceRecorder } from './tracerecorder.js';
import { serviceRuleChanges } from './tracerules.js';
import { sliceDelta } from './traceslices.js';
import { renderChange } from './tracerender.js';
import type { TraceUpdate } from './tracemodel.js';

const svc = (name: string, ip: string): Service => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default', resourceVersion: '10' },
  spec: { clusterIP: ip, clusterIPs: [ip], selector: { app: name }, ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }] } });
const write = (verb: WriteRecord['verb'], res: typeof R.services, obj: WriteRecord['object'], at: number, extra: Partial<WriteRecord> = {}): WriteRecord => ({
  verb, route: { res, verb, namespace: 'default', name: obj.metadata?.name }, object: obj, code: verb === 'create' ? 201 : 200,
  user: 'admin', userAgent: 'kubectl/v1.32.0 (linux/amd64) kubernetes/abc', fieldManager: 'kubectl-client-side-apply', receivedAt: at, finishedAt: at + 2, ...extra,
});
const pod = (name: string, ip: string, ready: boolean, owner = 'web-5d8f'): Pod => ({ metadata: { name, namespace: 'default', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner, uid: 'u', controller: true }] },
  status: { podIP: ip, phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', ...(ready ? {} : { reason: 'ContainersNotReady', message: 'containers with unready status: [app]' }) }] } });
const slice = (eps: [string, string, boolean][]): EndpointSlice => ({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
  metadata: { name: 'web-abcde', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } }, ports: [{ port: 8080, protocol: 'TCP' }],
  endpoints: eps.map(([n, ip, ready]) => ({ addresses: [ip], conditions: { ready }, targetRef: { kind: 'Pod', namespace: 'default', name: n } })) });

test('slice delta: which endpoints changed and why', () => {
  const pods = new Map([['default/web-1', pod('web-1', '10.244.0.3', true)], ['default/web-2', pod('web-2', '10.244.0.4', false)]]);
  const d = sliceDelta(slice([['web-1', '10.244.0.3', false], ['web-3', '10.244.0.9', true]]), slice([['web-1', '10.244.0.3', true], ['web-2', '10.244.0.4', false]]), pods);
  assert.deepEqual(d.changed, [{ ip: '10.244.0.3', pod: 'default/web-1', ready: true, reason: 'Pod web-1 became ready' }]);
  assert.deepEqual(d.added, [{ ip: '10.244.0.4', pod: 'default/web-2', ready: false, reason: 'Pod web-2 not ready yet (ContainersNotReady: containers with unready status: [app])' }]);
  assert.deepEqual(d.removed, [{ ip: '10.244.0.9', pod: 'default/web-3', reason: 'Pod web-3 deleted (or no longer matches the selector)' }]);
  assert.deepEqual([d.ready, d.notReady], [1, 1]);
  const unready = sliceDelta(slice([['web-1', '10.244.0.3', true]]), slice([['web-1', '10.244.0.3', false]]), new Map([['default/web-1', pod('web-1', '10.244.0.3', false)]]));
  assert.equal(unready.changed[0]!.reason, 'Pod web-1 became unready (ContainersNotReady: containers with unready status: [app])');
});

test('rule attribution: only this Service\'s elements and chains, by ClusterIP, comment or chain name', () => {
  const nft = [
    'delete element ip clusterip no-endpoint-services { 10.96.0.12 . udp . 53 }',
    'add element ip clusterip service-ips { 10.96.0.12 . udp . 53 comment "ns1/dns" : goto udp-endpoints-mod-1 , 10.96.0.11 . tcp . 80 comment "ns1/web" : goto tcp-endpoints-mod-1 }',
    'add element ip clusterip service-endpoints-tcp { 10.96.0.11 . tcp . 80 . 0 : 10.244.0.2 . 8080 }',
    'add element ip clusterip hairpin-endpoints { 10.244.0.2 . 10.244.0.2 }',
    'delete chain ip clusterip service-3SQKPYOL-ns1/web/tcp/',
  ].join('\n');
  const web = serviceRuleChanges('nftables', nft, 'ns1/web', '10.96.0.11');
  assert.deepEqual([web.added, web.removed, web.programsEndpoints, web.rejects], [2, 1, true, false]);
  assert.deepEqual(web.lines, [
    'add element ip clusterip service-ips { 10.96.0.11 . tcp . 80 comment "ns1/web" : goto tcp-endpoints-mod-1 }',
    'add element ip clusterip service-endpoints-tcp { 10.96.0.11 . tcp . 80 . 0 : 10.244.0.2 . 8080 }',
    'delete chain ip clusterip service-3SQKPYOL-ns1/web/tcp/',
  ]);
  const dns = serviceRuleChanges('nftables', nft, 'ns1/dns', '10.96.0.12');
  assert.deepEqual([dns.added, dns.removed], [1, 1]);
  assert.equal(serviceRuleChanges('nftables', 'add element ip clusterip no-endpoint-services { 10.96.0.13 . tcp . 80 comment "ns1/x" : goto reject-chain }', 'ns1/x', undefined).rejects, true);
  const ipt = [
    '*filter', '-D KUBE-SERVICES -d 10.96.0.12/32 -p udp -m udp --dport 53 -m comment --comment "ns1/dns has no endpoints" -j REJECT --reject-with icmp-port-unreachable', 'COMMIT',
    '*nat', '-A KUBE-SVC-J7 -m comment --comment "ns1/dns -> 10.244.0.4:5353" -j KUBE-SEP-FU', '-A KUBE-SEP-FU -p udp -m comment --comment "ns1/dns" -m udp -j DNAT --to-destination 10.244.0.4:5353',
    '-A KUBE-SVC-XP -m comment --comment "ns1/dnsx -> 10.244.0.2:8080" -j KUBE-SEP-BA', '-X KUBE-SEP-FU', '-X KUBE-SEP-OTHER', 'COMMIT',
  ].join('\n');
  const d = serviceRuleChanges('iptables', ipt, 'ns1/dns', '10.96.0.12');
  assert.deepEqual([d.added, d.removed, d.programsEndpoints], [2, 2, true], 'ns1/dnsx is another Service; -X of its own chain counts');
});

test('recorder: a kubectl apply becomes one change with the slice, the sync, DNS and the first connection, in time order', () => {
  let now = 1000;
  const rec = new TraceRecorder({ now: () => now, settleMs: 0 });
  const updates: TraceUpdate[] = [];
  rec.subscribe('default/web', (u) => updates.push(u));
  // Reported out of order, as in the daemon: the controller's slice before the API write's reply.
  rec.sliceWrite({ service: 'default/web', op: 'create', after: slice([]), pods: [], at: 1003 });
  rec.apiWrite(write('create', R.services, svc('web', '10.96.0.11'), 1000));
  rec.dnsLive({ service: 'default/web', resourceVersion: '10', name: 'web.default.svc.cluster.local', addresses: ['10.96.0.11'], at: 1004 });
  now = 1004.5;
  rec.proxySync('n0', 'nftables', { full: false, services: new Set(['default/web']), durationMs: 2, transaction: 'add element ip clusterip no-endpoint-services { 10.96.0.11 . tcp . 80 comment "default/web" : goto reject-chain }' });
  now = 1500;
  rec.sliceWrite({ service: 'default/web', op: 'update', before: slice([]), after: slice([['web-1', '10.244.0.3', true]]), pods: [pod('web-1', '10.244.0.3', true)], at: 1500 });
  now = 1502;
  rec.proxySync('n0', 'nftables', { full: false, services: new Set(['default/web']), durationMs: 1, transaction: 'delete element ip clusterip no-endpoint-services { 10.96.0.11 . tcp . 80 }\nadd element ip clusterip service-endpoints-tcp { 10.96.0.11 . tcp . 80 . 0 : 10.244.0.3 . 8080 }' });
  now = 2000;
  rec.connection({ id: 'n0/1', node: 'n0', event: 'new', at: 2000, proto: 'TCP', client: { ip: '10.244.0.9', port: 5000, name: 'default/client' },
    service: { ip: '10.96.0.11', port: 80, name: 'default/web' }, backend: { ip: '10.244.0.3', port: 8080, pod: 'default/web-1' }, verdict: 'forwarded' });
  const changes = rec.list('default/web');
  assert.equal(changes.length, 1, 'one change');
  const c = changes[0]!;
  assert.equal(c.cause, 'kubectl apply (create by admin)');
  assert.deepEqual(c.steps.map((s) => `${s.kind}@${s.at}`), ['api-write@1000', 'slice-write@1003', 'dns-live@1004', 'proxy-sync@1004.5', 'slice-write@1500', 'proxy-sync@1502', 'first-connection@2000']);
  const sync1 = c.steps[3]!;
  assert.ok(sync1.kind === 'proxy-sync' && sync1.endpoints === -1 && sync1.added === 1);
  const sync2 = c.steps[5]!;
  assert.ok(sync2.kind === 'proxy-sync' && sync2.endpoints === 1 && sync2.added === 1 && sync2.removed === 1);
  assert.equal(updates.filter((u) => u.type === 'step').length, 7);
  const text = renderChange(c, { reachable: false, evidence: 'no route' });
  assert.match(text, /1 +0\.0 +kubectl apply: create services\/web → 201 +Service created \(selector app=web\) +ClusterIP 10\.96\.0\.11 assigned \(80\/TCP→8080\)/);
  assert.match(text, /traffic to 10\.96\.0\.11 is rejected \(no endpoints\)/);
  assert.match(text, /Pod web-1 became ready|Pod web-1 ready/);
  assert.match(text, /traffic to 10\.96\.0\.11 routes to 1 Pod/);
  assert.match(text, /first connection via the ClusterIP +default\/client 10\.244\.0\.9:5000 → 10\.96\.0\.11:80\/TCP +reached pod default\/web-1 10\.244\.0\.3:8080/);
  assert.match(text, /8 +— +access from outside the cluster .* not reachable/);
  assert.match(text, /latency from the start: slice 3\.0 ms → rules 4\.5 ms \(n0\) → DNS 4\.0 ms → ready endpoints in rules 502 ms → first connection 1000 ms/);
  assert.match(text, /Rules on n0 +none( +none)* +reject( +reject)* +→ 1 Pod/);
});

test('recorder: a later scale is its own change, caused by the user\'s write; an unexplained slice change is caused by its endpoints', () => {
  let now = 1000;
  const rec = new TraceRecorder({ now: () => now, settleMs: 0, limits: { attachWindowMs: 5000 } });
  rec.apiWrite(write('create', R.services, svc('web', '10.96.0.11'), 1000));
  now = 20_000;
  rec.apiWrite(write('patch', R.deployments, { metadata: { name: 'web', namespace: 'default' } }, 20_000, { route: { res: R.deployments, verb: 'patch', namespace: 'default', name: 'web', subresource: 'scale' }, fieldManager: 'kubectl-scale' }));
  rec.sliceWrite({ service: 'default/web', op: 'update', before: slice([]), after: slice([['web-5d8f-x', '10.244.0.7', true]]), pods: [pod('web-5d8f-x', '10.244.0.7', true)], at: 20_300 });
  now = 60_000;
  rec.sliceWrite({ service: 'default/web', op: 'update', before: slice([['web-5d8f-x', '10.244.0.7', true]]), after: slice([['web-5d8f-x', '10.244.0.7', false]]), pods: [pod('web-5d8f-x', '10.244.0.7', false)], at: 60_000 });
  const cs = rec.list('default/web');
  assert.deepEqual(cs.map((c) => c.cause), [
    'kubectl apply (create by admin)',
    'kubectl scale deployment/web (patch by admin)',
    'endpoints changed: ~1 (Pod web-5d8f-x became unready (ContainersNotReady: containers with unready status: [app]))',
  ]);
  assert.deepEqual(cs[1]!.steps.map((s) => s.kind), ['api-write', 'slice-write']);
  assert.equal(cs[1]!.before.readyEndpoints, 0, 'the Service had no ready endpoints before the scale');
  assert.equal(cs[2]!.before.readyEndpoints, 1, 'the tracker starts from the state the previous change left');
});

test('recorder: bounded — oldest changes go first, per Service and overall, and the drops are counted', () => {
  let now = 0;
  const rec = new TraceRecorder({ now: () => now, settleMs: 0, limits: { changes: 50, changesPerService: 5, bytes: 1 << 30 } });
  for (let i = 0; i < 200; i++) {
    now = i * 100;
    rec.apiWrite(write('update', R.services, svc(`s${i % 20}`, `10.96.1.${i % 20}`), now));
  }
  const st = rec.stats();
  assert.equal(st.changes, 50);
  assert.equal(st.dropped, 150);
  const kept = Array.from({ length: 20 }, (_, i) => rec.list(`default/s${i}`)).flat();
  assert.equal(kept.length, 50);
  assert.equal(Math.min(...kept.map((c) => c.startedAt)), 15_000, 'the 150 oldest went first');
  const small = new TraceRecorder({ now: () => now, settleMs: 0, limits: { bytes: 20_000 } });
  for (let i = 0; i < 500; i++) small.apiWrite(write('update', R.services, svc('web', '10.96.0.11'), i));
  assert.ok(small.stats().bytes <= 20_000, `bytes ${small.stats().bytes}`);
  assert.ok(small.stats().changes < 100);
});

test('recorder: an endpoint change of a Service created before it ran is attributed through the ClusterIP source', () => {
  let now = 1000;
  const rec = new TraceRecorder({ now: () => now, settleMs: 0 });
  const sync = (): void => rec.proxySync('n0', 'nftables', { full: false, services: new Set(['default/old']), durationMs: 1,
    transaction: 'add element ip clusterip service-endpoints-tcp { 10.96.0.20 . tcp . 80 . 0 : 10.244.0.7 . 8080 }' });
  rec.sliceWrite({ service: 'default/old', op: 'update', before: slice([]), after: slice([['old-1', '10.244.0.7', true]]), pods: [pod('old-1', '10.244.0.7', true)], at: 1000 });
  now = 1002; sync();
  now = 1100;
  const without = rec.list('default/old');
  assert.ok(!without.some((c) => c.steps.some((s) => s.kind === 'proxy-sync')), 'the element names no Service: nothing to attribute it by');
  rec.setClusterIPSource((key) => (key === 'default/old' ? '10.96.0.20' : undefined));
  rec.sliceWrite({ service: 'default/old', op: 'update', before: slice([['old-1', '10.244.0.7', true]]), after: slice([['old-1', '10.244.0.7', true], ['old-2', '10.244.0.8', true]]), pods: [pod('old-2', '10.244.0.8', true)], at: 1200 });
  now = 1202;
  rec.proxySync('n0', 'nftables', { full: false, services: new Set(['default/old']), durationMs: 1,
    transaction: 'add element ip clusterip service-endpoints-tcp { 10.96.0.20 . tcp . 80 . 1 : 10.244.0.8 . 8080 }' });
  now = 1300;
  const step = rec.list('default/old').flatMap((c) => c.steps).find((s) => s.kind === 'proxy-sync');
  assert.ok(step && step.kind === 'proxy-sync' && step.added === 1, JSON.stringify(rec.list('default/old')));
});

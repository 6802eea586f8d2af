import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resultOf, runChecks } from '../diagnose.js';
import type { DiagnoseFacts } from '../diagnosefacts.js';
import type { Finding } from '../types.js';
import { connect, endpointsObject, facts, pod, rules, service, slice } from '../testing/fixtures.js';

const web = (extra: Parameters<typeof pod>[2] = {}) => [
  pod('web-1', { app: 'web', 'pod-template-hash': 'abc' }, { ip: '10.244.0.5', owner: 'web-abc', ports: [{ name: 'http', containerPort: 80 }], ...extra }),
  pod('web-2', { app: 'web', 'pod-template-hash': 'abc' }, { ip: '10.244.0.6', owner: 'web-abc', ports: [{ name: 'http', containerPort: 80 }], ...extra }),
];
const webSlice = (port = 80, ready = true) => slice('web', [{ name: '', port }], [{ ip: '10.244.0.5', pod: 'web-1', ready }, { ip: '10.244.0.6', pod: 'web-2', ready }]);
const kernel2 = (port = 80) => rules([{ protocol: 'TCP', port: 80, portName: '', state: 'endpoints', modulus: 2, endpoints: [{ ip: '10.244.0.5', port, slot: 0 }, { ip: '10.244.0.6', port, slot: 1 }] }]);
const lookups = (ip = '10.96.5.5'): DiagnoseFacts['lookups'] => ([['web', 'short'], ['web.shop', 'namespaced'], ['web.shop.svc.cluster.local', 'fqdn']] as const)
  .map(([name, form]) => ({ name, form, answer: { addresses: [ip], ms: 1 } }));
const healthyProbes = (port = 80): Partial<DiagnoseFacts> => ({
  lookups: lookups(),
  resolvConf: 'search shop.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n',
  vipConnects: [connect('10.96.5.5', 80, true)],
  endpointConnects: [connect('10.244.0.5', port, true, 'web-1'), connect('10.244.0.6', port, true, 'web-2')],
  outside: { ip: '10.96.5.5', port: 80, answer: { ok: false, ms: 0.2, error: 'ENETUNREACH' } },
  hairpin: { pod: 'web-1', podIP: '10.244.0.5', vip: '10.96.5.5', port: 80, attempts: { ok: 12, failed: 0, localPorts: [1, 2], errors: {} }, selfConnections: 5, bridgeHairpin: true },
});

const codes = (fs: Finding[]) => fs.map((f) => `${f.verdict}:${f.code}`);
const one = (fs: Finding[], code: string): Finding => {
  const f = fs.find((x) => x.code === code);
  assert.ok(f, `no ${code} in ${codes(fs).join(' ')}`);
  return f;
};
const noFail = (fs: Finding[]) => assert.deepEqual(fs.filter((f) => f.verdict === 'fail' || f.verdict === 'warn').map((f) => `${f.code}: ${f.title}`), []);

test('a healthy Service passes every check', () => {
  const fs = runChecks(facts({
    svc: service('web', { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 80, protocol: 'TCP' }] }),
    pods: web(), slices: [webSlice()], endpoints: endpointsObject('web', ['10.244.0.5', '10.244.0.6'], 80), rules: kernel2(), extra: healthyProbes(),
  }));
  assert.deepEqual(codes(fs), ['pass:ServiceFound', 'pass:SelectorMatches', 'pass:PodsReady', 'pass:TargetPortServed', 'pass:EndpointsAgree',
    'pass:ResolvConf', 'pass:NamesResolve', 'pass:RulesAgree', 'pass:Reachable', 'pass:HairpinWorks', 'pass:AffinityNone', 'info:InternalOnly']);
  assert.equal(resultOf(fs), 'pass');
  assert.match(one(fs, 'InternalOnly').fix[0]!, /^kubectl port-forward -n shop svc\/web 8080:80/);
});

test('selector typo: the nearest label set and the patch; the refused VIP is a consequence, not a second failure', () => {
  const fs = runChecks(facts({
    svc: service('web', { selector: { app: 'wbe' }, ports: [{ port: 80, targetPort: 80 }] }), pods: web(), rules: rules([{ protocol: 'TCP', port: 80, portName: '', state: 'reject', endpoints: [] }]),
    extra: { vipConnects: [connect('10.96.5.5', 80, false)] },
  }));
  const f = one(fs, 'SelectorMatchesNothing');
  assert.equal(f.verdict, 'fail');
  assert.match(f.evidence.join('\n'), /nearest: 2 Pods \(deployment\/web\) labelled app=web,pod-template-hash=abc: app is "web", not "wbe" \(a typo\?\)/);
  assert.equal(f.fix[0], `kubectl patch svc web -n shop --type=json -p '[{"op":"replace","path":"/spec/selector/app","value":"web"}]'`);
  assert.equal(one(fs, 'NoEndpoints').verdict, 'info');
  assert.deepEqual(fs.filter((x) => x.verdict === 'fail').map((x) => x.code), ['SelectorMatchesNothing']);
});

test('a label the Pods lack: remove it from the selector, or label the Pods', () => {
  const f = one(runChecks(facts({ svc: service('web', { selector: { app: 'web', tier: 'fe' }, ports: [{ port: 80 }] }), pods: web() })), 'SelectorMatchesNothing');
  assert.match(f.evidence.join('\n'), /they have no label tier/);
  assert.equal(f.fix[0], `kubectl patch svc web -n shop --type=json -p '[{"op":"remove","path":"/spec/selector/tier"}]'`);
  assert.ok(f.fix.includes('kubectl label pods -n shop -l app=web tier=fe'));
});

test('Pods in another namespace: a Service next to them', () => {
  const f0 = facts({ svc: service('api', { selector: { app: 'api' }, ports: [{ port: 80, targetPort: 80 }] }), pods: [] });
  f0.podsElsewhere = [pod('api-1', { app: 'api', 'pod-template-hash': 'h1' }, { namespace: 'backend', owner: 'api-h1' })];
  const f = one(runChecks(f0), 'SelectorMatchesNothing');
  assert.match(f.evidence.join('\n'), /1 Pod in namespace backend match app=api \(deployment\/api\) — a Service selects Pods of its own namespace only/);
  assert.ok(f.fix.some((x) => x.startsWith('kubectl expose deployment/api -n backend --name api --port 80 --target-port 80')));
});

test('target ports: swapped, not listening, named port missing, loopback only, wrong protocol', () => {
  const swapped = runChecks(facts({ svc: service('web', { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] }), pods: web(), slices: [webSlice(8080)] }));
  const s = one(swapped, 'PortTargetPortSwapped');
  assert.equal(s.verdict, 'fail');
  assert.deepEqual(s.fix, [`kubectl patch svc web -n shop --type=json -p '[{"op":"replace","path":"/spec/ports/0/targetPort","value":80}]'`]);

  const other = runChecks(facts({ svc: service('web', { selector: { app: 'web' }, ports: [{ port: 8080, targetPort: 8080 }] }), pods: web(), slices: [webSlice(8080)] }));
  assert.deepEqual(one(other, 'TargetPortNotListening').fix, [`kubectl patch svc web -n shop --type=json -p '[{"op":"replace","path":"/spec/ports/0/targetPort","value":80}]'`,
    'kubectl debug -q -i web-1 -n shop --image=busybox --profile=general --target=app -- netstat -tlnu   # what listens inside the Pod, seen from its own network namespace']);

  const named = runChecks(facts({ svc: service('web', { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'web' }] }), pods: web() }));
  assert.match(one(named, 'NamedPortMissing').evidence[0]!, /no container of web-1 has a port named "web"/);

  const lo = runChecks(facts({ svc: service('web', { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] }), pods: web(), slices: [webSlice(8080)],
    listeners: { 'web-1': [{ protocol: 'TCP', address: '127.0.0.1', port: 8080 }], 'web-2': [{ protocol: 'TCP', address: '127.0.0.1', port: 8080 }] } }));
  assert.equal(one(lo, 'ListensOnLoopbackOnly').verdict, 'fail');
  assert.match(one(lo, 'ListensOnLoopbackOnly').fix.at(-1)!, /^kubectl debug -q -i web-1 -n shop --image=busybox --profile=general( --target=\w+)? -- netstat -tlnu /);

  const udp = runChecks(facts({ svc: service('web', { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 80, protocol: 'UDP' }] }), pods: web() }));
  assert.match(one(udp, 'ProtocolMismatch').fix[0]!, /"path":"\/spec\/ports\/0\/protocol","value":"TCP"/);
});

test('no false alarm: an undeclared numeric targetPort that is served passes (containerPort is informational)', () => {
  const pods = [pod('web-1', { app: 'web' }, { ip: '10.244.0.5' })];
  const fs = runChecks(facts({ svc: service('web', { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 80 }] }), pods, slices: [slice('web', [{ port: 80 }], [{ ip: '10.244.0.5', pod: 'web-1' }])] }));
  assert.equal(one(fs, 'TargetPortServed').verdict, 'pass');
});

test('Pods not ready: why, and a warning while some still serve', () => {
  const mixed = [...web(), pod('web-3', { app: 'web' }, { ip: '10.244.0.7', ready: false, waiting: 'ImagePullBackOff' })];
  const f = one(runChecks(facts({ svc: service('web', { selector: { app: 'web' }, ports: [{ port: 80 }] }), pods: mixed })), 'SomePodsNotReady');
  assert.equal(f.verdict, 'warn');
  assert.match(f.evidence[0]!, /web-3 \(10\.244\.0\.7\): container app waiting: ImagePullBackOff/);
  assert.ok(f.fix.some((x) => x.includes('images.json')));
  const none = runChecks(facts({ svc: service('web', { selector: { app: 'web' }, ports: [{ port: 80 }] }), pods: web({ ready: false }),
    extra: { readiness: [{ pod: 'web-1', container: 'app', containerIndex: 0, kind: 'httpGet', probe: 'GET http://10.244.0.5:80/healthz', result: 'HTTP 404', passes: false, path: '/healthz', root: { result: 'HTTP 200', passes: true } }] } }));
  const n = one(none, 'NoPodReady');
  assert.match(n.evidence.join('\n'), /web-1: its readiness probe GET http:\/\/10\.244\.0\.5:80\/healthz answers HTTP 404 now .*GET \/ answers HTTP 200/);
  assert.equal(n.fix[0], `kubectl patch deployment web -n shop --type=json -p '[{"op":"replace","path":"/spec/template/spec/containers/0/readinessProbe/httpGet/path","value":"/"}]'   # probe a path the app answers`);
});

test('proxy: the kernel differs from the slices (a diff), and a failing sync', () => {
  const base = { svc: service('web', { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 80 }] }), pods: web(), slices: [webSlice()] };
  const oneEp = rules([{ protocol: 'TCP', port: 80, portName: '', state: 'endpoints', modulus: 2, endpoints: [{ ip: '10.244.0.5', port: 80, slot: 0 }] }]);
  const d = one(runChecks(facts({ ...base, rules: oneEp })), 'RulesDisagree');
  assert.deepEqual(d.evidence.slice(0, 2), [
    'node test-node 80/TCP: - in EndpointSlices, not in the kernel: 10.244.0.6:80',
    'node test-node 80/TCP: numgen random mod 2 but 1 endpoint entries: some connections find no endpoint',
  ]);
  const broken = kernel2();
  broken[0]!.proxy = { node: 'test-node', mode: 'nftables', syncs: 3, failuresSinceSync: 2, lastSyncAt: '2026-12-06T10:00:00.000Z', lastError: { at: '2026-12-06T10:00:05.000Z', message: 'nft: Error: x' } };
  const p = one(runChecks(facts({ ...base, rules: broken })), 'ProxySyncFailing');
  assert.match(p.evidence[0]!, /nft: Error: x \(2 failed since/);
  const absent = one(runChecks(facts({ ...base, rules: rules([{ protocol: 'TCP', port: 80, portName: '', state: 'absent', endpoints: [] }]) })), 'RulesDisagree');
  assert.match(absent.evidence[0]!, /no rule at all for 10\.96\.5\.5:80/);
});

test('reachability: endpoints answer but the VIP does not → a proxy problem', () => {
  const fs = runChecks(facts({
    svc: service('web', { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 80 }] }), pods: web(), slices: [webSlice()], rules: kernel2(),
    extra: { ...healthyProbes(), vipConnects: [connect('10.96.5.5', 80, 'ETIMEDOUT')] },
  }));
  assert.equal(one(fs, 'VipUnreachable').verdict, 'fail');
});

test('no false alarm: a selectorless Service with hand-written Endpoints and EndpointSlice', () => {
  const svc = service('db', { ports: [{ port: 5432, targetPort: 5432 }] });
  const fs = runChecks(facts({
    svc, slices: [slice('db', [{ port: 5432 }], [{ ip: '192.168.1.10' }])], endpoints: endpointsObject('db', ['192.168.1.10'], 5432),
    rules: rules([{ protocol: 'TCP', port: 5432, portName: '', state: 'endpoints', modulus: 1, endpoints: [{ ip: '192.168.1.10', port: 5432, slot: 0 }] }]),
    extra: { lookups: lookups(), vipConnects: [connect('10.96.5.5', 5432, true)], endpointConnects: [connect('192.168.1.10', 5432, true)] },
  }));
  noFail(fs);
  assert.equal(one(fs, 'Selectorless').verdict, 'info');
  assert.equal(one(fs, 'EndpointsAgree').verdict, 'pass');
});

test('a selectorless Service whose Endpoints no EndpointSlice carries: the cause and the slice to write', () => {
  const f = one(runChecks(facts({ svc: service('db', { ports: [{ port: 5432, targetPort: 5432 }] }), endpoints: endpointsObject('db', ['192.168.1.10'], 5432) })), 'EndpointsNotMirrored');
  assert.equal(f.verdict, 'fail');
  assert.match(f.fix[0]!, /"kind":"EndpointSlice".*"kubernetes\.io\/service-name":"db".*"endpoints":\[\{"addresses":\["192\.168\.1\.10"\]\}\]/);
});

test('hand-written Endpoints the mirroring controller copied into a slice: they agree, no EndpointsNotMirrored', () => {
  const fs = runChecks(facts({ svc: service('db', { ports: [{ port: 5432, targetPort: 5432 }] }), endpoints: endpointsObject('db', ['192.168.1.10'], 5432),
    slices: [slice('db', [{ port: 5432 }], [{ ip: '192.168.1.10' }])] }));
  assert.equal(one(fs, 'EndpointsAgree').verdict, 'pass');
  assert.equal(fs.find((f) => f.code === 'EndpointsNotMirrored'), undefined);
});

test('Endpoints labelled skip-mirror and no slice: not mirrored, and the label is named with the command that removes it', () => {
  const ep = endpointsObject('db', ['192.168.1.10'], 5432);
  const labelled = { ...ep, metadata: { ...ep.metadata, labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } } };
  const f = one(runChecks(facts({ svc: service('db', { ports: [{ port: 5432, targetPort: 5432 }] }), endpoints: labelled })), 'EndpointsNotMirrored');
  assert.equal(f.verdict, 'fail');
  assert.match(f.evidence[0]!, /labelled endpointslice\.kubernetes\.io\/skip-mirror=true/);
  assert.equal(f.fix[0], 'kubectl label endpoints db -n shop endpointslice.kubernetes.io/skip-mirror-   # let the mirroring controller copy them');
  // The same label with a slice the user wrote for the same addresses: that is how it is meant to be used, no alarm.
  const own = runChecks(facts({ svc: service('db', { ports: [{ port: 5432, targetPort: 5432 }] }), endpoints: labelled, slices: [slice('db', [{ port: 5432 }], [{ ip: '192.168.1.10' }])] }));
  assert.equal(own.find((x) => x.code === 'EndpointsNotMirrored'), undefined);
});

test('more than 1000 addresses in a subset: the ones beyond are not mirrored (warn, with how many)', () => {
  const ips = Array.from({ length: 1003 }, (_, i) => `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`);
  const fs = runChecks(facts({ svc: service('big', { ports: [{ port: 80, targetPort: 80 }] }), endpoints: endpointsObject('big', ips, 80),
    slices: [slice('big', [{ port: 80 }], ips.slice(0, 1000).map((ip) => ({ ip })))] }));
  const f = one(fs, 'EndpointsNotMirrored');
  assert.equal(f.verdict, 'warn');
  assert.match(f.title, /^3 hand-written endpoints of big are in no EndpointSlice/);
  assert.match(f.evidence[0]!, /3 addresses beyond the 1000 per subset the mirroring controller copies: 3 of 1003/);
});

test('no false alarm: a headless Service resolves to its Pods and has no rules by design', () => {
  const fs = runChecks(facts({
    svc: service('web', { clusterIP: 'None', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 80 }] }), pods: web(), slices: [webSlice()],
    endpoints: endpointsObject('web', ['10.244.0.5', '10.244.0.6'], 80),
    extra: {
      lookups: lookups().map((l) => ({ ...l, answer: { addresses: ['10.244.0.5', '10.244.0.6'], ms: 1 } })),
      endpointConnects: [connect('10.244.0.5', 80, true, 'web-1'), connect('10.244.0.6', 80, true, 'web-2')],
    },
  }));
  noFail(fs);
  assert.equal(one(fs, 'NoRulesByDesign').verdict, 'info');
  assert.ok(!fs.some((f) => f.check === 'hairpin'), 'no hairpin without a virtual IP');
});

test('no false alarm: ExternalName is a CNAME, with nothing to select or route', () => {
  const fs = runChecks(facts({ svc: service('ext', { type: 'ExternalName', externalName: 'example.com', clusterIP: undefined }), extra: { cname: { rcode: 'NOERROR', answers: ['example.com'] } } }));
  noFail(fs);
  assert.deepEqual(fs.filter((f) => f.verdict === 'pass').map((f) => f.code), ['ServiceFound', 'ExternalNameCname', 'AffinityNone']);
});

test('a probe that cannot be placed is its own finding; the Service is not blamed', () => {
  const fs = runChecks(facts({
    svc: service('web', { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 80 }] }), pods: web(), slices: [webSlice()], rules: kernel2(),
    extra: { probe: { placed: false, reason: 'FailedCreatePodSandBox: no free address left in Pod CIDR 10.244.0.0/24' } },
  }));
  assert.deepEqual(fs.filter((f) => f.verdict === 'fail').map((f) => f.code), ['ProbeNotPlaced']);
  assert.equal(one(fs, 'NotProbed').verdict, 'skip');
});

test('DNS: a short name used from another namespace', () => {
  const f0 = facts({ svc: service('web', { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 80 }] }), pods: web(), slices: [webSlice()], rules: kernel2(), extra: healthyProbes() });
  f0.from = 'frontend';
  f0.lookups = f0.lookups.map((l) => (l.form === 'short' ? { ...l, answer: { error: 'ENOTFOUND', ms: 2 } } : l));
  const f = one(runChecks(f0), 'ShortNameFromOtherNamespace');
  assert.equal(f.verdict, 'warn');
  assert.equal(f.fix[0], '# from namespace frontend, call http://web.shop (or web.shop.svc.cluster.local)');
  f0.lookups = f0.lookups.map((l) => (l.form === 'short' ? { ...l, answer: { addresses: ['10.96.9.9'], ms: 2 } } : l));
  assert.equal(one(runChecks(f0), 'ShortNameIsAnotherService').verdict, 'fail');
});

test('session affinity: the kernel timeout must match; on a headless Service it does nothing', () => {
  const sticky = service('web', { selector: { app: 'web' }, sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } }, ports: [{ port: 80, targetPort: 80 }] });
  const k = kernel2();
  k[0]!.ports[0]!.affinityTimeoutSeconds = 10800;
  assert.match(one(runChecks(facts({ svc: sticky, pods: web(), slices: [webSlice()], rules: k })), 'AffinityNotProgrammed').evidence[0]!, /timeout 10800 s/);
  k[0]!.ports[0]!.affinityTimeoutSeconds = 600;
  assert.equal(one(runChecks(facts({ svc: sticky, pods: web(), slices: [webSlice()], rules: k })), 'AffinityClientIP').verdict, 'pass');
  const headless = service('web', { clusterIP: 'None', selector: { app: 'web' }, sessionAffinity: 'ClientIP', ports: [{ port: 80 }] });
  assert.equal(one(runChecks(facts({ svc: headless, pods: web(), slices: [webSlice()] })), 'AffinityHasNoEffect').verdict, 'warn');
});

test('Endpoints and EndpointSlices that disagree are named with the difference', () => {
  const f = one(runChecks(facts({ svc: service('web', { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 80 }] }), pods: web(), slices: [webSlice()], endpoints: endpointsObject('web', ['10.244.0.5'], 80) })), 'EndpointsDisagree');
  assert.deepEqual(f.evidence, ['only in EndpointSlices: 10.244.0.6:80']);
});

// --- network-policy (Debug Services step 3)
const npNamespaces = [{ metadata: { name: 'shop', labels: { 'kubernetes.io/metadata.name': 'shop' } } }];
const denyAll = { metadata: { name: 'deny-all', namespace: 'shop' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } };
const allowProbe = { metadata: { name: 'allow-probe', namespace: 'shop' }, spec: { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'],
  ingress: [{ from: [{ podSelector: { matchLabels: { 'diagnose.clusterip.dev/probe': 'true' } } }], ports: [{ port: 'http' }] }] } };
const withPolicies = (policies: unknown[], drops: { node: string; comment: string; packets: number }[] = []): DiagnoseFacts => facts({
  svc: service('web', { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 80 }] }), pods: web(), slices: [webSlice()], rules: kernel2(),
  extra: { ...healthyProbes(), vipConnects: [connect('10.96.5.5', 80, 'ETIMEDOUT')],
    endpointConnects: [connect('10.244.0.5', 80, 'ETIMEDOUT', 'web-1'), connect('10.244.0.6', 80, 'ETIMEDOUT', 'web-2')],
    networkPolicy: { policies: policies as never, namespaces: npNamespaces as never, drops } },
});

test('network-policy: a default deny names the policy, the kernel drops, and the timeouts are its consequence', () => {
  const fs = runChecks(withPolicies([denyAll], [{ node: 'node-0', comment: 'NetworkPolicy ingress: shop/deny-all', packets: 4 }]));
  const f = one(fs, 'NetworkPolicyBlocksIngress');
  assert.equal(f.verdict, 'fail');
  assert.match(f.title, /NetworkPolicy shop\/deny-all isolates 2 of 2 endpoints/);
  assert.ok(f.evidence.some((e) => /10\.244\.0\.5:80 \(pod web-1\): isolated for ingress by shop\/deny-all; .*no answer \(dropped\)/.test(e)), f.evidence.join('\n'));
  assert.ok(f.evidence.some((e) => /kernel on node-0: 4 packets dropped by "NetworkPolicy ingress: shop\/deny-all"/.test(e)));
  assert.deepEqual(f.fix[0], 'kubectl describe networkpolicy deny-all -n shop');
  assert.ok(fs.filter((x) => x.check === 'reachability').every((x) => x.verdict !== 'fail'), codes(fs).join(' '));
});

test('network-policy: an allow rule on the named port passes; no policy passes', () => {
  const ok = runChecks(withPolicies([denyAll, allowProbe]));
  assert.equal(one(ok, 'NetworkPolicyAllows').verdict, 'pass');
  assert.equal(one(runChecks(withPolicies([])), 'NoNetworkPolicy').verdict, 'pass');
});

test('network-policy: a default-deny egress without a DNS rule is named as what breaks names', () => {
  const denyEgress = { metadata: { name: 'deny-egress', namespace: 'shop' }, spec: { podSelector: {}, policyTypes: ['Egress'] } };
  const f = withPolicies([denyEgress]);
  f.networkPolicy!.namespaces.push({ metadata: { name: 'kube-system', labels: { 'kubernetes.io/metadata.name': 'kube-system' } } });
  const fs = runChecks(f);
  const dns = one(fs, 'NetworkPolicyBlocksDns');
  assert.equal(dns.verdict, 'fail');
  assert.match(dns.title, /NetworkPolicy shop\/deny-egress blocks the cluster DNS for Pods of shop/);
  assert.match(dns.evidence[0]!, /10\.244\.0\.2:53\/UDP \(pod kube-system\/coredns-1\): the probe's egress is isolated by shop\/deny-egress/);
  assert.equal(one(fs, 'NetworkPolicyBlocksEgress').verdict, 'fail');
  const allowDns = { metadata: { name: 'allow-dns', namespace: 'shop' }, spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }], ports: [{ port: 53, protocol: 'UDP' }] }] } };
  const g = withPolicies([denyEgress, allowDns]);
  g.networkPolicy!.namespaces.push({ metadata: { name: 'kube-system', labels: { 'kubernetes.io/metadata.name': 'kube-system' } } });
  assert.ok(!runChecks(g).some((x) => x.code === 'NetworkPolicyBlocksDns'));
});

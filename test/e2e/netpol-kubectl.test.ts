/**
 * NetworkPolicy end to end (root, real kernel, real Pods, the real kubectl): the API (create, get
 * with its printer, describe, explain, watch, a Kubernetes validation error), then enforcement on a
 * whole cluster — default deny blocks Pod → Service and an allow rule on the named port restores
 * it; namespaceSelector; ipBlock with except; default-deny egress with DNS allowed (nslookup works,
 * other egress is dropped); `clusterip diagnose` names the blocking policy and `clusterip flows`
 * shows the drop with the policy's name. All traffic is sent from Pods (kubectl exec).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { upCluster, type UpCluster } from '../harness/up.js';
import type { ServiceDiagnosis } from '../../src/inspect/types.js';
import type { FlowList } from '../../src/inspect/flowsmodel.js';

const ok = async (c: UpCluster, args: string[], input?: string): Promise<string> => {
  const r = await c.kubectl(args, { input, timeoutMs: 60_000 });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

/**
 * An HTTP GET from a Pod (kubectl exec, busybox nc); true when the page came back. busybox `wget`
 * is not used: under `kubectl exec` on this machine it segfaults (dmesg: "wget: segfault at 0"),
 * policy or not.
 */
async function fetches(c: UpCluster, ns: string, pod: string, url: string): Promise<boolean> {
  const m = /^http:\/\/([^/:]+)(?::(\d+))?/.exec(url)!;
  const r = await c.kubectl(['exec', '-n', ns, pod, '--', 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\nHost: ${m[1]}\\r\\n\\r\\n' | nc -w 2 ${m[1]} ${m[2] ?? 80}`], { timeoutMs: 30_000 });
  if (process.env.NP_DEBUG) console.error(`GET ${ns}/${pod} ${url}: ${r.code} ${r.stdout.slice(0, 40)} ${r.stderr}`);
  return r.code === 0 && /Welcome to nginx!/.test(r.stdout);
}

async function eventually(what: string, fn: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

const WEB = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx
        ports: [{name: http, containerPort: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
`;

const policy = (name: string, ns: string, spec: string): string => `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ${name}, namespace: ${ns}}
spec:
${spec}`;

const sleeper = (c: UpCluster, ns: string, name: string, labels: string) =>
  ok(c, ['run', name, '-n', ns, '--image=busybox', `--labels=${labels}`, '--restart=Never', '--', 'sleep', '3600']);

test('NetworkPolicy with kubectl: API, default deny, named-port allow, namespaceSelector, ipBlock, egress to DNS, diagnose, flows', async (t) => {
  const c = await upCluster(t);

  // --- the API as kubectl sees it
  const r0 = await c.kubectl(['apply', '-f', '-'], { input: policy('bad', 'default', '  podSelector: {}\n  ingress: [{ports: [{port: 80, endPort: 70}]}]\n') });
  assert.notEqual(r0.code, 0);
  assert.match(r0.stderr, /The NetworkPolicy "bad" is invalid: spec\.ingress\[0\]\.ports\[0\]\.endPort: Invalid value: 80: must be greater than or equal to `port`/);
  assert.match(await ok(c, ['explain', 'networkpolicy.spec.ingress.from.ipBlock']), /except\s+<\[\]string>/);
  assert.match(await ok(c, ['api-resources', '--api-group=networking.k8s.io']), /networkpolicies\s+netpol\s+networking\.k8s\.io\/v1\s+true\s+NetworkPolicy/);

  await ok(c, ['create', 'namespace', 'lab']);
  await ok(c, ['label', 'namespace', 'lab', 'team=lab']);
  await ok(c, ['apply', '-f', '-'], WEB);
  await Promise.all([sleeper(c, 'default', 'client', 'app=client'), sleeper(c, 'default', 'other', 'app=other'), sleeper(c, 'lab', 'visitor', 'app=visitor')]);
  await ok(c, ['rollout', 'status', 'deployment/web', '--timeout=60s']);
  await ok(c, ['wait', '--for=condition=Ready', 'pod/client', 'pod/other', '--timeout=60s']);
  await ok(c, ['wait', '-n', 'lab', '--for=condition=Ready', 'pod/visitor', '--timeout=60s']);
  await eventually('no policy: the Service answers', () => fetches(c, 'default', 'client', 'http://web'), 30_000);

  // --- default deny blocks Pod → Service (watched as it arrives)
  const watching = c.kubectl(['get', 'networkpolicies', '-w', '--output-watch-events'], { timeoutMs: 15_000, onStdout: (o) => /ADDED\s+deny-all/.test(o) });
  await new Promise((r) => setTimeout(r, 500));
  await ok(c, ['apply', '-f', '-'], policy('deny-all', 'default', '  podSelector: {}\n  policyTypes: [Ingress]\n'));
  assert.match((await watching).stdout, /ADDED\s+deny-all\s+<none>/);
  await eventually('deny-all to block client → web', async () => !(await fetches(c, 'default', 'client', 'http://web')));

  // diagnose names the policy; flows shows the drop with its name.
  const diag = await c.cli(['diagnose', 'svc/web', '-o', 'json'], { timeoutMs: 90_000 });
  const d = JSON.parse(diag.stdout) as ServiceDiagnosis;
  const blocked = d.findings.find((f) => f.code === 'NetworkPolicyBlocksIngress');
  assert.ok(blocked, JSON.stringify(d.findings.map((f) => `${f.verdict} ${f.code}: ${f.title}`), null, 1));
  assert.equal(blocked.verdict, 'fail');
  assert.match(blocked.title, /NetworkPolicy default\/deny-all/);
  assert.ok(blocked.evidence.some((e) => /dropped by "NetworkPolicy ingress: default\/deny-all"/.test(e)), blocked.evidence.join('\n'));
  assert.equal(diag.code === 0, false, 'diagnose exits non-zero on a failure');
  const text = await c.cli(['diagnose', 'svc/web'], { timeoutMs: 90_000 });
  assert.match(text.stdout, /NetworkPolicy default\/deny-all isolates/);
  const flows = JSON.parse((await c.cli(['flows', 'pod/client', '-o', 'json'])).stdout) as FlowList;
  const drop = flows.flows.find((f) => f.event === 'refused' && /NetworkPolicy ingress: default\/deny-all/.test(f.reason ?? ''));
  assert.ok(drop, JSON.stringify(flows.flows, null, 1));
  assert.equal(drop.client.name, 'default/client');
  assert.match(drop.backend?.pod ?? '', /^default\/web-/);
  assert.match((await c.cli(['flows', '-n', 'default'])).stdout, /default\/client \S+ → pod default\/web-\S+ \S+:80 TCP DROPPED \(dropped by NetworkPolicy ingress: default\/deny-all\)/);

  // --- an allow rule on the named port restores it, for app=client only
  await ok(c, ['apply', '-f', '-'], policy('web-from-client', 'default', `  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: client}}}]
    ports: [{port: http}]
`));
  await eventually('the allow rule to let client in', () => fetches(c, 'default', 'client', 'http://web'));
  assert.equal(await fetches(c, 'default', 'other', 'http://web'), false, 'app=other is still blocked');
  assert.equal(await fetches(c, 'lab', 'visitor', 'http://web.default'), false, 'another namespace is blocked');
  const get = await ok(c, ['get', 'netpol']);
  assert.match(get, /^NAME\s+POD-SELECTOR\s+AGE\n/);
  assert.match(get, /web-from-client\s+app=web\s+\d+s/);
  assert.match(await ok(c, ['describe', 'networkpolicy', 'web-from-client']), /Allowing ingress traffic:\s+To Port: http\/TCP\s+From:\s+PodSelector: app=client/);

  // --- namespaceSelector: Pods of namespaces labelled team=lab may reach web
  await ok(c, ['apply', '-f', '-'], policy('web-from-lab', 'default', `  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {team: lab}}}]
`));
  await eventually('namespaceSelector to let lab in', () => fetches(c, 'lab', 'visitor', 'http://web.default'));
  await ok(c, ['label', 'namespace', 'lab', 'team-']);
  await eventually('the namespace losing its label to block lab again', async () => !(await fetches(c, 'lab', 'visitor', 'http://web.default')));

  // --- ipBlock with except: the Pod network minus the other Pod
  const otherIP = (await ok(c, ['get', 'pod', 'other', '-o', 'jsonpath={.status.podIP}'])).trim();
  await ok(c, ['delete', 'networkpolicy', 'web-from-client', 'web-from-lab']);
  await ok(c, ['apply', '-f', '-'], policy('web-from-range', 'default', `  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{ipBlock: {cidr: 10.244.0.0/16, except: [${otherIP}/32]}}]
    ports: [{port: 80, protocol: TCP}]
`));
  await eventually('the ipBlock to let client in', () => fetches(c, 'default', 'client', 'http://web'));
  assert.ok(await fetches(c, 'lab', 'visitor', 'http://web.default'), 'the block covers the lab Pod too');
  assert.equal(await fetches(c, 'default', 'other', 'http://web'), false, 'except cuts the other Pod out');

  // --- egress: default deny in lab, DNS allowed: names resolve, nothing else leaves
  await ok(c, ['apply', '-f', '-'], policy('deny-egress', 'lab', '  podSelector: {}\n  policyTypes: [Egress]\n'));
  await ok(c, ['apply', '-f', '-'], policy('allow-dns', 'lab', `  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]
    ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]
`));
  await eventually('egress deny to block lab → web', async () => !(await fetches(c, 'lab', 'visitor', 'http://web.default')));
  const lookup = await c.kubectl(['exec', '-n', 'lab', 'visitor', '--', 'nslookup', 'web.default.svc.cluster.local'], { timeoutMs: 30_000 });
  assert.equal(lookup.code, 0, `nslookup with DNS allowed: ${lookup.stdout}${lookup.stderr}`);
  assert.match(lookup.stdout, /Address:?\s+10\.9[6-9]\.|Address:?\s+10\.1[01]\d\./);
  await ok(c, ['delete', 'networkpolicy', 'allow-dns', '-n', 'lab']);
  await eventually('DNS to be blocked without the allow rule', async () => (await c.kubectl(['exec', '-n', 'lab', 'visitor', '--', 'nslookup', '-timeout=1', 'web.default.svc.cluster.local'], { timeoutMs: 30_000 })).code !== 0);
  // diagnose from a Pod of lab: the egress deny is named, as what breaks names too.
  const fromLab = JSON.parse((await c.cli(['diagnose', 'svc/web', '--from', 'lab', '-o', 'json'], { timeoutMs: 90_000 })).stdout) as ServiceDiagnosis;
  const dns = fromLab.findings.find((f) => f.code === 'NetworkPolicyBlocksDns');
  assert.ok(dns, JSON.stringify(fromLab.findings.map((f) => `${f.verdict} ${f.code}: ${f.title}`), null, 1));
  assert.match(dns.title, /NetworkPolicy lab\/deny-egress blocks the cluster DNS for Pods of lab/);
  assert.ok(fromLab.findings.some((f) => f.code === 'NetworkPolicyBlocksEgress'), fromLab.findings.map((f) => `${f.verdict} ${f.code}: ${f.title}\n  ${f.evidence.join('\n  ')}`).join('\n'));

  // --- policies gone: everything open again
  await ok(c, ['delete', 'networkpolicy', '--all', '-A']);
  await eventually('all policies deleted to open web again', () => fetches(c, 'default', 'other', 'http://web'));
});

test('NetworkPolicy across two nodes, iptables proxy mode: ingress judged on the server\'s node, egress on the client\'s', async (t) => {
  const c = await upCluster(t, { nodes: 2, proxyMode: 'iptables' });
  const nodes = (await ok(c, ['get', 'nodes', '-o', 'jsonpath={.items[*].metadata.name}'])).trim().split(' ').sort();
  assert.equal(nodes.length, 2);
  const pinned = (name: string, labels: string, node: string, image: string, args: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, labels: {${labels}}}
spec:
  nodeName: ${node}
  containers: [{name: c, image: ${image}${args}, ports: [{name: http, containerPort: 80}]}]
`;
  await ok(c, ['apply', '-f', '-'], pinned('web', 'app: web', nodes[1]!, 'nginx', ''));
  await ok(c, ['apply', '-f', '-'], pinned('client', 'app: client', nodes[0]!, 'busybox', ', command: [sleep, "3600"]'));
  await ok(c, ['expose', 'pod', 'web', '--port=80', '--target-port=http']);
  await ok(c, ['wait', '--for=condition=Ready', 'pod/web', 'pod/client', '--timeout=60s']);
  await eventually('the Service across nodes', () => fetches(c, 'default', 'client', 'http://web'), 30_000);

  await ok(c, ['apply', '-f', '-'], policy('deny-all', 'default', '  podSelector: {}\n  policyTypes: [Ingress]\n'));
  await eventually('ingress deny on the server\'s node', async () => !(await fetches(c, 'default', 'client', 'http://web')));
  await ok(c, ['apply', '-f', '-'], policy('web-from-client', 'default', '  podSelector: {matchLabels: {app: web}}\n  ingress: [{from: [{podSelector: {matchLabels: {app: client}}}], ports: [{port: http}]}]\n'));
  await eventually('the allow rule across nodes', () => fetches(c, 'default', 'client', 'http://web'));

  await ok(c, ['apply', '-f', '-'], policy('client-no-egress', 'default', '  podSelector: {matchLabels: {app: client}}\n  policyTypes: [Egress]\n'));
  await eventually('egress deny on the client\'s node', async () => !(await fetches(c, 'default', 'client', 'http://web')));
  const drops = await c.onNode('nft', ['list', 'table', 'inet', 'clusterip-policy']);
  assert.match(drops, /counter packets [1-9]\d* bytes \d+ drop comment "NetworkPolicy egress: default\/client-no-egress"/, 'the client\'s node (node 0) dropped it');
  await ok(c, ['delete', 'networkpolicy', 'client-no-egress']);
  await eventually('egress open again', () => fetches(c, 'default', 'client', 'http://web'));
});

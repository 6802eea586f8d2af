/**
 * What kubectl reads (issue 3), end to end: the REAL kubectl on PATH against a real API server
 * (test/harness), asserting on kubectl's own output — discovery (api-resources, short names,
 * categories), server-side tables (get, -o wide, --show-labels, -A, -l, get all), -o yaml/json/jsonpath,
 * describe, explain (OpenAPI v3 schemas), wait, and the error for a missing object.
 * One cluster for the file; objects are created through the in-process client in a random namespace.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Endpoints, Pod, Service, Namespace, Event } from 'kubernetes-types/core/v1.js';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { R } from '../../src/api/resources.js';
import type { KubeObject } from '../../src/api/object.js';
import { startTestCluster, type TestCluster } from '../harness/cluster.js';

let c: TestCluster;
const NS = `rd-${randomBytes(3).toString('hex')}`;
let clusterIP = '';

/** Runs kubectl and fails with its stderr when it exits non-zero. */
async function k(args: string[]): Promise<string> {
  const r = await c.kubectl(args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}\n${r.stderr}`);
  return r.stdout;
}

/** Splits kubectl's column output into rows of whitespace-separated cells (cells have no spaces here). */
const grid = (out: string): string[][] => out.trim().split('\n').map((l) => l.trim().split(/\s{2,}/));

before(async () => {
  c = await startTestCluster(undefined);
  await c.core.create<Namespace>(R.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  const svc = await c.core.create<Service>(R.services, NS, {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: NS, labels: { app: 'web', tier: 'front' } },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'https', port: 443, targetPort: 8443 }] },
  });
  clusterIP = svc.spec?.clusterIP ?? '';
  await c.core.create<Pod>(R.pods, NS, {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: NS, labels: { app: 'web' } },
    spec: { containers: [{ name: 'nginx', image: 'nginx' }] },
  });
  const pod = await c.core.get<Pod>(R.pods, NS, 'web-1');
  // Stand in for the node agent: report the Pod Running and Ready (status subresource).
  (pod as { status?: Pod['status'] }).status = {
    phase: 'Running', podIP: '10.244.0.7', podIPs: [{ ip: '10.244.0.7' }],
    conditions: [{ type: 'Ready', status: 'True' }],
    containerStatuses: [{ name: 'nginx', ready: true, restartCount: 0, image: 'nginx', imageID: '', state: { running: { startedAt: new Date().toISOString() } } }],
  };
  await c.core.update(R.pods, NS, pod, { subresource: 'status' });
  await c.core.create<EndpointSlice>(R.endpointslices, NS, {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
    metadata: { name: 'web-abcde', namespace: NS, labels: { 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'https', port: 8443, protocol: 'TCP' }],
    endpoints: [{ addresses: ['10.244.0.7'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'web-1', namespace: NS } }],
  });
  await c.core.create<Endpoints>(R.endpoints, NS, {
    apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'many', namespace: NS },
    subsets: [{ addresses: ['10.244.0.5', '10.244.0.6', '10.244.0.7', '10.244.0.8'].map((ip) => ({ ip })), ports: [{ port: 80, protocol: 'TCP' }] }],
  });
  await c.core.create<Deployment>(R.deployments, NS, {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'api', namespace: NS },
    spec: { replicas: 2, selector: { matchLabels: { app: 'api' } }, template: { metadata: { labels: { app: 'api' } }, spec: { containers: [{ name: 'agnhost', image: 'agnhost:2.40' }] } } },
  });
  const now = new Date().toISOString();
  await c.core.create<Event>(R.events, NS, {
    apiVersion: 'v1', kind: 'Event', metadata: { name: 'web.1', namespace: NS },
    involvedObject: { kind: 'Service', name: 'web', namespace: NS, uid: svc.metadata?.uid, apiVersion: 'v1' },
    reason: 'ClusterIPAllocated', message: `Cluster IP [IPv4]: ${clusterIP} is allocated`, type: 'Normal', count: 1,
    firstTimestamp: now, lastTimestamp: now, source: { component: 'ipallocator-repair-controller' },
  });
});
after(() => c?.close());

test('api-resources lists short names, groups, namespaced and kinds from aggregated discovery', async () => {
  const rows = grid(await k(['api-resources']));
  assert.deepEqual(rows[0], ['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND']);
  const find = (name: string) => rows.find((r) => r[0] === name);
  assert.deepEqual(find('services'), ['services', 'svc', 'v1', 'true', 'Service']);
  assert.deepEqual(find('namespaces'), ['namespaces', 'ns', 'v1', 'false', 'Namespace']);
  assert.deepEqual(find('deployments'), ['deployments', 'deploy', 'apps/v1', 'true', 'Deployment']);
  assert.deepEqual(find('endpointslices'), ['endpointslices', 'discovery.k8s.io/v1', 'true', 'EndpointSlice']);
  const all = await k(['api-resources', '--categories=all', '-o', 'name']);
  assert.deepEqual(all.trim().split('\n').sort(), ['cronjobs.batch', 'daemonsets.apps', 'deployments.apps', 'horizontalpodautoscalers.autoscaling', 'jobs.batch', 'pods', 'replicasets.apps', 'services', 'statefulsets.apps']);
});

test('get svc: server-side table, -o wide, --show-labels, -l, -A', async () => {
  const t = grid(await k(['get', 'svc', '-n', NS]));
  assert.deepEqual(t[0], ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
  assert.deepEqual(t[1]!.slice(0, 5), ['web', 'ClusterIP', clusterIP, '<none>', '80/TCP,443/TCP']);
  assert.match(t[1]![5]!, /^\d+s$/);
  const w = grid(await k(['get', 'services', '-n', NS, '-o', 'wide']));
  assert.deepEqual(w[0], ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', 'SELECTOR']);
  assert.equal(w[1]![6], 'app=web');
  const l = grid(await k(['get', 'svc', '-n', NS, '--show-labels']));
  assert.equal(l[0]![6], 'LABELS');
  assert.equal(l[1]![6], 'app=web,tier=front');
  assert.equal((await k(['get', 'svc', '-n', NS, '-l', 'tier=back'])).trim(), '');
  assert.equal(grid(await k(['get', 'svc', '-n', NS, '-l', 'tier=front']))[1]![0], 'web');
  const a = grid(await k(['get', 'svc', '-A']));
  assert.deepEqual(a[0]!.slice(0, 2), ['NAMESPACE', 'NAME']);
  assert.ok(a.some((r) => r[0] === NS && r[1] === 'web'), 'namespace column filled from row metadata');
});

test('get svc -o jsonpath/yaml/json: the full object', async () => {
  assert.equal(await k(['get', 'svc', 'web', '-n', NS, '-o', 'jsonpath={.spec.clusterIP}']), clusterIP);
  assert.match(await k(['get', 'svc', 'web', '-n', NS, '-o', 'yaml']), /^apiVersion: v1\nkind: Service\n[\s\S]*  ports:\n  - name: http\n    port: 80\n/m);
  const j = JSON.parse(await k(['get', 'svc/web', '-n', NS, '-o', 'json']));
  assert.equal(j.kind, 'Service');
  assert.equal(j.spec.ports[1].targetPort, 8443);
});

test('get pods, endpoints, endpointslices, deployments, namespaces, events: Kubernetes columns', async () => {
  const p = grid(await k(['get', 'po', '-n', NS, '-o', 'wide']));
  assert.deepEqual(p[0], ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
  assert.deepEqual([p[1]![0], p[1]![1], p[1]![2], p[1]![3], p[1]![5]], ['web-1', '1/1', 'Running', '0', '10.244.0.7']);
  const es = grid(await k(['get', 'endpointslices', '-n', NS]));
  assert.deepEqual(es[0], ['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS', 'AGE']);
  assert.deepEqual(es[1]!.slice(0, 4), ['web-abcde', 'IPv4', '8080,8443', '10.244.0.7']);
  const d = grid(await k(['get', 'deploy', '-n', NS, '-o', 'wide']));
  assert.deepEqual(d[0], ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
  assert.deepEqual([d[1]![0], d[1]![1], d[1]![5], d[1]![6], d[1]![7]], ['api', '0/2', 'agnhost', 'agnhost:2.40', 'app=api']);
  const n = grid(await k(['get', 'ns', NS]));
  assert.deepEqual(n[0], ['NAME', 'STATUS', 'AGE']);
  assert.deepEqual(n[1]!.slice(0, 2), [NS, 'Active']);
  const e = grid(await k(['get', 'events', '-n', NS]));
  assert.deepEqual(e[0], ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
  assert.deepEqual(e[1]!.slice(1), ['Normal', 'ClusterIPAllocated', 'service/web', `Cluster IP [IPv4]: ${clusterIP} is allocated`]);
  const ep = grid(await k(['get', 'ep', 'many', '-n', NS]));
  assert.deepEqual(ep[0], ['NAME', 'ENDPOINTS', 'AGE']);
  assert.deepEqual(ep[1]!.slice(0, 2), ['many', '10.244.0.5:80,10.244.0.6:80,10.244.0.7:80 + 1 more...']);
});

test('get replicasets, statefulsets, nodes, configmaps, leases: Kubernetes columns', async () => {
  const tmpl = { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'busybox' }] } };
  await c.core.create(R.replicasets, NS, { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'db-rs', namespace: NS },
    spec: { replicas: 1, selector: { matchLabels: { app: 'db' } }, template: tmpl } } as KubeObject);
  await c.core.create(R.statefulsets, NS, { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db', namespace: NS },
    spec: { replicas: 3, serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: tmpl } } as KubeObject);
  await c.core.create(R.configmaps, NS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: NS }, data: { a: '1', b: '2' } } as KubeObject);
  await c.core.create(R.leases, NS, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'lock', namespace: NS }, spec: { holderIdentity: 'me' } } as KubeObject);
  const node = `n-${randomBytes(3).toString('hex')}`;
  await c.core.create(R.nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: node, labels: { 'node-role.kubernetes.io/control-plane': '' } } } as KubeObject);
  const rs = grid(await k(['get', 'rs', '-n', NS, '-o', 'wide']));
  assert.deepEqual(rs[0], ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
  assert.deepEqual([rs[1]![0], rs[1]![1], rs[1]![5], rs[1]![6], rs[1]![7]], ['db-rs', '1', 'db', 'busybox', 'app=db']);
  const sts = grid(await k(['get', 'sts', '-n', NS]));
  assert.deepEqual(sts[0], ['NAME', 'READY', 'AGE']);
  assert.deepEqual(sts[1]!.slice(0, 2), ['db', '0/3']);
  const cm = grid(await k(['get', 'cm', 'cfg', '-n', NS]));
  assert.deepEqual(cm[0], ['NAME', 'DATA', 'AGE']);
  assert.deepEqual(cm[1]!.slice(0, 2), ['cfg', '2']);
  const l = grid(await k(['get', 'leases', '-n', NS]));
  assert.deepEqual(l[0], ['NAME', 'HOLDER', 'AGE']);
  assert.deepEqual(l[1]!.slice(0, 2), ['lock', 'me']);
  const no = grid(await k(['get', 'no', node, '-o', 'wide']));
  assert.deepEqual(no[0], ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION', 'INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME']);
  assert.deepEqual([no[1]![0], no[1]![1], no[1]![2]], [node, 'Unknown', 'control-plane']);
  await c.core.delete(R.nodes, undefined, node);
});

test('get all: the "all" category across kinds', async () => {
  const out = await k(['get', 'all', '-n', NS]);
  assert.match(out, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\npod\/web-1\s+1\/1\s+Running\s+0\s+/m);
  assert.match(out, /^service\/web\s+ClusterIP\s+\S+\s+<none>\s+80\/TCP,443\/TCP\s+/m);
  assert.match(out, /^deployment\.apps\/api\s+0\/2\s+/m);
});

test('describe svc: every field kubectl prints, Endpoints from EndpointSlices, Events', async () => {
  const out = await k(['describe', 'svc', 'web', '-n', NS]);
  const field = (name: string): string | undefined => new RegExp(`^${name}:\\s+(.*)$`, 'm').exec(out)?.[1];
  assert.equal(field('Name'), 'web');
  assert.equal(field('Namespace'), NS);
  assert.equal(field('Labels'), 'app=web');
  assert.equal(field('Selector'), 'app=web');
  assert.equal(field('Type'), 'ClusterIP');
  assert.equal(field('IP Family Policy'), 'SingleStack');
  assert.equal(field('IP Families'), 'IPv4');
  assert.equal(field('IP'), clusterIP);
  assert.equal(field('IPs'), clusterIP);
  assert.equal(field('Port'), 'http  80/TCP');
  assert.equal(field('TargetPort'), '8080/TCP');
  assert.equal(field('Endpoints'), '10.244.0.7:8080');
  assert.equal(field('Session Affinity'), 'None');
  assert.match(out, /^Events:\n\s+Type\s+Reason\s+Age\s+From\s+Message\n\s+----.*\n\s+Normal\s+ClusterIPAllocated\s+\S+\s+ipallocator-repair-controller\s+Cluster IP/m);
});

test('describe pod and deployment', async () => {
  const pod = await k(['describe', 'pod', 'web-1', '-n', NS]);
  assert.match(pod, /^Name:\s+web-1$/m);
  assert.match(pod, /^Status:\s+Running$/m);
  assert.match(pod, /^IP:\s+10\.244\.0\.7$/m);
  assert.match(pod, /^Containers:\n\s+nginx:\n/m);
  const dep = await k(['describe', 'deployment', 'api', '-n', NS]);
  assert.match(dep, /^Name:\s+api$/m);
  assert.match(dep, /^Selector:\s+app=api$/m);
  assert.match(dep, /^Replicas:\s+2 desired \| 0 updated \| 0 total \| 0 available \| 0 unavailable$/m);
  assert.match(dep, /^\s+agnhost:\n\s+Image:\s+agnhost:2\.40$/m);
});

test('explain service.spec.ports prints the field documentation from /openapi/v3', async () => {
  const out = await k(['explain', 'service.spec.ports']);
  assert.match(out, /^KIND:\s+Service\nVERSION:\s+v1\n/m);
  assert.match(out, /^FIELD:\s+ports <\[\]ServicePort>$/m);
  assert.match(out, /^DESCRIPTION:\n\s+The list of ports that are exposed by this service\./m);
  assert.match(out, /^FIELDS:\n/m);
  assert.match(out, /^\s+port\s+<integer> -required-\n\s+The port that will be exposed by this service\./m);
  assert.match(out, /^\s+targetPort\t<(IntOrString|string)>\n\s+Number or name of the port to access on the pods targeted by the service\./m);
  const dep = await k(['explain', 'deploy.spec.replicas']);
  assert.match(dep, /^GROUP:\s+apps\nKIND:\s+Deployment\nVERSION:\s+v1/m);
});

test('wait --for=condition=Ready on a pod that is Ready', async () => {
  const out = await k(['wait', '--for=condition=Ready', 'pod/web-1', '-n', NS, '--timeout=10s']);
  assert.equal(out.trim(), 'pod/web-1 condition met');
  const jp = await k(['wait', '--for=jsonpath={.status.phase}=Running', 'pod/web-1', '-n', NS, '--timeout=10s']);
  assert.equal(jp.trim(), 'pod/web-1 condition met');
});

test('a missing object: Kubernetes NotFound wording, exit 1', async () => {
  const r = await c.kubectl(['get', 'svc', 'nope', '-n', NS]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim(), 'Error from server (NotFound): services "nope" not found');
  const d = await c.kubectl(['get', 'deploy', 'nope', '-n', NS]);
  assert.equal(d.stderr.trim(), 'Error from server (NotFound): deployments.apps "nope" not found');
  const u = await c.kubectl(['get', 'widgets']);
  assert.equal(u.code, 1);
  assert.match(u.stderr, /error: the server doesn't have a resource type "widgets"/);
});

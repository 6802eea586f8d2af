import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, Service, Endpoints, Node, Event, Namespace, ConfigMap } from 'kubernetes-types/core/v1.js';
import type { Deployment, ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { R, type ResourceInfo } from '../../api/resources.js';
import type { KubeObject } from '../../api/object.js';
import { toTable } from './table.js';

const NOW = Date.parse('2026-11-23T10:00:00Z');
const ago = (sec: number): string => new Date(NOW - sec * 1000).toISOString();
const meta = (name: string, ageSec = 300, extra: object = {}) => ({ name, namespace: 'default', uid: `uid-${name}`, creationTimestamp: ago(ageSec), ...extra });

function rows(info: ResourceInfo, objs: KubeObject[]): unknown[][] {
  return toTable(info, objs, { now: NOW }).rows.map((r) => r.cells);
}
function headers(info: ResourceInfo): string[] {
  return toTable(info, [], { now: NOW }).columnDefinitions.map((c) => (c.priority ? `(${c.name})` : c.name));
}

test('services: columns, <none> external IP, port list, selector, table envelope', () => {
  assert.deepEqual(headers(R.services), ['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age', '(Selector)']);
  const svc: Service = {
    apiVersion: 'v1', kind: 'Service', metadata: meta('web', 62, { labels: { app: 'web' } }),
    spec: { type: 'ClusterIP', clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'], selector: { tier: 'f', app: 'web' },
      ports: [{ port: 80, protocol: 'TCP' }, { port: 443, protocol: 'TCP' }] },
  };
  const np: Service = { metadata: meta('np', 7200), spec: { type: 'NodePort', clusterIP: '10.96.0.21', clusterIPs: ['10.96.0.21'], externalIPs: ['192.0.2.1'], ports: [{ port: 80, nodePort: 30080, protocol: 'UDP' }] } };
  const lb: Service = { metadata: meta('lb', 10), spec: { type: 'LoadBalancer', clusterIP: '10.96.0.22', clusterIPs: ['10.96.0.22'], ports: [] } };
  const ext: Service = { metadata: meta('ext', 10), spec: { type: 'ExternalName', externalName: 'example.com' } };
  assert.deepEqual(rows(R.services, [svc, np, lb, ext]), [
    ['web', 'ClusterIP', '10.96.0.20', '<none>', '80/TCP,443/TCP', '62s', 'app=web,tier=f'],
    ['np', 'NodePort', '10.96.0.21', '192.0.2.1', '80:30080/UDP', '120m', '<none>'],
    ['lb', 'LoadBalancer', '10.96.0.22', '<pending>', '<none>', '10s', '<none>'],
    ['ext', 'ExternalName', '<none>', 'example.com', '<none>', '10s', '<none>'],
  ]);
  const t = toTable(R.services, [svc], { now: NOW, listMeta: { resourceVersion: '42' } });
  assert.equal(t.apiVersion, 'meta.k8s.io/v1');
  assert.equal(t.kind, 'Table');
  assert.deepEqual(t.metadata, { resourceVersion: '42' });
  assert.deepEqual(t.rows[0]!.object, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: svc.metadata });
  assert.deepEqual(t.columnDefinitions[0], { name: 'Name', type: 'string', format: 'name', priority: 0,
    description: t.columnDefinitions[0]!.description });
  assert.match(t.columnDefinitions[0]!.description, /^Name must be unique within a namespace/);
  assert.equal(toTable(R.services, [svc], { includeObject: 'Object' }).rows[0]!.object, svc);
  assert.equal(toTable(R.services, [svc], { includeObject: 'None' }).rows[0]!.object, undefined);
  assert.deepEqual(toTable(R.services, [svc], { noColumns: true }).columnDefinitions, []);
});

const running = (name: string, ready = true, restarts = 0) => ({ name, ready, restartCount: restarts, image: 'x', imageID: '', state: { running: { startedAt: ago(100) } } });

test('pods: READY, STATUS (Running, ContainerCreating, CrashLoopBackOff, Completed, Init, Terminating), RESTARTS, wide', () => {
  assert.deepEqual(headers(R.pods), ['Name', 'Ready', 'Status', 'Restarts', 'Age', '(IP)', '(Node)', '(Nominated Node)', '(Readiness Gates)']);
  const spec = { containers: [{ name: 'a' }, { name: 'b' }], nodeName: 'node-1' };
  const pods: Pod[] = [
    { metadata: meta('run'), spec, status: { phase: 'Running', podIP: '10.244.1.5', podIPs: [{ ip: '10.244.1.5' }], containerStatuses: [running('a'), running('b', false)] } },
    { metadata: meta('creating'), spec: { containers: [{ name: 'a' }] }, status: { phase: 'Pending', containerStatuses: [{ name: 'a', ready: false, restartCount: 0, image: 'x', imageID: '', state: { waiting: { reason: 'ContainerCreating' } } }] } },
    { metadata: meta('crash'), spec: { containers: [{ name: 'a' }] }, status: { phase: 'Running', containerStatuses: [{ name: 'a', ready: false, restartCount: 4, image: 'x', imageID: '',
      state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, finishedAt: ago(30) } } }] } },
    { metadata: meta('done'), spec: { containers: [{ name: 'a' }] }, status: { phase: 'Succeeded', containerStatuses: [{ name: 'a', ready: false, restartCount: 0, image: 'x', imageID: '', state: { terminated: { exitCode: 0, reason: 'Completed' } } }] } },
    { metadata: meta('exit'), spec: { containers: [{ name: 'a' }] }, status: { phase: 'Failed', containerStatuses: [{ name: 'a', ready: false, restartCount: 0, image: 'x', imageID: '', state: { terminated: { exitCode: 3 } } }] } },
    { metadata: meta('init'), spec: { initContainers: [{ name: 'i1' }, { name: 'i2' }], containers: [{ name: 'a' }] }, status: { phase: 'Pending',
      initContainerStatuses: [{ name: 'i1', ready: false, restartCount: 0, image: 'x', imageID: '', state: { terminated: { exitCode: 0 } } }, { name: 'i2', ready: false, restartCount: 0, image: 'x', imageID: '', state: { running: {} } }] } },
    { metadata: meta('initpull'), spec: { initContainers: [{ name: 'i1' }], containers: [{ name: 'a' }] }, status: { phase: 'Pending',
      initContainerStatuses: [{ name: 'i1', ready: false, restartCount: 0, image: 'x', imageID: '', state: { waiting: { reason: 'ErrImagePull' } } }] } },
    { metadata: meta('bye', 300, { deletionTimestamp: ago(1) }), spec: { containers: [{ name: 'a' }] }, status: { phase: 'Running', containerStatuses: [running('a')] } },
    { metadata: meta('gated'), spec: { containers: [{ name: 'a' }], readinessGates: [{ conditionType: 'x/ok' }, { conditionType: 'x/two' }] }, status: { phase: 'Pending', conditions: [{ type: 'x/ok', status: 'True' }] } },
  ];
  assert.deepEqual(rows(R.pods, pods), [
    ['run', '1/2', 'Running', '0', '5m', '10.244.1.5', 'node-1', '<none>', '<none>'],
    ['creating', '0/1', 'ContainerCreating', '0', '5m', '<none>', '<none>', '<none>', '<none>'],
    ['crash', '0/1', 'CrashLoopBackOff', '4 (30s ago)', '5m', '<none>', '<none>', '<none>', '<none>'],
    ['done', '0/1', 'Completed', '0', '5m', '<none>', '<none>', '<none>', '<none>'],
    ['exit', '0/1', 'ExitCode:3', '0', '5m', '<none>', '<none>', '<none>', '<none>'],
    ['init', '0/1', 'Init:1/2', '0', '5m', '<none>', '<none>', '<none>', '<none>'],
    ['initpull', '0/1', 'Init:ErrImagePull', '0', '5m', '<none>', '<none>', '<none>', '<none>'],
    ['bye', '1/1', 'Terminating', '0', '5m', '<none>', '<none>', '<none>', '<none>'],
    ['gated', '0/1', 'Pending', '0', '5m', '<none>', '<none>', '<none>', '1/2'],
  ]);
  const t = toTable(R.pods, [pods[3]!], { now: NOW });
  assert.deepEqual(t.rows[0]!.conditions, [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }]);
});

test('endpoints and endpointslices: three entries then "+ N more...", <none>/<unset> when empty', () => {
  assert.deepEqual(headers(R.endpoints), ['Name', 'Endpoints', 'Age']);
  assert.deepEqual(headers(R.endpointslices), ['Name', 'AddressType', 'Ports', 'Endpoints', 'Age']);
  const addrs = ['10.244.0.5', '10.244.0.6', '10.244.0.7', '10.244.0.8'].map((ip) => ({ ip }));
  const eps: Endpoints[] = [
    { metadata: meta('web'), subsets: [{ addresses: addrs, ports: [{ port: 80 }] }] },
    { metadata: meta('two'), subsets: [{ addresses: addrs.slice(0, 2), ports: [{ port: 80 }] }] },
    { metadata: meta('empty') },
  ];
  assert.deepEqual(rows(R.endpoints, eps), [
    ['web', '10.244.0.5:80,10.244.0.6:80,10.244.0.7:80 + 1 more...', '5m'],
    ['two', '10.244.0.5:80,10.244.0.6:80', '5m'],
    ['empty', '<none>', '5m'],
  ]);
  const slices: EndpointSlice[] = [
    { addressType: 'IPv4', metadata: meta('web-abc'), ports: [{ port: 80, name: 'http' }, { name: 'dns' }], endpoints: addrs.map((a) => ({ addresses: [a.ip] })) },
    { addressType: 'IPv4', metadata: meta('none'), endpoints: [] },
  ];
  assert.deepEqual(rows(R.endpointslices, slices), [
    ['web-abc', 'IPv4', '80,dns', '10.244.0.5,10.244.0.6,10.244.0.7 + 1 more...', '5m'],
    ['none', 'IPv4', '<unset>', '<unset>', '5m'],
  ]);
});

test('deployments, replicasets, statefulsets', () => {
  assert.deepEqual(headers(R.deployments), ['Name', 'Ready', 'Up-to-date', 'Available', 'Age', '(Containers)', '(Images)', '(Selector)']);
  const tmpl = { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.25' }, { name: 'side', image: 'busybox' }] } };
  const d: Deployment = { metadata: meta('nginx', 3 * 3600 + 60), spec: { replicas: 3, selector: { matchLabels: { app: 'nginx' } }, template: tmpl }, status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 } };
  assert.deepEqual(rows(R.deployments, [d]), [['nginx', '2/3', 3, 2, '3h1m', 'nginx,side', 'nginx:1.25,busybox', 'app=nginx']]);
  const rs: ReplicaSet = { metadata: meta('nginx-5d9'), spec: { replicas: 3, selector: { matchLabels: { app: 'nginx' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['b', 'a'] }] }, template: tmpl }, status: { replicas: 3, readyReplicas: 1 } };
  assert.deepEqual(headers(R.replicasets), ['Name', 'Desired', 'Current', 'Ready', 'Age', '(Containers)', '(Images)', '(Selector)']);
  assert.deepEqual(rows(R.replicasets, [rs]), [['nginx-5d9', 3, 3, 1, '5m', 'nginx,side', 'nginx:1.25,busybox', 'app=nginx,tier in (a,b)']]);
  const sts: StatefulSet = { metadata: meta('db'), spec: { replicas: 2, serviceName: 'db', selector: {}, template: tmpl }, status: { replicas: 2, readyReplicas: 2 } };
  assert.deepEqual(headers(R.statefulsets), ['Name', 'Ready', 'Age', '(Containers)', '(Images)']);
  assert.deepEqual(rows(R.statefulsets, [sts]), [['db', '2/2', '5m', 'nginx,side', 'nginx:1.25,busybox']]);
});

test('namespaces, nodes, events, configmaps, leases', () => {
  const ns: Namespace = { metadata: meta('default', 2 * 86400 + 3 * 3600), status: { phase: 'Active' } };
  assert.deepEqual(rows(R.namespaces, [ns]), [['default', 'Active', '2d3h']]);
  assert.deepEqual(headers(R.nodes), ['Name', 'Status', 'Roles', 'Age', 'Version', '(Internal-IP)', '(External-IP)', '(OS-Image)', '(Kernel-Version)', '(Container-Runtime)']);
  const node: Node = {
    metadata: meta('node-1', 600, { labels: { 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/role': 'worker' } }),
    spec: { unschedulable: true },
    status: { conditions: [{ type: 'Ready', status: 'True' }], addresses: [{ type: 'InternalIP', address: '10.0.0.2' }], nodeInfo: { kubeletVersion: 'v1.32.0', osImage: 'Linux', kernelVersion: '6.1', containerRuntimeVersion: 'clusterip://0.1', architecture: '', bootID: '', kubeProxyVersion: '', machineID: '', operatingSystem: 'linux', systemUUID: '' } },
  };
  assert.deepEqual(rows(R.nodes, [node]), [['node-1', 'Ready,SchedulingDisabled', 'control-plane,worker', '10m', 'v1.32.0', '10.0.0.2', '<none>', 'Linux', '6.1', 'clusterip://0.1']]);
  assert.deepEqual(headers(R.events), ['Last Seen', 'Type', 'Reason', 'Object', '(Subobject)', '(Source)', 'Message', '(First Seen)', '(Count)', '(Name)']);
  const ev: Event = { metadata: meta('web.1'), involvedObject: { kind: 'Service', name: 'web', namespace: 'default' }, reason: 'ClusterIPAllocated', type: 'Normal',
    message: ' Allocated 10.96.0.20 ', firstTimestamp: ago(90), lastTimestamp: ago(20), count: 2, source: { component: 'ip-allocator' } };
  assert.deepEqual(rows(R.events, [ev]), [['20s', 'Normal', 'ClusterIPAllocated', 'service/web', '', 'ip-allocator', 'Allocated 10.96.0.20', '90s', 2, 'web.1']]);
  const cm: ConfigMap = { metadata: meta('cfg'), data: { a: '1', b: '2' }, binaryData: { c: '' } };
  assert.deepEqual(rows(R.configmaps, [cm]), [['cfg', 3, '5m']]);
  const lease: Lease = { metadata: meta('node-1'), spec: { holderIdentity: 'node-1' } };
  assert.deepEqual(rows(R.leases, [lease]), [['node-1', 'node-1', '5m']]);
});

test('a resource without a printer gets NAME and CREATED AT', () => {
  const info: ResourceInfo = { ...R.configmaps, group: 'example.com', plural: 'widgets', kind: 'Widget' };
  const t = toTable(info, [{ metadata: meta('w') }], { now: NOW });
  assert.deepEqual(t.columnDefinitions.map((c) => [c.name, c.type]), [['Name', 'string'], ['Created At', 'date']]);
  assert.deepEqual(t.rows[0]!.cells, ['w', ago(300)]);
});

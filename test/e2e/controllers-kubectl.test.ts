/**
 * The controllers seen through the REAL kubectl against the real API server (HTTPS): rollout
 * status, the READY column, `get endpoints` and `describe svc`'s Endpoints line, rolling update.
 * The test plays the node: Pods are bound by the scheduler and marked Running + Ready here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { R } from '../../src/api/resources.js';
import { Informer } from '../../src/client/informer.js';
import { startControllers } from '../../src/controllers/manager.js';
import { startTestCluster } from '../harness/cluster.js';
import { fakeStreams } from '../harness/fake-streams.js';

const manifest = (n: string, image: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: nginx-deployment, namespace: ${n}}
spec:
  replicas: 3
  selector: {matchLabels: {app: nginx}}
  template:
    metadata: {labels: {app: nginx}}
    spec:
      containers:
      - {name: nginx, image: "${image}", ports: [{containerPort: 80, name: http}]}
---
apiVersion: v1
kind: Service
metadata: {name: nginx-service, namespace: ${n}}
spec:
  selector: {app: nginx}
  ports: [{protocol: TCP, port: 80, targetPort: http, name: http}]
`;

test('kubectl apply → rollout status, get deploy/endpoints, describe svc, rolling update', async (t) => {
  const c = await startTestCluster(t, { streams: fakeStreams });
  const client = c.core;
  const suffix = randomBytes(3).toString('hex');
  const nodeName = `node-${suffix}`;
  const node = await client.create<Node>(R.nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName } });
  await client.update<Node>(R.nodes, undefined, { ...node, status: { conditions: [{ type: 'Ready', status: 'True' }] } }, { subresource: 'status' });
  const ctrl = await startControllers(client);
  t.after(() => ctrl.stop());
  // The node's part: bound Pods become Running + Ready with an IP; deleted Pods are removed.
  let ip = 20;
  const kubelet = new Informer<Pod>(client, R.pods);
  const play = (p: Pod) => {
    const ns = p.metadata!.namespace!, name = p.metadata!.name!;
    if (!p.spec?.nodeName) return;
    if (p.metadata?.deletionTimestamp) { client.delete(R.pods, ns, name, { gracePeriodSeconds: 0 }).catch(() => {}); return; }
    if (p.status?.phase === 'Running') return;
    const podIP = `10.244.0.${ip++}`;
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    client.update<Pod>(R.pods, ns, { ...p, status: { ...p.status, phase: 'Running', podIP, podIPs: [{ ip: podIP }],
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }, { type: 'ContainersReady', status: 'True', lastTransitionTime: now }] } },
    { subresource: 'status' }).catch(() => {});
  };
  kubelet.addHandlers({ onAdd: play, onUpdate: (_a, b) => play(b) });
  await kubelet.start();
  t.after(() => kubelet.stop());

  const n = `ctl-${suffix}`;
  assert.equal((await c.kubectl(['create', 'namespace', n])).code, 0);
  const f = await c.file(`d-${n}.yaml`, manifest(n, 'nginx:1.27'));
  let r = await c.kubectl(['apply', '-f', f]);
  assert.equal(r.code, 0, r.stderr);
  r = await c.kubectl(['-n', n, 'rollout', 'status', 'deployment/nginx-deployment', '--timeout=30s']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /deployment "nginx-deployment" successfully rolled out\n$/);
  r = await c.kubectl(['-n', n, 'get', 'deployment', 'nginx-deployment']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^nginx-deployment\s+3\/3\s+3\s+3\s+/m, r.stdout);
  await ctrl.idle();
  r = await c.kubectl(['-n', n, 'get', 'endpoints', 'nginx-service']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^nginx-service\s+10\.244\.0\.\d+:80,10\.244\.0\.\d+:80,10\.244\.0\.\d+:80\s+/m, r.stdout);
  r = await c.kubectl(['-n', n, 'describe', 'service', 'nginx-service']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Endpoints:\s+10\.244\.0\.\d+:80,10\.244\.0\.\d+:80,10\.244\.0\.\d+:80\s*$/m, r.stdout);

  // Rolling update through kubectl.
  r = await c.kubectl(['-n', n, 'set', 'image', 'deployment/nginx-deployment', 'nginx=nginx:1.28']);
  assert.equal(r.code, 0, r.stderr);
  r = await c.kubectl(['-n', n, 'rollout', 'status', 'deployment/nginx-deployment', '--timeout=30s']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /successfully rolled out\n$/);
  r = await c.kubectl(['-n', n, 'describe', 'deployment', 'nginx-deployment']);
  assert.match(r.stdout, /ScalingReplicaSet\s+.*Scaled up replica set nginx-deployment-\w+ to 3/, r.stdout);
  r = await c.kubectl(['-n', n, 'get', 'rs', '-o', 'jsonpath={range .items[*]}{.spec.template.spec.containers[0].image}={.spec.replicas} {end}']);
  assert.deepEqual(r.stdout.trim().split(' ').sort(), ['nginx:1.27=0', 'nginx:1.28=3']);
});

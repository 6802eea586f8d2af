// Cluster DNS from inside Pods, with the real kubectl and a fresh `clusterip up`: StatefulSet Pod
// names under a headless Service (seed 002), SRV records for named ports and PTR, asked with dig
// (bind9-dnsutils) from inside a Pod's own network namespace, never from the host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inNetns } from '../../src/sys/netns.js';
import { podNetnsName } from '../../src/node/podnames.js';
import { upCluster } from '../harness/up.js';

test('StatefulSet Pod names, headless SRV, ClusterIP SRV and PTR answer from inside Pods', async (t) => {
  const c = await upCluster(t);
  const apply = await c.kubectl(['apply', '-f', await c.file('sts.yaml', `apiVersion: v1
kind: Service
metadata:
  name: my-service
spec:
  clusterIP: None
  selector: {app: web}
  ports:
  - name: http
    port: 80
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: my-service
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx
        ports:
        - name: http
          containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  selector: {app: web}
  ports:
  - name: http
    port: 8080
    targetPort: http
`)]);
  assert.equal(apply.code, 0, apply.stderr);
  const rolled = await c.kubectl(['rollout', 'status', 'statefulset/web', '--timeout=60s'], { timeoutMs: 70_000 });
  assert.equal(rolled.code, 0, rolled.stdout + rolled.stderr);
  const pods = JSON.parse((await c.kubectl(['get', 'pods', '-l', 'app=web', '-o', 'json'])).stdout) as
    { items: { metadata: { name: string; uid: string }; status: { podIP: string } }[] };
  const ip = Object.fromEntries(pods.items.map((p) => [p.metadata.name, p.status.podIP]));
  assert.deepEqual(Object.keys(ip).sort(), ['web-0', 'web-1']);

  // From a busybox Pod, as seed 002 shows: pod-0.my-service.<ns>.svc.cluster.local.
  const ns = await c.kubectl(['run', 'q', '--image=busybox', '--rm', '-i', '--restart=Never', '--',
    'nslookup', 'web-0.my-service.default.svc.cluster.local'], { timeoutMs: 60_000 });
  assert.match(ns.stdout, new RegExp(`Address: ${ip['web-0']!.replace(/\./g, '\\.')}\\b`), ns.stdout + ns.stderr);

  // dig from inside web-0's own network namespace.
  const netns = podNetnsName(`cip-${c.record.id}`, pods.items.find((p) => p.metadata.name === 'web-0')!.metadata.uid);
  const dig = (...args: string[]) => inNetns(netns, 'dig', ['+short', '+time=2', '+tries=2', '@10.96.0.10', ...args]);
  const srv = (await dig('SRV', '_http._tcp.my-service.default.svc.cluster.local')).trim().split('\n').sort();
  assert.deepEqual(srv, ['0 100 80 web-0.my-service.default.svc.cluster.local.', '0 100 80 web-1.my-service.default.svc.cluster.local.']);
  assert.equal((await dig('A', 'web-1.my-service.default.svc.cluster.local')).trim(), ip['web-1']);
  const clusterIP = (await c.kubectl(['get', 'svc', 'api', '-o', 'jsonpath={.spec.clusterIP}'])).stdout.trim();
  assert.equal((await dig('SRV', '_http._tcp.api.default.svc.cluster.local')).trim(), '0 100 8080 api.default.svc.cluster.local.');
  assert.equal((await dig('-x', clusterIP)).trim(), 'api.default.svc.cluster.local.');
  assert.equal((await dig('-x', ip['web-0']!)).trim(), 'web-0.my-service.default.svc.cluster.local.');
  // A name that does not exist: NXDOMAIN, not a timeout.
  const nx = await inNetns(netns, 'dig', ['+time=2', '+tries=1', '@10.96.0.10', 'nope.default.svc.cluster.local']);
  assert.match(nx, /status: NXDOMAIN/);
});

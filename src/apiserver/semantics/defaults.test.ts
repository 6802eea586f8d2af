import { test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../api/resources.js';
import type { KubeObject } from '../../api/object.js';
import { applyDefaults, imageTag } from './defaults.js';
import { validateObject } from './validation.js';

const d = (info: typeof R[keyof typeof R], obj: unknown): any => applyDefaults(info, structuredClone(obj) as KubeObject);

test('defaults: Service gets Kubernetes defaults (what kubectl describe prints)', () => {
  const svc = d(R.services, { metadata: { name: 's', namespace: 'default' }, spec: { selector: { app: 'a' }, ports: [{ port: 80 }, { name: 'x', port: 81, targetPort: 'web' }] } });
  assert.deepEqual(svc.spec, {
    selector: { app: 'a' },
    ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }, { name: 'x', port: 81, targetPort: 'web', protocol: 'TCP' }],
    sessionAffinity: 'None', type: 'ClusterIP', internalTrafficPolicy: 'Cluster',
    ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv4'],
  });
});

test('defaults: ClientIP affinity gets timeoutSeconds 10800; None drops the config', () => {
  const a = d(R.services, { spec: { sessionAffinity: 'ClientIP', ports: [{ port: 1 }] } });
  assert.deepEqual(a.spec.sessionAffinityConfig, { clientIP: { timeoutSeconds: 10800 } });
  const b = d(R.services, { spec: { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } } });
  assert.deepEqual(b.spec.sessionAffinityConfig, { clientIP: { timeoutSeconds: 60 } });
  const c = d(R.services, { spec: { sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } } });
  assert.equal(c.spec.sessionAffinityConfig, undefined);
});

test('defaults: headless Services — selectorless gets RequireDualStack with both families, clusterIPs mirrors clusterIP', () => {
  const a = d(R.services, { spec: { clusterIP: 'None' } });
  assert.deepEqual([a.spec.clusterIPs, a.spec.ipFamilyPolicy, a.spec.ipFamilies], [['None'], 'RequireDualStack', ['IPv4', 'IPv6']]);
  const b = d(R.services, { spec: { clusterIP: 'None', selector: { app: 'x' } } });
  assert.deepEqual([b.spec.ipFamilyPolicy, b.spec.ipFamilies], ['SingleStack', ['IPv4']]);
  const c = d(R.services, { spec: { clusterIPs: ['10.96.0.7'] } });
  assert.equal(c.spec.clusterIP, '10.96.0.7');
  const e = d(R.services, { spec: { type: 'ExternalName', externalName: 'example.com' } });
  assert.deepEqual(e.spec, { type: 'ExternalName', externalName: 'example.com', sessionAffinity: 'None' });
});

test('defaults: Pod spec, containers, probes, ports', () => {
  const pod = d(R.pods, {
    metadata: { name: 'p', namespace: 'default' },
    spec: { containers: [
      { name: 'a', image: 'nginx', ports: [{ containerPort: 80 }], readinessProbe: { httpGet: { port: 80 } } },
      { name: 'b', image: 'busybox:1.36', resources: { limits: { cpu: '1' } } },
    ] },
  });
  assert.equal(pod.spec.restartPolicy, 'Always');
  assert.equal(pod.spec.dnsPolicy, 'ClusterFirst');
  assert.equal(pod.spec.terminationGracePeriodSeconds, 30);
  assert.equal(pod.spec.schedulerName, 'default-scheduler');
  assert.equal(pod.spec.enableServiceLinks, true);
  assert.deepEqual(pod.spec.securityContext, {});
  const [a, b] = pod.spec.containers;
  assert.deepEqual([a.imagePullPolicy, b.imagePullPolicy], ['Always', 'IfNotPresent']);
  assert.deepEqual([a.terminationMessagePath, a.terminationMessagePolicy], ['/dev/termination-log', 'File']);
  assert.deepEqual(a.ports, [{ containerPort: 80, protocol: 'TCP' }]);
  assert.deepEqual(a.readinessProbe, { httpGet: { port: 80, path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
  assert.deepEqual(b.resources.requests, { cpu: '1' });
});

test('defaults: imagePullPolicy follows the tag like parsers.ParseImageName', () => {
  assert.equal(imageTag('nginx'), 'latest');
  assert.equal(imageTag('nginx:latest'), 'latest');
  assert.equal(imageTag('localhost:5000/nginx'), 'latest');
  assert.equal(imageTag('localhost:5000/nginx:1.2'), '1.2');
  assert.equal(imageTag('nginx@sha256:abc'), '');
});

test('defaults: Deployment (template gets PodSpec defaults but not enableServiceLinks)', () => {
  const dep = d(R.deployments, { metadata: { name: 'w', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'w' } }, template: { metadata: { labels: { app: 'w' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.25' }] } } } });
  assert.equal(dep.spec.replicas, 1);
  assert.deepEqual(dep.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
  assert.equal(dep.spec.revisionHistoryLimit, 10);
  assert.equal(dep.spec.progressDeadlineSeconds, 600);
  assert.equal(dep.spec.template.spec.restartPolicy, 'Always');
  assert.equal(dep.spec.template.spec.containers[0].imagePullPolicy, 'IfNotPresent');
  assert.equal(dep.spec.template.spec.enableServiceLinks, undefined);
  assert.deepEqual(validateObject(R.deployments, dep), []);
});

test('defaults: ReplicaSet, StatefulSet, Namespace, EndpointSlice, Endpoints', () => {
  assert.equal(d(R.replicasets, { spec: {} }).spec.replicas, 1);
  const ss = d(R.statefulsets, { spec: {} });
  assert.equal(ss.spec.replicas, 1);
  assert.equal(ss.spec.podManagementPolicy, 'OrderedReady');
  assert.deepEqual(ss.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
  assert.equal(ss.spec.revisionHistoryLimit, 10);
  const ns = d(R.namespaces, { metadata: { name: 'team' } });
  assert.deepEqual(ns.spec, { finalizers: ['kubernetes'] });
  assert.deepEqual(ns.status, { phase: 'Active' });
  assert.deepEqual(ns.metadata.labels, { 'kubernetes.io/metadata.name': 'team' });
  const es = d(R.endpointslices, { addressType: 'IPv4', endpoints: [], ports: [{ port: 80 }] });
  assert.deepEqual(es.ports, [{ port: 80, name: '', protocol: 'TCP' }]);
  const ep = d(R.endpoints, { subsets: [{ addresses: [{ ip: '10.244.1.5' }], ports: [{ port: 80 }] }] });
  assert.equal(ep.subsets[0].ports[0].protocol, 'TCP');
});

test('defaults: idempotent', () => {
  const once = d(R.services, { metadata: { name: 's', namespace: 'default' }, spec: { clusterIP: 'None', ports: [{ port: 80 }] } });
  assert.deepEqual(d(R.services, once), once);
  const pod = d(R.pods, { spec: { containers: [{ name: 'a', image: 'x' }] } });
  assert.deepEqual(d(R.pods, pod), pod);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigMap, Pod, Secret, Service } from 'kubernetes-types/core/v1.js';
import { containerEnv, expandVars, serviceEnv } from './env.js';

const svc = (ns: string, name: string, ip: string, ports: Service['spec'] extends infer S ? S extends { ports?: infer P } ? P : never : never): Service =>
  ({ metadata: { namespace: ns, name }, spec: { clusterIP: ip, ports } });

test('Service link variables match the kubelet', () => {
  assert.deepEqual(serviceEnv(svc('d', 'redis-master', '10.0.0.11', [{ name: 'redis', port: 6379, protocol: 'TCP' }])), {
    REDIS_MASTER_SERVICE_HOST: '10.0.0.11',
    REDIS_MASTER_SERVICE_PORT: '6379',
    REDIS_MASTER_SERVICE_PORT_REDIS: '6379',
    REDIS_MASTER_PORT: 'tcp://10.0.0.11:6379',
    REDIS_MASTER_PORT_6379_TCP: 'tcp://10.0.0.11:6379',
    REDIS_MASTER_PORT_6379_TCP_PROTO: 'tcp',
    REDIS_MASTER_PORT_6379_TCP_PORT: '6379',
    REDIS_MASTER_PORT_6379_TCP_ADDR: '10.0.0.11',
  });
  assert.deepEqual(serviceEnv(svc('d', 'h', 'None', [{ port: 80 }])), {});
});

test('container env: fieldRef, $(VAR) expansion, links only for own namespace + kubernetes', () => {
  const pod: Pod = { metadata: { name: 'p1', namespace: 'shop' }, spec: { containers: [] } };
  const env = containerEnv(pod, {
    name: 'c',
    env: [
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
      { name: 'URL', value: 'http://$(WEB_SERVICE_HOST):$(WEB_SERVICE_PORT)/$(POD_NAME)' },
    ],
  }, {
    podIP: '10.244.0.7', hostIP: '10.244.0.1', nodeName: 'node-0', imageEnv: { PATH: '/bin' },
    services: [svc('shop', 'web', '10.96.0.20', [{ port: 80 }]), svc('other', 'x', '10.96.0.21', [{ port: 80 }]),
      svc('default', 'kubernetes', '10.96.0.1', [{ name: 'https', port: 443 }])],
  });
  assert.equal(env.POD_NAME, 'p1');
  assert.equal(env.POD_IP, '10.244.0.7');
  assert.equal(env.NODE, 'node-0');
  assert.equal(env.URL, 'http://10.96.0.20:80/p1');
  assert.equal(env.KUBERNETES_SERVICE_HOST, '10.96.0.1');
  assert.equal(env.X_SERVICE_HOST, undefined);
  assert.equal(env.HOSTNAME, 'p1');
  assert.equal(expandVars('$$(A) $(B)', { A: '1' }), '$(A) $(B)');
});

test('envFrom and valueFrom ConfigMaps, Secrets and resources, with the kubelet\'s errors', async () => {
  const { ContainerConfigError } = await import('./env.js');
  const pod: Pod = { metadata: { name: 'p', namespace: 'shop' }, spec: { containers: [{ name: 'app', resources: { limits: { memory: '128Mi' }, requests: { cpu: '250m' } } }] } };
  const cms: Record<string, ConfigMap> = { settings: { data: { MODE: 'prod', LEVEL: 'debug' } } };
  const secrets: Record<string, Secret> = { creds: { data: { password: Buffer.from('s3cret').toString('base64') } } };
  const ctx = {
    podIP: '10.244.0.7', hostIP: '10.244.0.1', nodeName: 'n', imageEnv: {}, services: [],
    configMap: (_ns: string, n: string) => cms[n], secret: (_ns: string, n: string) => secrets[n], allocatable: { cpu: '2', memory: '4Gi' },
  };
  const env = containerEnv(pod, {
    name: 'app', resources: { limits: { memory: '128Mi' }, requests: { cpu: '250m' } },
    envFrom: [{ configMapRef: { name: 'settings' }, prefix: 'CFG_' }, { secretRef: { name: 'creds' } }, { configMapRef: { name: 'absent', optional: true } }],
    env: [
      { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'MODE' } } },
      { name: 'CFG_LEVEL', value: 'info' },
      { name: 'PASS', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
      { name: 'MAYBE', valueFrom: { secretKeyRef: { name: 'creds', key: 'nope', optional: true } } },
      { name: 'MEM_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
      { name: 'CPU_M', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1m' } } },
      { name: 'CPU_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
      { name: 'URL', value: 'mode=$(MODE)/$(password)' },
    ],
  }, ctx);
  assert.equal(env.CFG_MODE, 'prod');
  assert.equal(env.CFG_LEVEL, 'info', 'env overrides envFrom');
  assert.equal(env.password, 's3cret');
  assert.equal(env.MODE, 'prod');
  assert.equal(env.PASS, 's3cret');
  assert.equal('MAYBE' in env, false);
  assert.equal(env.MEM_MI, '128');
  assert.equal(env.CPU_M, '250');
  assert.equal(env.CPU_LIMIT, '2', 'no limit: the node\'s allocatable');
  assert.equal(env.URL, 'mode=prod/s3cret');
  const fails = (c: Parameters<typeof containerEnv>[1]): string => {
    try { containerEnv(pod, c, ctx); return 'no error'; } catch (e) { assert.ok(e instanceof ContainerConfigError); return (e as Error).message; }
  };
  assert.equal(fails({ name: 'a', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'missing', key: 'k' } } }] }), 'configmap "missing" not found');
  assert.equal(fails({ name: 'a', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'settings', key: 'k' } } }] }), "couldn't find key k in ConfigMap shop/settings");
  assert.equal(fails({ name: 'a', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'nope', key: 'k' } } }] }), 'secret "nope" not found');
  assert.equal(fails({ name: 'a', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'k' } } }] }), "couldn't find key k in Secret shop/creds");
  assert.equal(fails({ name: 'a', envFrom: [{ secretRef: { name: 'nope' } }] }), 'secret "nope" not found');
});

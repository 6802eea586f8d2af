import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
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

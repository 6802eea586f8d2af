import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Service } from 'kubernetes-types/core/v1.js';
import { serviceEnvironment } from './env.js';

const svc = (ns: string, name: string, ip: string, ports: Service['spec'] extends infer S ? S extends { ports?: infer P } ? P : never : never): Service =>
  ({ metadata: { name, namespace: ns }, spec: { clusterIP: ip, ports } });

test('kubelet-style service variables; other namespaces and headless excluded; links off keeps kubernetes', () => {
  const all = [
    svc('default', 'kubernetes', '10.96.0.1', [{ name: 'https', port: 443, protocol: 'TCP' }]),
    svc('app', 'nginx-service', '10.96.12.7', [{ name: 'http', port: 80, protocol: 'TCP' }]),
    svc('app', 'headless', 'None', [{ port: 80 }]),
    svc('other', 'db', '10.96.3.3', [{ port: 5432 }]),
  ];
  const env = Object.fromEntries(serviceEnvironment(all, 'app').map((e) => [e.name, e.value]));
  assert.equal(env.NGINX_SERVICE_SERVICE_HOST, '10.96.12.7');
  assert.equal(env.NGINX_SERVICE_SERVICE_PORT, '80');
  assert.equal(env.NGINX_SERVICE_SERVICE_PORT_HTTP, '80');
  assert.equal(env.NGINX_SERVICE_PORT, 'tcp://10.96.12.7:80');
  assert.equal(env.NGINX_SERVICE_PORT_80_TCP, 'tcp://10.96.12.7:80');
  assert.equal(env.NGINX_SERVICE_PORT_80_TCP_PROTO, 'tcp');
  assert.equal(env.NGINX_SERVICE_PORT_80_TCP_PORT, '80');
  assert.equal(env.NGINX_SERVICE_PORT_80_TCP_ADDR, '10.96.12.7');
  assert.equal(env.KUBERNETES_SERVICE_HOST, '10.96.0.1');
  assert.equal(env.KUBERNETES_SERVICE_PORT_HTTPS, '443');
  assert.equal(env.DB_SERVICE_HOST, undefined);
  assert.equal(env.HEADLESS_SERVICE_HOST, undefined);
  const off = serviceEnvironment(all, 'app', false).map((e) => e.name);
  assert.ok(off.includes('KUBERNETES_SERVICE_HOST') && !off.some((n) => n.startsWith('NGINX')));
});

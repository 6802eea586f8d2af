import { test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../api/resources.js';
import { findUnknownFields, strictDecodingMessage, strictFieldError } from './unknown.js';

test('a valid Service has no unknown fields, maps and int-or-string accept anything', () => {
  const svc = {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: 'web', labels: { 'app.kubernetes.io/name': 'web' }, annotations: { a: 'b' }, managedFields: [{ fieldsV1: { 'f:spec': {} } }] },
    spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http', protocol: 'TCP' }], clusterIP: '10.96.0.5' },
    status: { loadBalancer: {} },
  };
  assert.deepEqual(findUnknownFields(R.services, svc), []);
});

test('unknown fields are reported with their paths, in body order', () => {
  const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'x', labelz: {} }, spec: { portz: [], ports: [{ port: 80, targetPortz: 1 }] }, extra: 1 };
  assert.deepEqual(findUnknownFields(R.services, svc), ['metadata.labelz', 'spec.portz', 'spec.ports[0].targetPortz', 'extra']);
  assert.equal(strictDecodingMessage(['spec.portz', 'extra']), 'strict decoding error: unknown field "spec.portz", unknown field "extra"');
});

test('deep pod template fields are checked in a Deployment', () => {
  const d = {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' },
    spec: {
      replicas: 2, selector: { matchLabels: { app: 'd' } },
      template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 80, hostPortz: 1 }], imagez: 'x' }] } },
    },
  };
  assert.deepEqual(findUnknownFields(R.deployments, d), ['spec.template.spec.containers[0].ports[0].hostPortz', 'spec.template.spec.containers[0].imagez']);
});

test('every served kind has a schema with its group-version-kind', async () => {
  const { SCHEMAS, definitionName } = await import('./schemas.js');
  for (const info of Object.values(R)) {
    const s = SCHEMAS[definitionName(info)];
    assert.ok(s, info.kind);
    assert.deepEqual(s['x-kubernetes-group-version-kind'], [{ group: info.group, kind: info.kind, version: info.version }]);
    assert.deepEqual(findUnknownFields(info, { apiVersion: 'x', kind: info.kind, metadata: { name: 'n' }, bogus: true }), ['bogus']);
  }
});

test('strictFieldError: 400 BadRequest with the strict decoding message, undefined when clean', () => {
  const e = strictFieldError(R.services, { metadata: { name: 'x' }, spec: { portz: 1 } })!;
  assert.equal(e.code, 400);
  assert.equal(e.reason, 'BadRequest');
  assert.equal(e.message, 'strict decoding error: unknown field "spec.portz"');
  assert.equal(strictFieldError(R.services, { metadata: { name: 'x' } }), undefined);
});

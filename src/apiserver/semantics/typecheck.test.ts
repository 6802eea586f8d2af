import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../../api/errors.js';
import { R } from '../../api/resources.js';
import { checkTypes, normalizeNulls } from './typecheck.js';

const message = (fn: () => void): string => {
  try { fn(); } catch (e) { if (e instanceof ApiError) return e.message; throw e; }
  return '';
};

test('checkTypes: well-typed bodies pass; of several wrong values the first in schema order is reported', () => {
  assert.equal(message(() => checkTypes(R.endpointslices, {
    addressType: 'IPv4', metadata: { name: 's', labels: { a: 'b' } }, ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
    endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'p' } }],
  })), '');
  // `spec` comes first in the body, but metadata precedes spec in the schema (as in Go's struct).
  assert.equal(message(() => checkTypes(R.services, { spec: { ports: [{ port: '80' }] }, metadata: { name: 5 } })),
    'Service in version "v1" cannot be handled as a Service: json: cannot unmarshal number 5 into Go struct field ObjectMeta.metadata.name of type string');
  assert.equal(message(() => checkTypes(R.endpointslices, { endpoints: [{ addresses: ['1.2.3.4'] }, { addresses: ['1.2.3.5'], conditions: { ready: 'yes' } }] })),
    'EndpointSlice in version "v1" cannot be handled as a EndpointSlice: json: cannot unmarshal string into Go struct field EndpointConditions.endpoints.conditions.ready of type bool');
  assert.equal(message(() => checkTypes(R.pods, { spec: { containers: [{ name: 'c', resources: { limits: { cpu: true } } }] } })),
    'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal bool into Go struct field ResourceRequirements.spec.containers.resources.limits of type resource.Quantity');
});

test('normalizeNulls: null struct fields dropped, null list items of structs become {}, null string map values ""', () => {
  const svc = { metadata: { name: 's', labels: { a: null }, annotations: null }, spec: { ports: [null, { port: 80, name: null }], selector: { app: null } } };
  normalizeNulls(R.services, svc);
  assert.deepEqual(svc, { metadata: { name: 's', labels: { a: '' } }, spec: { ports: [{}, { port: 80 }], selector: { app: '' } } });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { responseShape, wantsAggregatedDiscovery, parseAccept } from './negotiate.js';

test('kubectl get asks for a Table first', () => {
  assert.equal(responseShape('application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json'), 'Table');
});

test('protobuf-first Accept is answered with plain JSON', () => {
  assert.equal(responseShape('application/vnd.kubernetes.protobuf,application/json'), 'object');
  assert.equal(responseShape('application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io,application/json'), 'Table');
});

test('plain, missing and wildcard Accept give the object', () => {
  assert.equal(responseShape(undefined), 'object');
  assert.equal(responseShape('*/*'), 'object');
  assert.equal(responseShape('application/json'), 'object');
});

test('PartialObjectMetadata(List)', () => {
  assert.equal(responseShape('application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json'), 'PartialObjectMetadataList');
  assert.equal(responseShape('application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io'), 'PartialObjectMetadata');
});

test('aggregated discovery detection and Accept parsing', () => {
  assert.ok(wantsAggregatedDiscovery('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json'));
  assert.ok(!wantsAggregatedDiscovery('application/json'));
  assert.deepEqual(parseAccept('application/json; as=Table ; g="meta.k8s.io"'), [{ type: 'application/json', params: { as: 'Table', g: 'meta.k8s.io' } }]);
});

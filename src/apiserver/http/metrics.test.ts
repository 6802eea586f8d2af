import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requestLabels } from './metrics.js';

test('requestLabels: Kubernetes verbs, scopes and resources', () => {
  const l = (m: string, u: string, ct?: string) => { const { verb, group, version, resource, subresource, scope } = requestLabels(m, u, ct); return [verb, group, version, resource, subresource, scope].join('|'); };
  assert.equal(l('GET', '/api/v1/namespaces/default/services/web'), 'GET||v1|services||resource');
  assert.equal(l('GET', '/api/v1/namespaces/default/services'), 'LIST||v1|services||namespace');
  assert.equal(l('GET', '/api/v1/services'), 'LIST||v1|services||cluster');
  assert.equal(l('GET', '/api/v1/namespaces/default/pods?watch=true&resourceVersion=5'), 'WATCH||v1|pods||namespace');
  assert.equal(l('GET', '/apis/discovery.k8s.io/v1/watch/endpointslices'), 'WATCH|discovery.k8s.io|v1|endpointslices||cluster');
  assert.equal(l('POST', '/api/v1/namespaces/default/services'), 'POST||v1|services||namespace');
  assert.equal(l('PUT', '/apis/apps/v1/namespaces/d/deployments/x/scale'), 'PUT|apps|v1|deployments|scale|resource');
  assert.equal(l('PATCH', '/api/v1/namespaces/default/services/web', 'application/strategic-merge-patch+json'), 'PATCH||v1|services||resource');
  assert.equal(l('PATCH', '/api/v1/namespaces/default/services/web', 'application/apply-patch+yaml'), 'APPLY||v1|services||resource');
  assert.equal(l('DELETE', '/api/v1/namespaces/default/pods'), 'DELETECOLLECTION||v1|pods||namespace');
  assert.equal(l('POST', '/api/v1/namespaces/default/pods/p/exec'), 'CONNECT||v1|pods|exec|resource');
  assert.equal(l('GET', '/healthz'), 'GET|||||');
  assert.equal(l('GET', '/api/v1/nosuchthings'), 'GET|||||', 'an unknown resource counts as a non-resource request');
});

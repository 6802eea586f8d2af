import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forbiddenError, requestAttributes } from './attributes.js';

const user = { name: 'system:serviceaccount:default:default', groups: ['system:authenticated'] };
const attrs = (method: string, path: string, query = '') => {
  const a = requestAttributes(user, method, path, new URLSearchParams(query));
  return { verb: a.verb, resourceRequest: a.resourceRequest, apiGroup: a.apiGroup, resource: a.resource, subresource: a.subresource, namespace: a.namespace, name: a.name };
};
const res = (verb: string, apiGroup: string, resource: string, namespace = '', name = '', subresource = '') => ({ verb, resourceRequest: true, apiGroup, resource, subresource, namespace, name });
const path = (verb: string) => ({ verb, resourceRequest: false, apiGroup: '', resource: '', subresource: '', namespace: '', name: '' });

// RequestInfoFactory's own table, in the shape of its tests.
const CASES: [string, string, string, ReturnType<typeof attrs>][] = [
  ['GET', '/api/v1/namespaces/default/pods', '', res('list', '', 'pods', 'default')],
  ['GET', '/api/v1/namespaces/default/pods', 'watch=true', res('watch', '', 'pods', 'default')],
  ['GET', '/api/v1/namespaces/default/pods', 'watch=True', res('watch', '', 'pods', 'default')],
  ['GET', '/api/v1/namespaces/default/pods', 'watch=false', res('list', '', 'pods', 'default')],
  ['GET', '/api/v1/watch/namespaces/default/pods/p', '', res('watch', '', 'pods', 'default', 'p')],
  ['GET', '/api/v1/namespaces/default/pods', 'fieldSelector=metadata.name%3Dp', res('list', '', 'pods', 'default', 'p')],
  ['GET', '/api/v1/namespaces/default/pods/p', '', res('get', '', 'pods', 'default', 'p')],
  ['GET', '/api/v1/namespaces/default/pods/p/log', '', res('get', '', 'pods', 'default', 'p', 'log')],
  ['GET', '/api/v1/namespaces/default/pods/p/exec', 'command=ls', res('create', '', 'pods', 'default', 'p', 'exec')],
  ['POST', '/api/v1/namespaces/default/pods/p/exec', '', res('create', '', 'pods', 'default', 'p', 'exec')],
  ['POST', '/api/v1/namespaces/default/serviceaccounts/sa/token', '', res('create', '', 'serviceaccounts', 'default', 'sa', 'token')],
  ['DELETE', '/api/v1/namespaces/default/pods', '', res('deletecollection', '', 'pods', 'default')],
  ['DELETE', '/api/v1/namespaces/default/pods/p', '', res('delete', '', 'pods', 'default', 'p')],
  ['PATCH', '/apis/apps/v1/namespaces/ns/deployments/d/scale', '', res('patch', 'apps', 'deployments', 'ns', 'd', 'scale')],
  ['PUT', '/api/v1/namespaces/ns/status', '', res('update', '', 'namespaces', 'ns', 'ns', 'status')],
  ['GET', '/api/v1/namespaces/ns', '', res('get', '', 'namespaces', 'ns', 'ns')],
  ['GET', '/api/v1/namespaces', '', res('list', '', 'namespaces')],
  ['GET', '/api/v1/nodes', '', res('list', '', 'nodes')],
  ['POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', '', res('create', 'authorization.k8s.io', 'selfsubjectaccessreviews')],
  ['GET', '/apis/nope.example/v1/widgets', '', res('list', 'nope.example', 'widgets')],
  ['GET', '/api', '', path('get')],
  ['GET', '/api/v1', '', path('get')],
  ['GET', '/apis/apps/v1', '', path('get')],
  ['GET', '/version', '', path('get')],
  ['POST', '/healthz', '', path('post')],
];

test('request attributes as RequestInfoFactory reads them', () => {
  for (const [m, p, q, want] of CASES) assert.deepEqual(attrs(m, p, q), want, `${m} ${p}?${q}`);
});

test('forbidden: Kubernetes wording for named, namespaced, cluster-scoped, grouped, subresource and path requests', () => {
  const msg = (m: string, p: string, reason?: string) => forbiddenError(requestAttributes(user, m, p, new URLSearchParams()), reason).message;
  assert.equal(msg('GET', '/api/v1/namespaces/default/pods'), 'pods is forbidden: User "system:serviceaccount:default:default" cannot list resource "pods" in API group "" in the namespace "default"');
  assert.equal(msg('GET', '/api/v1/namespaces/default/pods/p'), 'pods "p" is forbidden: User "system:serviceaccount:default:default" cannot get resource "pods" in API group "" in the namespace "default"');
  assert.equal(msg('GET', '/api/v1/nodes'), 'nodes is forbidden: User "system:serviceaccount:default:default" cannot list resource "nodes" in API group "" at the cluster scope');
  assert.equal(msg('POST', '/api/v1/namespaces/d/pods/p/exec'), 'pods "p" is forbidden: User "system:serviceaccount:default:default" cannot create resource "pods/exec" in API group "" in the namespace "d"');
  assert.equal(msg('GET', '/apis/apps/v1/namespaces/d/deployments', 'RBAC: role.rbac.authorization.k8s.io "x" not found'),
    'deployments.apps is forbidden: User "system:serviceaccount:default:default" cannot list resource "deployments" in API group "apps" in the namespace "d": RBAC: role.rbac.authorization.k8s.io "x" not found');
  assert.equal(msg('GET', '/metrics'), 'forbidden: User "system:serviceaccount:default:default" cannot get path "/metrics"');
  const e = forbiddenError(requestAttributes(user, 'GET', '/apis/apps/v1/namespaces/d/deployments/web', new URLSearchParams()));
  assert.deepEqual(e.toStatus().details, { name: 'web', group: 'apps', kind: 'deployments' });
  assert.equal(e.code, 403);
});

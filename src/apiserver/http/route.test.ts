import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseResourcePath } from './route.js';
import { parseProxyPath } from './proxy.js';
import { ApiError } from '../../api/errors.js';
import { ALL_RESOURCES } from '../../api/resources.js';

function p(method: string, path: string, watch = false) {
  const r = parseResourcePath(method, path, watch);
  return r && { plural: r.res.plural, group: r.res.group, verb: r.verb, ns: r.namespace, name: r.name, sub: r.subresource };
}
function code(fn: () => unknown): number {
  try { fn(); } catch (e) { assert.ok(e instanceof ApiError); return e.code; }
  return 0;
}

test('namespaced core resources: list, get, create, update, patch, delete, deletecollection', () => {
  assert.deepEqual(p('GET', '/api/v1/namespaces/default/services'), { plural: 'services', group: '', verb: 'list', ns: 'default', name: undefined, sub: undefined });
  assert.deepEqual(p('GET', '/api/v1/namespaces/default/services/web'), { plural: 'services', group: '', verb: 'get', ns: 'default', name: 'web', sub: undefined });
  assert.equal(p('POST', '/api/v1/namespaces/default/services')!.verb, 'create');
  assert.equal(p('PUT', '/api/v1/namespaces/default/services/web')!.verb, 'update');
  assert.equal(p('PATCH', '/api/v1/namespaces/default/services/web')!.verb, 'patch');
  assert.equal(p('DELETE', '/api/v1/namespaces/default/services/web')!.verb, 'delete');
  assert.equal(p('DELETE', '/api/v1/namespaces/default/services')!.verb, 'deletecollection');
});

test('all-namespace lists and cluster-scoped resources', () => {
  assert.deepEqual(p('GET', '/api/v1/services'), { plural: 'services', group: '', verb: 'list', ns: undefined, name: undefined, sub: undefined });
  assert.deepEqual(p('GET', '/api/v1/nodes/n1'), { plural: 'nodes', group: '', verb: 'get', ns: undefined, name: 'n1', sub: undefined });
  assert.equal(code(() => p('GET', '/api/v1/namespaces/default/nodes')), 404);
  // a named namespaced object without a namespace is not a valid path
  assert.equal(code(() => p('GET', '/api/v1/services/web')), 404);
});

test('the Namespace object and its subresources', () => {
  assert.deepEqual(p('GET', '/api/v1/namespaces/kube-system'), { plural: 'namespaces', group: '', verb: 'get', ns: undefined, name: 'kube-system', sub: undefined });
  assert.deepEqual(p('PUT', '/api/v1/namespaces/x/finalize'), { plural: 'namespaces', group: '', verb: 'update', ns: undefined, name: 'x', sub: 'finalize' });
  assert.equal(p('PUT', '/api/v1/namespaces/x/status')!.sub, 'status');
  assert.equal(p('GET', '/api/v1/namespaces')!.verb, 'list');
});

test('groups, subresources and streaming verbs', () => {
  assert.deepEqual(p('PATCH', '/apis/apps/v1/namespaces/d/deployments/web/scale'), { plural: 'deployments', group: 'apps', verb: 'patch', ns: 'd', name: 'web', sub: 'scale' });
  assert.equal(p('GET', '/apis/discovery.k8s.io/v1/endpointslices')!.verb, 'list');
  assert.equal(p('GET', '/api/v1/namespaces/d/pods/p/log')!.verb, 'log');
  assert.equal(p('GET', '/api/v1/namespaces/d/pods/p/exec')!.verb, 'exec');
  assert.equal(p('POST', '/api/v1/namespaces/d/pods/p/attach')!.verb, 'attach');
  assert.equal(p('POST', '/api/v1/namespaces/d/pods/p/binding')!.verb, 'create');
  assert.equal(code(() => p('GET', '/api/v1/namespaces/d/services/s/exec')), 404);
  assert.equal(code(() => p('GET', '/apis/apps/v2/deployments')), 404);
  assert.equal(code(() => p('GET', '/api/v1/namespaces/d/widgets')), 404);
});

test('watch: query flag and legacy /watch/ prefix', () => {
  assert.equal(p('GET', '/api/v1/namespaces/d/pods', true)!.verb, 'watch');
  assert.deepEqual(p('GET', '/api/v1/watch/namespaces/d/pods/x'), { plural: 'pods', group: '', verb: 'watch', ns: 'd', name: 'x', sub: undefined });
  assert.equal(p('GET', '/apis/apps/v1/watch/deployments')!.verb, 'watch');
});

test('verbs a path does not allow are 405', () => {
  assert.equal(code(() => p('POST', '/api/v1/namespaces/d/services/web')), 405);
  assert.equal(code(() => p('PUT', '/api/v1/namespaces/d/services')), 405);
  assert.equal(code(() => p('OPTIONS', '/api/v1/namespaces/d/services')), 405);
  assert.equal(code(() => p('PUT', '/api/v1/namespaces/d/pods/p/log')), 405);
  assert.equal(code(() => p('GET', '/api/v1/namespaces/d/serviceaccounts/default/token')), 405);
  assert.equal(code(() => p('POST', '/api/v1/namespaces/d/pods/p/ephemeralcontainers')), 405);
});

test('pods/NAME/ephemeralcontainers takes get, update and patch (kubectl debug patches it)', () => {
  for (const [m, verb] of [['GET', 'get'], ['PUT', 'update'], ['PATCH', 'patch']] as const) {
    assert.deepEqual(p(m, '/api/v1/namespaces/d/pods/web/ephemeralcontainers'), { plural: 'pods', group: '', verb, ns: 'd', name: 'web', sub: 'ephemeralcontainers' });
  }
});

test('every subresource the catalog serves is routed for at least one verb', () => {
  const streaming = new Set(['log', 'exec', 'attach', 'portforward']);
  for (const r of ALL_RESOURCES) {
    for (const sub of r.subresources) {
      if (streaming.has(sub)) continue;
      const base = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
      const url = `${base}${r.namespaced ? '/namespaces/d' : ''}/${r.plural}/x/${sub}`;
      // services/proxy and pods/proxy are served by the proxy handler, ahead of the resource routes.
      if (sub === 'proxy') { assert.ok(parseProxyPath(url + '/'), `${r.plural}/proxy: not a proxy path`); continue; }
      const ok = ['GET', 'PUT', 'PATCH', 'POST'].filter((m) => code(() => p(m, url)) === 0);
      assert.ok(ok.length > 0, `${r.plural}/${sub}: no method is routed`);
    }
  }
});

test('non-resource paths are not routed here', () => {
  assert.equal(p('GET', '/version'), undefined);
  assert.equal(p('GET', '/api'), undefined);
  assert.equal(p('GET', '/apis/apps'), undefined);
  assert.equal(p('GET', '/api/v1'), undefined);
  assert.equal(p('GET', '/apis/apps/v1'), undefined);
});

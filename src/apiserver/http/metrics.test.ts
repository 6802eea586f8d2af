import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import { requestLabels } from './metrics.js';
import { R } from '../../api/resources.js';
import { ApiError } from '../../api/errors.js';
import { startTestCluster } from '../../../test/harness/cluster.js';
import { scrape, sampleValue } from '../../inspect/testing/prometheus.js';

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

const CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.metrics.example.com}
spec:
  group: metrics.example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`;

test('/metrics: each request counted once in its own series (code, dry run, verb, scope), custom resources by their group', async (t) => {
  const c = await startTestCluster(t);
  const cm = (name: string): ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { k: 'v' } });
  const scrapeNow = async () => {
    const r = await c.kubectl(['get', '--raw', '/metrics']);
    assert.equal(r.code, 0, r.stderr);
    return scrape(r.stdout);
  };
  const m0 = await scrapeNow();
  await c.http.create(R.configmaps, 'default', cm('a'));
  await c.http.create(R.configmaps, 'default', cm('b'));
  await assert.rejects(c.http.create(R.configmaps, 'default', cm('a')), (e: unknown) => e instanceof ApiError && e.code === 409);
  await c.http.create(R.configmaps, 'default', cm('c'), { dryRun: 'All' });
  await c.http.get(R.configmaps, 'default', 'a');
  await c.http.get(R.configmaps, 'default', 'b');
  await c.http.list(R.configmaps, undefined);
  assert.equal((await c.kubectl(['apply', '-f', '-'], { input: CRD })).code, 0);
  assert.equal((await c.kubectl(['wait', '--for=condition=established', 'crd/widgets.metrics.example.com', '--timeout=10s'])).code, 0);
  const w = await c.kubectl(['apply', '-f', '-'], { input: 'apiVersion: metrics.example.com/v1\nkind: Widget\nmetadata: {name: w1, namespace: default}\n' });
  assert.equal(w.code, 0, w.stderr);
  // Refused before routing (401): still counted under the custom resource's group.
  const denied = await c.kubectlAs('not-a-token', ['get', '--raw', '/apis/metrics.example.com/v1/namespaces/default/widgets']);
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /Unauthorized/);
  // Server-side apply is its own verb (a PATCH with the apply content type).
  const ssa = await c.kubectl(['apply', '--server-side', '-f', '-'], { input: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}\ndata: {k: w}\n' });
  assert.equal(ssa.code, 0, ssa.stderr);
  const m1 = await scrapeNow();

  const base = { group: '', version: 'v1', resource: 'configmaps', subresource: '', component: 'apiserver' };
  const delta = (family: string, labels: Record<string, string>) => sampleValue(m1, family, labels) - sampleValue(m0, family, labels);
  assert.equal(delta('apiserver_request_total', { ...base, verb: 'POST', scope: 'namespace', dry_run: '', code: '201' }), 2);
  assert.equal(delta('apiserver_request_total', { ...base, verb: 'POST', scope: 'namespace', dry_run: '', code: '409' }), 1);
  assert.equal(delta('apiserver_request_total', { ...base, verb: 'POST', scope: 'namespace', dry_run: 'All', code: '201' }), 1);
  assert.equal(delta('apiserver_request_duration_seconds', { ...base, verb: 'POST', scope: 'namespace', dry_run: '' }), 3, 'one duration series for all codes');
  assert.equal(delta('apiserver_request_total', { ...base, verb: 'GET', scope: 'resource', dry_run: '', code: '200' }), 2);
  assert.equal(delta('apiserver_request_total', { ...base, verb: 'LIST', scope: 'cluster', dry_run: '', code: '200' }), 1);
  // kubectl apply of a new object: GET (404), then POST.
  const widget = { group: 'metrics.example.com', version: 'v1', resource: 'widgets', subresource: '', scope: 'namespace', component: 'apiserver', dry_run: '' };
  assert.equal(delta('apiserver_request_total', { ...widget, verb: 'POST', code: '201' }), 1, 'a custom resource is counted as a resource request of its group');
  assert.equal(delta('apiserver_request_total', { ...widget, verb: 'LIST', code: '401' }), 1, 'also when refused before it was routed');
  assert.equal(delta('apiserver_request_total', { ...base, verb: 'APPLY', scope: 'resource', dry_run: '', code: '200' }), 1);
  assert.equal(delta('apiserver_request_total', { ...base, verb: 'PATCH', scope: 'resource', dry_run: '', code: '200' }), 0, 'server-side apply is not counted as PATCH');
});

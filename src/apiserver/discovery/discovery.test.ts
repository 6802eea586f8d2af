import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregatedDiscovery, apiGroup, apiGroupList, apiResourceList, apiVersions, AGGREGATED_DISCOVERY_CONTENT_TYPE } from './discovery.js';
import { nonResource, openapiV2Format, OPENAPI_V2_PROTOBUF_TYPE } from './answers.js';

const AGG_ACCEPT = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';

test('aggregated /api: one core item without a name, pods with short names, categories and subresources', () => {
  const d = aggregatedDiscovery('api');
  assert.equal(d.kind, 'APIGroupDiscoveryList');
  assert.equal(d.apiVersion, 'apidiscovery.k8s.io/v2');
  assert.equal(d.items.length, 1);
  assert.equal(d.items[0]!.metadata.name, undefined);
  const v1 = d.items[0]!.versions[0]!;
  assert.equal(v1.version, 'v1');
  assert.equal(v1.freshness, 'Current');
  const pods = v1.resources.find((r) => r.resource === 'pods')!;
  assert.deepEqual(pods.responseKind, { group: '', version: 'v1', kind: 'Pod' });
  assert.equal(pods.scope, 'Namespaced');
  assert.equal(pods.singularResource, 'pod');
  assert.deepEqual(pods.shortNames, ['po']);
  assert.deepEqual(pods.categories, ['all']);
  assert.ok(pods.verbs.includes('watch') && pods.verbs.includes('patch'));
  assert.deepEqual(pods.subresources!.find((s) => s.subresource === 'log'), { subresource: 'log', responseKind: { group: '', version: 'v1', kind: 'Pod' }, verbs: ['get'] });
  assert.deepEqual(pods.subresources!.find((s) => s.subresource === 'exec')!.verbs, ['create', 'get']);
  const ns = v1.resources.find((r) => r.resource === 'namespaces')!;
  assert.equal(ns.scope, 'Cluster');
  assert.deepEqual(v1.resources.find((r) => r.resource === 'services')!.shortNames, ['svc']);
});

test('aggregated /apis: named groups; deployments/scale answers autoscaling/v1 Scale', () => {
  const d = aggregatedDiscovery('apis');
  assert.deepEqual(d.items.map((i) => i.metadata.name), ['apps', 'discovery.k8s.io', 'coordination.k8s.io', 'batch', 'policy', 'autoscaling', 'networking.k8s.io', 'apiextensions.k8s.io', 'metrics.k8s.io', 'rbac.authorization.k8s.io', 'authentication.k8s.io', 'authorization.k8s.io']);
  // autoscaling: v2 is the preferred (first) version; v1 is served too.
  assert.deepEqual(d.items.find((i) => i.metadata.name === 'autoscaling')!.versions.map((v) => v.version), ['v2', 'v1']);
  const metrics = d.items.find((i) => i.metadata.name === 'metrics.k8s.io')!.versions[0]!.resources;
  assert.deepEqual(metrics.map((r) => [r.resource, r.responseKind.kind, r.verbs]), [['nodes', 'NodeMetrics', ['get', 'list']], ['pods', 'PodMetrics', ['get', 'list']]]);
  const apps = d.items[0]!.versions[0]!.resources;
  const dep = apps.find((r) => r.resource === 'deployments')!;
  assert.deepEqual(dep.shortNames, ['deploy']);
  assert.deepEqual(dep.subresources!.find((s) => s.subresource === 'scale'),
    { subresource: 'scale', responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' }, verbs: ['get', 'patch', 'update'] });
  assert.ok(d.items[1]!.versions[0]!.resources.some((r) => r.resource === 'endpointslices'));
});

test('legacy documents: APIVersions, APIGroupList, APIGroup, APIResourceList with subresource entries', () => {
  assert.deepEqual(apiVersions('127.0.0.1:1234'), { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:1234' }] });
  const gl = apiGroupList() as { groups: { name: string; preferredVersion: unknown }[] };
  assert.deepEqual(gl.groups[0], { name: 'apps', versions: [{ groupVersion: 'apps/v1', version: 'v1' }], preferredVersion: { groupVersion: 'apps/v1', version: 'v1' } });
  assert.equal(apiGroup('nope'), undefined);
  const core = apiResourceList('', 'v1') as { groupVersion: string; resources: Record<string, unknown>[] };
  assert.equal(core.groupVersion, 'v1');
  assert.deepEqual(core.resources.find((r) => r['name'] === 'pods/log'), { name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] });
  const apps = apiResourceList('apps', 'v1') as { resources: Record<string, unknown>[] };
  assert.deepEqual(apps.resources.find((r) => r['name'] === 'deployments/scale'),
    { name: 'deployments/scale', singularName: '', namespaced: true, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] });
  assert.equal(apiResourceList('apps', 'v2'), undefined);
});

test('nonResource routes discovery and OpenAPI paths with the right Content-Type', () => {
  const q = new URLSearchParams();
  assert.equal(nonResource('/api', q, AGG_ACCEPT)!.contentType, AGGREGATED_DISCOVERY_CONTENT_TYPE);
  assert.equal(nonResource('/apis', q, AGG_ACCEPT)!.contentType, 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
  assert.equal(JSON.parse(nonResource('/apis', q, 'application/json')!.body as string).kind, 'APIGroupList');
  assert.equal(JSON.parse(nonResource('/api/', q, undefined)!.body as string).kind, 'APIVersions');
  assert.equal(JSON.parse(nonResource('/apis/apps', q, undefined)!.body as string).kind, 'APIGroup');
  assert.equal(JSON.parse(nonResource('/apis/discovery.k8s.io/v1', q, undefined)!.body as string).resources[0].name, 'endpointslices');
  const idx = JSON.parse(nonResource('/openapi/v3', q, undefined)!.body as string);
  const url: string = idx.paths['api/v1'].serverRelativeURL;
  assert.match(url, /^\/openapi\/v3\/api\/v1\?hash=[0-9A-F]{128}$/);
  assert.equal(JSON.parse(nonResource('/openapi/v3/apis/apps/v1', q, undefined)!.body as string).openapi, '3.0.0');
  assert.equal(JSON.parse(nonResource('/openapi/v2', q, undefined)!.body as string).swagger, '2.0');
  assert.equal(nonResource('/apis/nope/v1', q, undefined), undefined);
  assert.equal(nonResource('/openapi/v3/apis/nope/v1', q, undefined), undefined);
  assert.equal(nonResource('/healthz', q, undefined), undefined);
});

test('/openapi/v2 answers in the format asked for, as kube-openapi does: JSON, protobuf, or 406', () => {
  const cases: [string | undefined, 'json' | 'protobuf' | undefined][] = [
    [undefined, 'json'], ['', 'json'], ['*/*', 'json'], ['application/json', 'json'], ['application/json, */*', 'json'], ['application/*', 'json'],
    ['application/com.github.proto-openapi.spec.v2@v1.0+protobuf', 'protobuf'], // what kubectl sends
    ['application/com.github.proto-openapi.spec.v2.v1.0+protobuf', 'protobuf'],
    ['application/json;q=0.5, application/com.github.proto-openapi.spec.v2@v1.0+protobuf', 'protobuf'],
    ['application/yaml', undefined], ['text/html', undefined], ['application/vnd.kubernetes.protobuf', undefined], ['application/json;q=0', undefined],
  ];
  for (const [accept, want] of cases) assert.equal(openapiV2Format(accept), want, String(accept));
  const proto = nonResource('/openapi/v2', new URLSearchParams(), 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf')!;
  assert.equal(proto.contentType, OPENAPI_V2_PROTOBUF_TYPE);
  assert.ok(Buffer.isBuffer(proto.body));
  assert.equal(nonResource('/openapi/v2', new URLSearchParams(), 'application/json')!.contentType, 'application/json');
  assert.equal(nonResource('/openapi/v2', new URLSearchParams(), 'text/html')!.status, 406);
});

test('review kinds serve only create; serviceaccounts/token answers authentication.k8s.io/v1 TokenRequest', () => {
  const authz = aggregatedDiscovery('apis').items.find((i) => i.metadata.name === 'authorization.k8s.io')!.versions[0]!.resources;
  assert.deepEqual(authz.find((r) => r.resource === 'selfsubjectaccessreviews')!.verbs, ['create']);
  assert.equal(authz.find((r) => r.resource === 'localsubjectaccessreviews')!.scope, 'Namespaced');
  const sa = aggregatedDiscovery('api').items[0]!.versions[0]!.resources.find((r) => r.resource === 'serviceaccounts')!;
  assert.deepEqual(sa.shortNames, ['sa']);
  assert.deepEqual(sa.subresources, [{ subresource: 'token', responseKind: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' }, verbs: ['create'] }]);
});

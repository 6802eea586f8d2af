import { test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../api/resources.js';
import { openapiV3Document, openapiV3Index, groupVersionPath } from './v3.js';
import { openapiV2Document } from './v2.js';
import { definitionName } from './schemas.js';

type Op = { parameters?: { name: string; in: string }[]; 'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string }; 'x-kubernetes-action'?: string };

/** What kubectl's QueryParamVerifierV3 does: some PATCH operation tagged with the GVK declares the parameter. */
function supportsQueryParam(doc: { paths: Record<string, Record<string, Op>> }, gvk: { group: string; version: string; kind: string }, param: string): boolean {
  return Object.values(doc.paths).some((item) => {
    const op = item['patch'];
    const g = op?.['x-kubernetes-group-version-kind'];
    return !!g && g.group === gvk.group && g.version === gvk.version && g.kind === gvk.kind && !!op!.parameters?.some((p) => p.name === param);
  });
}

test('index lists every served group version with a content hash', () => {
  assert.deepEqual(Object.keys(openapiV3Index().paths), ['api/v1', 'apis/apps/v1', 'apis/discovery.k8s.io/v1', 'apis/coordination.k8s.io/v1',
    'apis/batch/v1', 'apis/policy/v1', 'apis/autoscaling/v2', 'apis/autoscaling/v1', 'apis/networking.k8s.io/v1', 'apis/apiextensions.k8s.io/v1', 'apis/metrics.k8s.io/v1beta1',
    'apis/rbac.authorization.k8s.io/v1', 'apis/authentication.k8s.io/v1', 'apis/authorization.k8s.io/v1']);
});

test('every served kind has a PATCH operation declaring fieldValidation (kubectl --validate=strict)', () => {
  // Review kinds are create-only: as in Kubernetes they have no PATCH (kubectl validates them client-side).
  for (const info of Object.values(R).filter((r) => !r.review)) {
    const doc = JSON.parse(openapiV3Document(groupVersionPath(info.group, info.version))!);
    assert.ok(doc.components.schemas[definitionName(info)], info.kind);
    // Read-only resources (metrics.k8s.io) publish no write operations.
    if (info.verbs && !info.verbs.includes('patch')) {
      assert.ok(!supportsQueryParam(doc, { group: info.group, version: info.version, kind: info.kind }, 'fieldValidation'), info.kind);
      continue;
    }
    assert.ok(supportsQueryParam(doc, { group: info.group, version: info.version, kind: info.kind }, 'fieldValidation'), `${info.kind} ${info.version}`);
  }
});

test('schemas carry documentation, refs, required and patch merge keys', () => {
  const doc = JSON.parse(openapiV3Document('api/v1')!);
  const spec = doc.components.schemas['io.k8s.api.core.v1.ServiceSpec'];
  assert.match(spec.properties.ports.description, /^The list of ports that are exposed by this service/);
  assert.equal(spec.properties.ports['x-kubernetes-patch-merge-key'], 'port');
  assert.equal(spec.properties.ports.items.$ref, '#/components/schemas/io.k8s.api.core.v1.ServicePort');
  assert.deepEqual(doc.components.schemas['io.k8s.api.core.v1.ServicePort'].required, ['port']);
  assert.equal(doc.components.schemas['io.k8s.api.core.v1.ServicePort'].properties.targetPort.allOf[0].$ref, '#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString');
  assert.equal(doc.components.schemas['io.k8s.api.core.v1.PodSpec'].properties.containers['x-kubernetes-patch-merge-key'], 'name');
  assert.deepEqual(doc.paths['/api/v1/namespaces/{namespace}/services/{name}'].patch['x-kubernetes-group-version-kind'], { group: '', version: 'v1', kind: 'Service' });
  assert.equal(openapiV3Document('apis/nope/v1'), undefined);
});

test('v2 document: definitions with #/definitions refs and patch operations with fieldValidation', () => {
  const doc = JSON.parse(openapiV2Document());
  assert.equal(doc.swagger, '2.0');
  const meta = doc.definitions['io.k8s.api.core.v1.Service'].properties.metadata;
  assert.equal(meta.$ref, '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
  const patch = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].patch;
  assert.ok(patch.parameters.some((p: { name: string; in: string; type: string }) => p.name === 'fieldValidation' && p.in === 'query' && p.type === 'string'));
  assert.ok(patch.consumes.includes('application/strategic-merge-patch+json'));
});

test('review kinds have only POST; serviceaccounts/{name}/token takes a TokenRequest', () => {
  const doc = JSON.parse(openapiV3Document('apis/authorization.k8s.io/v1')!) as { paths: Record<string, Record<string, unknown>> };
  assert.deepEqual(Object.keys(doc.paths['/apis/authorization.k8s.io/v1/selfsubjectaccessreviews']!).sort(), ['parameters', 'post']);
  const core = JSON.parse(openapiV3Document('api/v1')!) as { paths: Record<string, Record<string, { operationId?: string }>>; components: { schemas: Record<string, unknown> } };
  assert.equal(core.paths['/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token']!.post!.operationId, 'createCoreV1NamespacedServiceAccountToken');
  assert.ok(core.components.schemas['io.k8s.api.authentication.v1.TokenRequest']);
});

/**
 * Identity and access through the API core: TokenRequest on serviceaccounts/NAME/token, the default
 * policy (created, restored, left alone with autoupdate=false), RBAC objects' validation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TokenRequest } from 'kubernetes-types/authentication/v1.js';
import type { ClusterRole, ClusterRoleBinding, RoleBinding } from 'kubernetes-types/rbac/v1.js';
import { decodeJwt } from 'jose';
import type { KubeObject } from '../../api/object.js';
import { R } from '../../api/resources.js';
import { MemoryStorage } from '../../storage/memory.js';
import { createApiCore } from '../core.js';
import { AUTOUPDATE_ANNOTATION, BOOTSTRAP_CLUSTER_ROLES, ensureBootstrapPolicy } from './rbac/bootstrap.js';

async function core(t: { after(fn: () => unknown): void }) {
  const storage = new MemoryStorage();
  const c = await createApiCore({ storage });
  t.after(async () => { await c.close(); storage.close(); });
  return c;
}

test('serviceaccounts/NAME/token: defaults, bounds, binding and Kubernetes\' errors', async (t) => {
  const c = await core(t);
  const sa = await c.client.create<KubeObject>(R.serviceaccounts, 'default', { metadata: { name: 'app' } });
  const tr = await c.client.create<TokenRequest>(R.serviceaccounts, 'default', { spec: {} } as TokenRequest, { subresource: 'token', name: 'app' });
  assert.equal(tr.kind, 'TokenRequest');
  assert.deepEqual(tr.spec, { audiences: ['https://kubernetes.default.svc.cluster.local'], expirationSeconds: 3600 });
  const claims = decodeJwt(tr.status!.token) as { sub?: string; exp?: number; 'kubernetes.io'?: unknown };
  assert.equal(claims.sub, 'system:serviceaccount:default:app');
  assert.equal((claims['kubernetes.io'] as { serviceaccount: { name: string; uid: string } }).serviceaccount.uid, sa.metadata!.uid);
  assert.equal(Date.parse(tr.status!.expirationTimestamp) / 1000, claims.exp);

  const mk = (spec: object, name = 'app') => c.client.create<TokenRequest>(R.serviceaccounts, 'default', { spec } as TokenRequest, { subresource: 'token', name });
  await assert.rejects(mk({ expirationSeconds: 599 }), { code: 422, message: 'TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes' });
  await assert.rejects(mk({}, 'ghost'), { code: 404, message: 'serviceaccounts "ghost" not found' });
  await assert.rejects(mk({ boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'nope' } }), { code: 404, message: 'pods "nope" not found' });
  await assert.rejects(mk({ boundObjectRef: { kind: 'ConfigMap', apiVersion: 'v1', name: 'x' } }), { code: 400, message: 'cannot bind token to object of type v1, Kind=ConfigMap' });
  const s = await c.client.create<KubeObject>(R.secrets, 'default', { metadata: { name: 's' } });
  await assert.rejects(mk({ boundObjectRef: { kind: 'Secret', apiVersion: 'v1', name: 's', uid: 'other' } }), { code: 409 });
  const bound = await mk({ boundObjectRef: { kind: 'Secret', apiVersion: 'v1', name: 's', uid: s.metadata!.uid }, audiences: ['vault'] });
  assert.deepEqual(decodeJwt(bound.status!.token).aud, ['vault']);
  await assert.rejects(mk({ expirationSeconds: 'x' }), { code: 400 });
  // A GET of the subresource is not a read of the account.
  await assert.rejects(c.client.create(R.tokenreviews, undefined, { spec: { token: 'x' } } as never), { code: 405 });
});

test('the default policy: created at start, restored when autoupdate is true, left alone when false', async (t) => {
  const c = await core(t);
  const names = (await c.client.list(R.clusterroles, undefined)).items.map((r) => r.metadata!.name);
  for (const r of BOOTSTRAP_CLUSTER_ROLES) assert.ok(names.includes(r.metadata!.name), r.metadata!.name);
  const crb = await c.client.get<ClusterRoleBinding>(R.clusterrolebindings, undefined, 'cluster-admin');
  assert.deepEqual(crb.subjects, [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:masters' }]);

  const basic = await c.client.get<ClusterRole>(R.clusterroles, undefined, 'system:basic-user');
  await c.client.update(R.clusterroles, undefined, { ...basic, rules: [] });
  const frozen = await c.client.get<ClusterRole>(R.clusterroles, undefined, 'system:discovery');
  await c.client.update(R.clusterroles, undefined, { ...frozen, metadata: { ...frozen.metadata, annotations: { [AUTOUPDATE_ANNOTATION]: 'false' } }, rules: [] });
  await c.client.delete(R.clusterrolebindings, undefined, 'system:basic-user');
  await ensureBootstrapPolicy(c.client);
  assert.equal((await c.client.get<ClusterRole>(R.clusterroles, undefined, 'system:basic-user')).rules!.length, 2);
  assert.deepEqual((await c.client.get<ClusterRole>(R.clusterroles, undefined, 'system:discovery')).rules, []);
  assert.ok(await c.client.get(R.clusterrolebindings, undefined, 'system:basic-user'));
});

test('RBAC objects are validated as Kubernetes does; roleRef never changes; subjects get their apiGroup', async (t) => {
  const c = await core(t);
  await assert.rejects(c.client.create(R.roles, 'default', { metadata: { name: 'r' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: [] }] } as never),
    { code: 422, message: 'Role.rbac.authorization.k8s.io "r" is invalid: rules[0].verbs: Required value: verbs must contain at least one value' });
  await assert.rejects(c.client.create(R.roles, 'default', { metadata: { name: 'r' }, rules: [{ nonResourceURLs: ['/x'], verbs: ['get'] }] } as never),
    { code: 422, message: 'Role.rbac.authorization.k8s.io "r" is invalid: rules[0].nonResourceURLs: Invalid value: ["/x"]: namespaced rules cannot apply to non-resource URLs' });
  await assert.rejects(c.client.create(R.clusterroles, undefined, { metadata: { name: 'a/b' } } as never),
    { code: 422, message: `ClusterRole.rbac.authorization.k8s.io "a/b" is invalid: metadata.name: Invalid value: "a/b": may not contain '/'` });
  await assert.rejects(c.client.create(R.clusterrolebindings, undefined, { metadata: { name: 'b' }, roleRef: { kind: 'Role', name: 'x' }, subjects: [{ kind: 'ServiceAccount', name: 'sa' }] } as never),
    { code: 422, message: 'ClusterRoleBinding.rbac.authorization.k8s.io "b" is invalid: [roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole", subjects[0].namespace: Required value]' });
  const rb = await c.client.create<RoleBinding>(R.rolebindings, 'default', { metadata: { name: 'rb' }, roleRef: { kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'User', name: 'alice' }] } as never);
  assert.deepEqual(rb.roleRef, { kind: 'ClusterRole', name: 'view', apiGroup: 'rbac.authorization.k8s.io' });
  assert.deepEqual(rb.subjects, [{ kind: 'User', name: 'alice', apiGroup: 'rbac.authorization.k8s.io' }]);
  await assert.rejects(c.client.update(R.rolebindings, 'default', { ...rb, roleRef: { ...rb.roleRef, name: 'edit' } }),
    { code: 422, message: 'RoleBinding.rbac.authorization.k8s.io "rb" is invalid: roleRef: Invalid value: {rbac.authorization.k8s.io ClusterRole edit}: cannot change roleRef' });
});

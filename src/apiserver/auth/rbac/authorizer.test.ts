import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-types/rbac/v1.js';
import type { KubeObject } from '../../../api/object.js';
import { requestAttributes, type Attributes } from '../attributes.js';
import { RbacAuthorizer, type CacheView } from './authorizer.js';
import { ruleAllows } from './rules.js';
import { BOOTSTRAP_CLUSTER_ROLES, BOOTSTRAP_CLUSTER_ROLE_BINDINGS } from './bootstrap.js';

/** A minimal watch cache: objects by key, synchronous events. */
class FakeCache implements CacheView {
  readonly objects = new Map<string, { obj: KubeObject }>();
  private readonly subs = new Set<Parameters<CacheView['subscribe']>[0]>();
  constructor(private readonly namespaced: boolean) {}
  key(o: KubeObject): string { return this.namespaced ? `${o.metadata!.namespace}/${o.metadata!.name}` : o.metadata!.name!; }
  get(ns: string | undefined, name: string) { return this.objects.get(this.namespaced ? `${ns}/${name}` : name); }
  subscribe(fn: Parameters<CacheView['subscribe']>[0]) { this.subs.add(fn); return () => this.subs.delete(fn); }
  onReset() { return () => {}; }
  put(o: KubeObject): void {
    const key = this.key(o);
    const prev = this.objects.get(key);
    this.objects.set(key, { obj: o });
    for (const s of this.subs) s({ type: prev ? 'MODIFIED' : 'ADDED', key, cur: { obj: o }, prev });
  }
  remove(o: KubeObject): void {
    const key = this.key(o);
    const prev = this.objects.get(key);
    this.objects.delete(key);
    for (const s of this.subs) s({ type: 'DELETED', key, cur: prev!, prev });
  }
}

function setup() {
  const src = { roles: new FakeCache(true), roleBindings: new FakeCache(true), clusterRoles: new FakeCache(false), clusterRoleBindings: new FakeCache(false) };
  for (const r of BOOTSTRAP_CLUSTER_ROLES) src.clusterRoles.put(r as KubeObject);
  for (const b of BOOTSTRAP_CLUSTER_ROLE_BINDINGS) src.clusterRoleBindings.put(b as KubeObject);
  return { src, rbac: new RbacAuthorizer(src) };
}

const sa = (ns: string, name: string) => ({ name: `system:serviceaccount:${ns}:${name}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'] });
const req = (user: Attributes['user'], method: string, path: string, q = '') => requestAttributes(user, method, path, new URLSearchParams(q));

test('rule matching: wildcards, */subresource, resourceNames, URL prefixes', () => {
  const u = sa('d', 'x');
  const get = (p: string) => req(u, 'GET', p);
  assert.ok(ruleAllows(get('/api/v1/namespaces/d/pods'), { apiGroups: [''], resources: ['pods'], verbs: ['list'] }));
  assert.ok(!ruleAllows(get('/api/v1/namespaces/d/pods'), { apiGroups: ['apps'], resources: ['pods'], verbs: ['list'] }));
  assert.ok(ruleAllows(get('/api/v1/namespaces/d/pods/p/log'), { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] }));
  assert.ok(!ruleAllows(get('/api/v1/namespaces/d/pods/p/log'), { apiGroups: [''], resources: ['pods'], verbs: ['get'] }));
  assert.ok(ruleAllows(get('/apis/apps/v1/namespaces/d/deployments/w/scale'), { apiGroups: ['*'], resources: ['*/scale'], verbs: ['get'] }));
  assert.ok(ruleAllows(get('/api/v1/namespaces/d/configmaps/a'), { apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'], verbs: ['get'] }));
  assert.ok(!ruleAllows(get('/api/v1/namespaces/d/configmaps/b'), { apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'], verbs: ['get'] }));
  assert.ok(!ruleAllows(get('/api/v1/namespaces/d/configmaps'), { apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'], verbs: ['list'] }));
  assert.ok(ruleAllows(get('/apis/apps/v1'), { nonResourceURLs: ['/apis/*'], verbs: ['get'] }));
  assert.ok(!ruleAllows(get('/metrics'), { nonResourceURLs: ['/apis/*'], verbs: ['get'] }));
});

test('a ServiceAccount gets discovery and self reviews only; RoleBindings grant in their namespace; missing roles are reasons, not errors', () => {
  const { src, rbac } = setup();
  const u = sa('team', 'app');
  assert.equal(rbac.authorize(req(u, 'GET', '/apis')).decision, 'allow');
  assert.equal(rbac.authorize(req(u, 'GET', '/version')).decision, 'allow');
  assert.equal(rbac.authorize(req(u, 'GET', '/openid/v1/jwks')).decision, 'allow');
  assert.equal(rbac.authorize(req(u, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews')).decision, 'allow');
  assert.deepEqual(rbac.authorize(req(u, 'GET', '/api/v1/namespaces/team/pods')), { decision: 'noOpinion', reason: '' });
  assert.equal(rbac.authorize(req(u, 'GET', '/metrics')).decision, 'noOpinion');

  const rb: RoleBinding = { metadata: { namespace: 'team', name: 'view' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:aggregate-to-view' }, subjects: [{ kind: 'ServiceAccount', name: 'app' }] };
  src.roleBindings.put(rb as KubeObject);
  assert.deepEqual(rbac.authorize(req(u, 'GET', '/api/v1/namespaces/team/pods')),
    { decision: 'allow', reason: 'RBAC: allowed by RoleBinding "view/team" of ClusterRole "system:aggregate-to-view" to ServiceAccount "app/team"' });
  assert.equal(rbac.authorize(req(u, 'GET', '/api/v1/namespaces/other/pods')).decision, 'noOpinion');
  assert.equal(rbac.authorize(req(u, 'GET', '/api/v1/pods')).decision, 'noOpinion', 'a RoleBinding never grants at cluster scope');
  assert.equal(rbac.authorize(req(sa('other', 'app'), 'GET', '/api/v1/namespaces/team/pods')).decision, 'noOpinion', 'same name, other namespace');

  const dangling: RoleBinding = { metadata: { namespace: 'team', name: 'd' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'missing' }, subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'system:serviceaccounts:team' }] };
  src.roleBindings.put(dangling as KubeObject);
  assert.deepEqual(rbac.authorize(req(u, 'GET', '/api/v1/namespaces/team/secrets')), { decision: 'noOpinion', reason: 'RBAC: role.rbac.authorization.k8s.io "missing" not found' });
  assert.equal(rbac.authorize(req(u, 'GET', '/api/v1/namespaces/team/pods')).decision, 'allow', 'the missing role does not spoil the other binding');
  const role: Role = { metadata: { namespace: 'team', name: 'missing' }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['list'] }] };
  src.roles.put(role as KubeObject);
  assert.equal(rbac.authorize(req(u, 'GET', '/api/v1/namespaces/team/secrets')).decision, 'allow');

  // Index follows updates and deletes.
  src.roleBindings.put({ ...rb, subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'alice' }] } as KubeObject);
  assert.equal(rbac.authorize(req(u, 'GET', '/api/v1/namespaces/team/pods')).decision, 'noOpinion');
  assert.equal(rbac.authorize(req({ name: 'alice', groups: [] }, 'GET', '/api/v1/namespaces/team/pods')).decision, 'allow');
  src.roleBindings.remove(rb as KubeObject);
  assert.equal(rbac.authorize(req({ name: 'alice', groups: [] }, 'GET', '/api/v1/namespaces/team/pods')).decision, 'noOpinion');

  // Cluster-scoped: a ClusterRoleBinding to a ServiceAccount subject.
  const crb: ClusterRoleBinding = { metadata: { name: 'nodes' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'nodes-reader' }, subjects: [{ kind: 'ServiceAccount', name: 'app', namespace: 'team' }] };
  src.clusterRoleBindings.put(crb as KubeObject);
  assert.deepEqual(rbac.authorize(req(u, 'GET', '/api/v1/nodes')), { decision: 'noOpinion', reason: 'RBAC: clusterrole.rbac.authorization.k8s.io "nodes-reader" not found' });
  src.clusterRoles.put({ metadata: { name: 'nodes-reader' }, rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['list'] }] } as ClusterRole as KubeObject);
  assert.equal(rbac.authorize(req(u, 'GET', '/api/v1/nodes')).decision, 'allow');
});

test('rulesFor lists every rule of the user and reports missing roles as incomplete', () => {
  const { src, rbac } = setup();
  src.roleBindings.put({ metadata: { namespace: 'n', name: 'x' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'gone' }, subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'bob' }] } as RoleBinding as KubeObject);
  const r = rbac.rulesFor({ name: 'bob', groups: ['system:authenticated'] }, 'n');
  assert.ok(r.rules.some((x) => x.resources?.includes('selfsubjectaccessreviews')));
  assert.deepEqual(r.errors, ['role.rbac.authorization.k8s.io "gone" not found']);
});

test('1000 RoleBindings of other subjects cost a request nothing measurable (indexed by subject)', () => {
  const { src, rbac } = setup();
  for (let i = 0; i < 1000; i++) {
    src.roleBindings.put({ metadata: { namespace: `ns${i % 50}`, name: `b${i}` }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'ServiceAccount', name: `sa${i}` }] } as RoleBinding as KubeObject);
  }
  const u = sa('ns7', 'sa7');
  assert.equal(rbac.authorize(req(u, 'GET', '/api/v1/namespaces/ns7/pods')).decision, 'noOpinion', 'view has no rules until aggregated');
  let visited = 0;
  rbac.visitRulesFor(u, 'ns7', (s) => { s(); visited++; return true; });
  // Only the bindings of its own subjects are visited: its groups' ClusterRoleBindings and its one RoleBinding.
  assert.ok(visited < 30, `visited ${visited} rules`);
});

test('a node may list and watch what its NetworkPolicy agent enforces, and write no policy', () => {
  const { rbac } = setup();
  const node = { name: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };
  for (const [path, q] of [['/apis/networking.k8s.io/v1/networkpolicies', ''], ['/apis/networking.k8s.io/v1/networkpolicies', 'watch=true'], ['/api/v1/namespaces', 'watch=1'], ['/api/v1/pods', '']] as const) {
    assert.equal(rbac.authorize(req(node, 'GET', path, q)).decision, 'allow', `${path}?${q}`);
  }
  assert.equal(rbac.authorize(req(node, 'POST', '/apis/networking.k8s.io/v1/namespaces/d/networkpolicies')).decision, 'noOpinion');
});

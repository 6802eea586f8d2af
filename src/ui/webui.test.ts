// The web view's server side on a real API server (HTTPS on 127.0.0.1, real API core): what an
// anonymous client gets, sign-in with a one-time token, the session cookie, the topology snapshot
// and its live deltas, and bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestCluster, type TestCluster } from '../../test/harness/cluster.js';
import { R } from '../api/resources.js';
import { Assets } from './assets.js';
import type { TopologyUpdate } from './model.js';
import { WebUi, type InspectFunctions } from './webui.js';

interface Answer { code: number; headers: Record<string, string | string[] | undefined>; body: string }

function call(c: TestCluster, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string; admin?: boolean; until?: (soFar: string) => boolean } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    // The path as given (no URL normalisation: `..` must reach the server).
    const req = request({
      hostname: '127.0.0.1', port: c.server.port, path, method: opts.method ?? 'GET', ca: c.pki.caCert,
      headers: { ...(opts.admin ? { Authorization: `Bearer ${c.pki.adminToken}` } : {}), ...(opts.headers ?? {}) },
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; if (opts.until?.(body)) { req.destroy(); resolve({ code: res.statusCode!, headers: res.headers, body }); } });
      res.on('end', () => resolve({ code: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

async function setup(t: { after(fn: () => Promise<void> | void): void }, inspect?: InspectFunctions): Promise<{ c: TestCluster; ui: WebUi }> {
  const dir = await mkdtemp(join(tmpdir(), 'cip-ui-assets-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'assets'));
  await writeFile(join(dir, 'login.html'), '<!doctype html><form id="login"></form>');
  await writeFile(join(dir, 'index.html'), '<!doctype html><div id="app"></div>');
  await writeFile(join(dir, 'assets', 'app.js'), 'console.log(1)');
  await writeFile(join(dir, 'assets', 'login.js'), 'console.log(2)');
  let ui!: WebUi;
  const c = await startTestCluster(t, { handlers: (core) => { ui = new WebUi({ client: core, clusterName: 'unit', assets: new Assets(dir), ...(inspect ? { inspect } : {}) }); return ui.handlers; } });
  t.after(() => ui.stop());
  await c.core.create(R.services, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'secret-svc', namespace: 'default' }, spec: { ports: [{ port: 80 }] } } as never);
  return { c, ui };
}

async function signIn(c: TestCluster): Promise<string> {
  const minted = await call(c, '/ui/api/login-tokens', { method: 'POST', admin: true });
  assert.equal(minted.code, 201, minted.body);
  const { token, path, user } = JSON.parse(minted.body) as { token: string; path: string; user: string };
  assert.equal(user, 'clusterip-admin');
  assert.equal(path, `/ui/login#token=${token}`);
  const s = await call(c, '/ui/api/session', { method: 'POST', body: JSON.stringify({ token }), headers: { 'Content-Type': 'application/json', Origin: c.server.url } });
  assert.equal(s.code, 200, s.body);
  const cookie = String(s.headers['set-cookie']);
  assert.match(cookie, /^clusterip_ui=[A-Za-z0-9_-]{43}; Path=\/ui\/; HttpOnly; Secure; SameSite=Strict; Max-Age=\d+$/);
  // The same token again: refused.
  const again = await call(c, '/ui/api/session', { method: 'POST', body: JSON.stringify({ token }) });
  assert.equal(again.code, 401);
  return cookie.split(';')[0]!;
}

test('anonymous: the login page (401) for pages and assets, a 401 Status for data, nothing about the cluster', async (t) => {
  const { c } = await setup(t);
  for (const p of ['/ui/', '/ui/x/y', '/ui/assets/app.js']) {
    const r = await call(c, p);
    assert.equal(r.code, 401, p);
    assert.match(r.body, /<form id="login">/);
    assert.match(String(r.headers['content-security-policy']), /default-src 'self'/);
    assert.equal(r.headers['x-frame-options'], 'DENY');
  }
  for (const p of ['/ui/api/topology', '/ui/api/topology?follow=1', '/ui/api/trace?service=default/secret-svc', '/ui/api/flows']) {
    const r = await call(c, p);
    assert.equal(r.code, 401, p);
    assert.equal((JSON.parse(r.body) as { reason: string }).reason, 'Unauthorized');
    assert.doesNotMatch(r.body, /secret-svc/);
  }
  assert.equal((await call(c, '/ui/api/login-tokens', { method: 'POST' })).code, 401, 'anonymous cannot mint');
  assert.equal((await call(c, '/ui/assets/login.js')).code, 200, 'the login page script is public');
  assert.equal((await call(c, '/ui/api/topology', { headers: { Cookie: `clusterip_ui=${'A'.repeat(43)}` } })).code, 401, 'a made-up session');
  assert.equal((await call(c, '/ui')).code, 301);
  // Other paths are untouched: anonymous still gets 401 from the API itself.
  assert.equal((await call(c, '/api/v1/services')).code, 401);
});

test('signed in: the page, the topology snapshot, then live deltas; logout ends the session', async (t) => {
  const { c } = await setup(t);
  const cookie = await signIn(c);
  const page = await call(c, '/ui/', { headers: { Cookie: cookie } });
  assert.equal(page.code, 200);
  assert.match(page.body, /id="app"/);
  const snap = JSON.parse((await call(c, '/ui/api/topology', { headers: { Cookie: cookie } })).body) as Extract<TopologyUpdate, { type: 'snapshot' }>;
  assert.equal(snap.cluster.user, 'clusterip-admin');
  assert.deepEqual(snap.cluster.features, { trace: false, flows: false, explain: false, diagnose: false });
  assert.ok(snap.snapshot.services.some((s) => s.name === 'secret-svc' && /^10\./.test(s.clusterIP ?? '')));
  // Follow: a Service created after the snapshot arrives as a delta.
  const following = call(c, '/ui/api/topology?follow=1', { headers: { Cookie: cookie }, until: (b) => b.includes('"late"') });
  await new Promise((r) => setTimeout(r, 150));
  await c.core.create(R.services, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'late', namespace: 'default' }, spec: { ports: [{ port: 81 }] } } as never);
  const lines = (await following).body.trim().split('\n').map((l) => JSON.parse(l) as TopologyUpdate);
  assert.deepEqual(lines.slice(0, 1).map((l) => l.type), ['begin']);
  assert.ok(lines.some((l) => l.type === 'records' && l.kind === 'services' && l.recs.some((r) => r.name === 'secret-svc')), 'the snapshot, in parts');
  assert.ok(lines.findIndex((l) => l.type === 'ready') < lines.findIndex((l) => l.type === 'delta'), 'ready before the deltas');
  const delta = lines.find((l) => l.type === 'delta' && l.upserts.some((u) => u.kind === 'services' && u.rec.name === 'late'));
  assert.ok(delta, JSON.stringify(lines).slice(0, 500));
  // Trace and flows are served only where the daemon records them.
  const trace = await call(c, '/ui/api/trace?service=default/secret-svc', { headers: { Cookie: cookie } });
  assert.equal(trace.code, 503);
  assert.match(trace.body, /not available in this daemon/);
  const out = await call(c, '/ui/api/logout', { method: 'POST', headers: { Cookie: cookie } });
  assert.equal(out.code, 200);
  assert.equal((await call(c, '/ui/api/topology', { headers: { Cookie: cookie } })).code, 401);
});

test('bad input: cross-origin session POSTs, bodies that are not JSON, paths outside the assets, unknown endpoints', async (t) => {
  const { c } = await setup(t);
  const cross = await call(c, '/ui/api/session', { method: 'POST', body: '{"token":"x"}', headers: { Origin: 'https://evil.example' } });
  assert.equal(cross.code, 403);
  const notJson = await call(c, '/ui/api/session', { method: 'POST', body: 'token=x' });
  assert.equal(notJson.code, 400);
  assert.match(notJson.body, /the body must be JSON/);
  assert.equal((await call(c, '/ui/api/session')).code, 405);
  const cookie = await signIn(c);
  // `..` is resolved by the server's URL parsing before routing: it never names a file outside dist/ui.
  for (const p of ['/ui/assets/../../../package.json', '/ui/assets/%2e%2e/%2e%2e/package.json', '/ui/assets/..%2f..%2fpackage.json', '/ui/assets/nope.js']) {
    const r = await call(c, p, { headers: { Cookie: cookie } });
    assert.ok(r.code === 404 || r.code === 401, `${p}: ${r.code}`);
    assert.doesNotMatch(r.body, /"name": "clusterip"/);
  }
  const unknown = await call(c, '/ui/api/nope', { headers: { Cookie: cookie } });
  assert.equal(unknown.code, 404);
  assert.equal((JSON.parse(unknown.body) as { kind: string }).kind, 'Status');
  const bad = await call(c, '/ui/api/diagnose?service=../x', { method: 'POST', headers: { Cookie: cookie } });
  assert.equal(bad.code, 503, 'diagnose absent in this daemon');
});

test('RBAC: a session reads only what its user may (a ServiceAccount gets 403 in kube-apiserver\'s words until a binding grants the reads)', async (t) => {
  // explain's own work (kernel rules, DNS) is src/inspect's and not under test here: a stand-in answers.
  const { c } = await setup(t, { explain: async (ns, name) => ({ explained: `${ns}/${name}` }), diagnose: async () => ({}) });
  await c.core.create(R.serviceaccounts, 'default', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot', namespace: 'default' } } as never);
  const tr = await call(c, '/api/v1/namespaces/default/serviceaccounts/robot/token', {
    method: 'POST', admin: true, headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} }),
  });
  assert.equal(tr.code, 201, tr.body);
  const bearer = { Authorization: `Bearer ${(JSON.parse(tr.body) as { status: { token: string } }).status.token}` };
  // The robot may sign in (the path is not what is authorized) ...
  const minted = await call(c, '/ui/api/login-tokens', { method: 'POST', headers: bearer });
  assert.equal(minted.code, 201, minted.body);
  const { token, user } = JSON.parse(minted.body) as { token: string; user: string };
  assert.equal(user, 'system:serviceaccount:default:robot');
  const s = await call(c, '/ui/api/session', { method: 'POST', body: JSON.stringify({ token }), headers: { Origin: c.server.url } });
  assert.equal(s.code, 200, s.body);
  const cookie = String(s.headers['set-cookie']).split(';')[0]!;
  // ... and gets the page, but no data it could not read with kubectl.
  assert.equal((await call(c, '/ui/', { headers: { Cookie: cookie } })).code, 200);
  for (const [p, method, msg] of [
    ['/ui/api/topology', 'GET', 'nodes is forbidden: User "system:serviceaccount:default:robot" cannot list resource "nodes" in API group "" at the cluster scope'],
    ['/ui/api/trace?service=default/secret-svc', 'GET', 'forbidden: User "system:serviceaccount:default:robot" cannot get path "/debug/clusterip/trace"'],
    ['/ui/api/explain?service=default/secret-svc', 'GET', 'services is forbidden: User "system:serviceaccount:default:robot" cannot get resource "services" in API group "" in the namespace "default"'],
  ] as const) {
    const r = await call(c, p, { method, headers: { Cookie: cookie } });
    assert.equal(r.code, 403, `${p}: ${r.body}`);
    const st = JSON.parse(r.body) as { reason: string; message: string };
    assert.equal(st.reason, 'Forbidden');
    assert.equal(st.message, msg);
    assert.doesNotMatch(r.body, /10\.\d+\.\d+\.\d+/);
  }
  // The same user's bearer token on the data path: the same answer (the cookie adds nothing).
  assert.equal((await call(c, '/ui/api/topology', { headers: bearer })).code, 403);
  // A ClusterRole with exactly the topology's reads, bound to the robot: the snapshot comes.
  await c.core.create(R.clusterroles, '', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'topology-reader' },
    rules: [{ apiGroups: [''], resources: ['nodes', 'namespaces', 'services', 'pods'], verbs: ['list', 'watch'] }, { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] }] } as never);
  await c.core.create(R.clusterrolebindings, '', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'robot-topology' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'topology-reader' },
    subjects: [{ kind: 'ServiceAccount', name: 'robot', namespace: 'default' }] } as never);
  let snap: Answer | undefined;
  for (let i = 0; i < 50; i++) {
    snap = await call(c, '/ui/api/topology', { headers: { Cookie: cookie } });
    if (snap.code === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(snap!.code, 200, snap!.body);
  const body = JSON.parse(snap!.body) as Extract<TopologyUpdate, { type: 'snapshot' }>;
  assert.equal(body.cluster.user, 'system:serviceaccount:default:robot');
  assert.ok(body.snapshot.services.some((x) => x.name === 'secret-svc'));
  // Still nothing beyond it: explain needs reads in the namespace that binding does not give ...
  assert.equal((await call(c, '/ui/api/explain?service=default/secret-svc', { headers: { Cookie: cookie } })).code, 403);
  // ... which a Role of reads in that namespace gives; diagnose (a probe Pod: create, delete) still not.
  await c.core.create(R.roles, 'default', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'reader', namespace: 'default' },
    rules: [{ apiGroups: ['', 'discovery.k8s.io'], resources: ['services', 'pods', 'events', 'endpointslices'], verbs: ['get', 'list', 'watch'] }] } as never);
  await c.core.create(R.rolebindings, 'default', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'robot-view', namespace: 'default' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' },
    subjects: [{ kind: 'ServiceAccount', name: 'robot', namespace: 'default' }] } as never);
  let ex: Answer | undefined;
  for (let i = 0; i < 50; i++) {
    ex = await call(c, '/ui/api/explain?service=default/secret-svc', { headers: { Cookie: cookie } });
    if (ex.code === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(ex!.code, 200, ex!.body);
  assert.deepEqual(JSON.parse(ex!.body), { explained: 'default/secret-svc' });
  assert.equal((await call(c, '/ui/api/explain?service=kube-system/kube-dns', { headers: { Cookie: cookie } })).code, 403, 'another namespace');
  const diag = await call(c, '/ui/api/diagnose?service=default/secret-svc', { method: 'POST', headers: { Cookie: cookie } });
  assert.equal(diag.code, 403);
  assert.match((JSON.parse(diag.body) as { message: string }).message, /cannot create resource "pods" in API group "" in the namespace "default"$/);
});

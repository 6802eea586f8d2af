/**
 * ServiceAccounts, tokens, RBAC and Secrets with the REAL kubectl against a real API server (real
 * core, real HTTPS, the serviceaccount / token / root-CA / clusterrole-aggregation controllers):
 * `kubectl create token`, a token user's 403 in Kubernetes' words, `kubectl auth can-i` / `whoami`,
 * RoleBindings (to a missing Role too), tokens that are expired, forged, or whose ServiceAccount or
 * bound Pod is gone (401), reviews, issuer discovery, and Secrets' validation.
 * One cluster for the file; every test uses its own namespace.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SignJWT, createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import type { Secret } from 'kubernetes-types/core/v1.js';
import { R } from '../../src/api/resources.js';
import { generateServiceAccountKey } from '../../src/apiserver/auth/sakey.js';
import { ServiceAccountTokens } from '../../src/apiserver/auth/tokens.js';
import { startTestCluster, type TestCluster } from '../harness/cluster.js';

const key = generateServiceAccountKey();
let c: TestCluster;
before(async () => { c = await startTestCluster(undefined, { controllers: true, serviceAccountKey: key }); });
after(() => c?.close());

/** A fresh namespace (its `default` ServiceAccount and kube-root-ca.crt made by the controllers). */
async function ns(prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  const r = await c.kubectl(['create', 'namespace', name]);
  assert.equal(r.code, 0, r.stderr);
  return name;
}

async function eventually(what: string, check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function token(n: string, sa: string, ...extra: string[]): Promise<string> {
  const r = await c.kubectl(['create', 'token', sa, '-n', n, ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

test('every namespace gets a default ServiceAccount and kube-root-ca.crt; kubectl create token signs a bound JWT', async () => {
  const n = await ns('sa');
  await eventually('default ServiceAccount', async () => (await c.kubectl(['get', 'sa', 'default', '-n', n])).code === 0);
  await eventually('kube-root-ca.crt', async () => (await c.kubectl(['get', 'configmap', 'kube-root-ca.crt', '-n', n])).code === 0);
  const ca = await c.kubectl(['get', 'configmap', 'kube-root-ca.crt', '-n', n, '-o', 'jsonpath={.data.ca\\.crt}']);
  assert.equal(ca.stdout, c.pki.caCert);
  // Deleted, it comes back.
  assert.equal((await c.kubectl(['delete', 'sa', 'default', '-n', n])).code, 0);
  await eventually('default ServiceAccount again', async () => (await c.kubectl(['get', 'sa', 'default', '-n', n])).code === 0);

  const uid = (await c.kubectl(['get', 'sa', 'default', '-n', n, '-o', 'jsonpath={.metadata.uid}'])).stdout;
  const claims = decodeJwt(await token(n, 'default'));
  assert.equal(claims.sub, `system:serviceaccount:${n}:default`);
  assert.equal(claims.iss, 'https://kubernetes.default.svc.cluster.local');
  assert.deepEqual(claims.aud, ['https://kubernetes.default.svc.cluster.local']);
  assert.equal(claims.exp! - claims.iat!, 3600);
  assert.deepEqual(claims['kubernetes.io'], { namespace: n, serviceaccount: { name: 'default', uid } });

  const short = await c.kubectl(['create', 'token', 'default', '-n', n, '--duration=1m']);
  assert.equal(short.code, 1);
  assert.match(short.stderr, /spec\.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes/);
  const missing = await c.kubectl(['create', 'token', 'nobody', '-n', n]);
  assert.match(missing.stderr, /serviceaccounts "nobody" not found/);
});

test('a ServiceAccount may do what Kubernetes allows it and nothing more; a RoleBinding grants the rest', async () => {
  const n = await ns('rbac');
  assert.equal((await c.kubectl(['create', 'sa', 'robot', '-n', n])).code, 0);
  const t = await token(n, 'robot');
  const user = `system:serviceaccount:${n}:robot`;

  const denied = await c.kubectlAs(t, ['get', 'pods', '-n', n]);
  assert.equal(denied.code, 1);
  assert.equal(denied.stderr.trim(), `Error from server (Forbidden): pods is forbidden: User "${user}" cannot list resource "pods" in API group "" in the namespace "${n}"`);
  const one = await c.kubectlAs(t, ['get', 'configmap', 'kube-root-ca.crt', '-n', n]);
  assert.equal(one.stderr.trim(), `Error from server (Forbidden): configmaps "kube-root-ca.crt" is forbidden: User "${user}" cannot get resource "configmaps" in API group "" in the namespace "${n}"`);
  const cluster = await c.kubectlAs(t, ['get', 'nodes']);
  assert.equal(cluster.stderr.trim(), `Error from server (Forbidden): nodes is forbidden: User "${user}" cannot list resource "nodes" in API group "" at the cluster scope`);
  const grp = await c.kubectlAs(t, ['get', 'deployments.apps', '-n', n]);
  assert.match(grp.stderr, new RegExp(`deployments.apps is forbidden: User "${user}" cannot list resource "deployments" in API group "apps" in the namespace "${n}"`));

  // What every authenticated user may do: discovery, its own identity, reviews of itself.
  assert.equal((await c.kubectlAs(t, ['api-resources', '-o', 'name'])).code, 0);
  const who = await c.kubectlAs(t, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username} {.status.userInfo.groups}']);
  assert.equal(who.stdout, `${user} ["system:serviceaccounts","system:serviceaccounts:${n}","system:authenticated"]`);
  const no = await c.kubectlAs(t, ['auth', 'can-i', 'list', 'pods', '-n', n]);
  assert.deepEqual([no.code, no.stdout.trim()], [1, 'no']);
  const list = await c.kubectlAs(t, ['auth', 'can-i', '--list', '-n', n]);
  assert.match(list.stdout, /selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]/);
  assert.match(list.stdout, /\[\/openid\/v1\/jwks\]\s+\[\]\s+\[get\]/);
  assert.doesNotMatch(list.stdout, /^pods/m);
  // Impersonation needs the impersonate verb.
  const imp = await c.kubectlAs(t, ['get', 'pods', '-n', n, '--as=someone']);
  assert.equal(imp.stderr.trim(), `Error from server (Forbidden): users "someone" is forbidden: User "${user}" cannot impersonate resource "users" in API group "" at the cluster scope`);

  // The admin (system:masters) may ask for others.
  const asRobot = await c.kubectl(['auth', 'can-i', 'list', 'pods', '-n', n, `--as=${user}`]);
  assert.equal(asRobot.stdout.trim(), 'no');
  assert.equal((await c.kubectl(['auth', 'can-i', '*', '*'])).stdout.trim(), 'yes');

  // A RoleBinding to view: read, but still no Secrets and no writes.
  assert.equal((await c.kubectl(['create', 'rolebinding', 'robot-view', '--clusterrole=view', `--serviceaccount=${n}:robot`, '-n', n])).code, 0);
  const ok = await c.kubectlAs(t, ['get', 'pods', '-n', n]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal((await c.kubectlAs(t, ['auth', 'can-i', 'list', 'pods', '-n', n])).stdout.trim(), 'yes');
  assert.equal((await c.kubectlAs(t, ['auth', 'can-i', 'list', 'pods', '-n', 'default'])).stdout.trim(), 'no');
  assert.equal((await c.kubectlAs(t, ['auth', 'can-i', 'create', 'pods', '-n', n])).stdout.trim(), 'no');
  assert.equal((await c.kubectlAs(t, ['auth', 'can-i', 'get', 'secrets', '-n', n])).stdout.trim(), 'no');
  // view covers the other groups too: Jobs (read, not write) and metrics.k8s.io (`kubectl top`).
  assert.equal((await c.kubectlAs(t, ['auth', 'can-i', 'list', 'jobs.batch', '-n', n])).stdout.trim(), 'yes');
  assert.equal((await c.kubectlAs(t, ['auth', 'can-i', 'create', 'cronjobs.batch', '-n', n])).stdout.trim(), 'no');
  assert.equal((await c.kubectlAs(t, ['auth', 'can-i', 'list', 'pods.metrics.k8s.io', '-n', n])).stdout.trim(), 'yes');
  const wide = await c.kubectl(['get', 'rolebinding', 'robot-view', '-n', n, '-o', 'wide', '--no-headers']);
  assert.match(wide.stdout, new RegExp(`^robot-view\\s+ClusterRole/view\\s+\\S+\\s+${n}:robot\\s*$`));

  // A RoleBinding to a Role that does not exist is accepted, grants nothing, and the 403 says why.
  const dangling = await c.kubectl(['create', 'rolebinding', 'robot-missing', '--role=missing', `--serviceaccount=${n}:robot`, '-n', n]);
  assert.equal(dangling.code, 0, dangling.stderr);
  const secrets = await c.kubectlAs(t, ['get', 'secrets', '-n', n]);
  assert.equal(secrets.stderr.trim(), `Error from server (Forbidden): secrets is forbidden: User "${user}" cannot list resource "secrets" in API group "" in the namespace "${n}": RBAC: role.rbac.authorization.k8s.io "missing" not found`);
  // Once the Role exists, it grants.
  assert.equal((await c.kubectl(['create', 'role', 'missing', '--verb=list', '--resource=secrets', '-n', n])).code, 0);
  assert.equal((await c.kubectlAs(t, ['get', 'secrets', '-n', n])).code, 0);

  // The default roles: edit aggregates view's rules and its own.
  const edit = JSON.parse((await c.kubectl(['get', 'clusterrole', 'edit', '-o', 'json'])).stdout) as { rules: { resources?: string[]; verbs: string[] }[] };
  assert.ok(edit.rules.some((r) => r.resources?.includes('pods/exec') && r.verbs.includes('create')));
  assert.ok(edit.rules.some((r) => r.resources?.includes('endpointslices') && r.verbs.includes('list')));
});

test('tokens that are expired, forged, or whose ServiceAccount or bound Pod is gone get 401', async () => {
  const n = await ns('tok');
  assert.equal((await c.kubectl(['create', 'sa', 'robot', '-n', n])).code, 0);
  assert.equal((await c.kubectl(['create', 'rolebinding', 'v', '--clusterrole=view', `--serviceaccount=${n}:robot`, '-n', n])).code, 0);
  const unauthorized = 'error: You must be logged in to the server (Unauthorized)';

  // Expired: signed with the cluster's own key, but two minutes past its expiry (beyond the leeway).
  const sa = (await c.core.get(R.serviceaccounts, n, 'robot')).metadata!;
  const past = new ServiceAccountTokens({ key, clock: () => new Date(Date.now() - 3600_000 - 120_000) });
  const expired = (await past.issue({ namespace: n, serviceAccount: { name: 'robot', uid: sa.uid! }, audiences: past.audiences, expirationSeconds: 3600 })).token;
  assert.equal((await c.kubectlAs(expired, ['get', 'pods', '-n', n])).stderr.trim(), unauthorized);
  // Forged: the same claims signed by another key.
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const forged = await new SignJWT(decodeJwt(await token(n, 'robot'))).setProtectedHeader({ alg: 'ES256', kid: key.kid }).sign(other);
  assert.equal((await c.kubectlAs(forged, ['get', 'pods', '-n', n])).stderr.trim(), unauthorized);
  assert.equal((await c.kubectlAs('not-a-token', ['get', 'pods', '-n', n])).stderr.trim(), unauthorized);

  // Bound to a Pod: valid while the Pod lives.
  await c.core.create(R.pods, n, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { serviceAccountName: 'robot', containers: [{ name: 'c', image: 'busybox' }] } });
  const bound = await token(n, 'robot', '--bound-object-kind=Pod', '--bound-object-name=p');
  const podClaims = decodeJwt(bound)['kubernetes.io'] as { pod: { name: string } };
  assert.equal(podClaims.pod.name, 'p');
  assert.equal((await c.kubectlAs(bound, ['get', 'pods', '-n', n])).code, 0);
  const wrongSa = await c.kubectl(['create', 'token', 'default', '-n', n, '--bound-object-kind=Pod', '--bound-object-name=p']);
  assert.match(wrongSa.stderr, /cannot bind token for serviceaccount "default" to pod running with different serviceaccount name\./);
  await c.core.delete(R.pods, n, 'p', { gracePeriodSeconds: 0 });
  assert.equal((await c.kubectlAs(bound, ['get', 'pods', '-n', n])).stderr.trim(), unauthorized);

  // The ServiceAccount deleted: its tokens die with it (and a new one of the same name does not revive them).
  const t = await token(n, 'robot');
  assert.equal((await c.kubectlAs(t, ['get', 'pods', '-n', n])).code, 0);
  assert.equal((await c.kubectl(['delete', 'sa', 'robot', '-n', n])).code, 0);
  assert.equal((await c.kubectlAs(t, ['get', 'pods', '-n', n])).stderr.trim(), unauthorized);
  assert.equal((await c.kubectl(['create', 'sa', 'robot', '-n', n])).code, 0);
  assert.equal((await c.kubectlAs(t, ['get', 'pods', '-n', n])).stderr.trim(), unauthorized);
});

test('TokenReview, SubjectAccessReview and issuer discovery answer as kube-apiserver does', async () => {
  const n = await ns('review');
  const t = await token(n, 'default');
  // Created with kubectl's default validation (strict): it looks the kind up in /openapi/v3 (a
  // create-only kind with only a POST) and in the CustomResourceDefinitions.
  const tr = await c.kubectl(['create', '-o', 'json', '-f', '-'], { input: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: t } }) });
  assert.equal(tr.code, 0, tr.stderr);
  const st = (JSON.parse(tr.stdout) as { status: { authenticated: boolean; user: { username: string; groups: string[] }; audiences: string[] } }).status;
  assert.equal(st.authenticated, true);
  assert.equal(st.user.username, `system:serviceaccount:${n}:default`);
  assert.deepEqual(st.audiences, ['https://kubernetes.default.svc.cluster.local']);
  const bad = await c.kubectl(['create', '-o', 'json', '-f', '-'], { input: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: t, audiences: ['vault'] } }) });
  assert.match((JSON.parse(bad.stdout) as { status: { error: string } }).status.error, /token audiences \["https:\/\/kubernetes.default.svc.cluster.local"\] is invalid for the target audiences \["vault"\]/);

  const sar = (spec: object): Promise<{ code: number; stdout: string; stderr: string }> =>
    c.kubectl(['create', '-o', 'json', '-f', '-'], { input: JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec }) });
  const masters = JSON.parse((await sar({ user: 'alice', groups: ['system:masters'], resourceAttributes: { verb: 'delete', resource: 'nodes' } })).stdout);
  assert.deepEqual(masters.status, { allowed: true });
  const viaRbac = JSON.parse((await sar({ user: 'x', groups: ['system:authenticated'], nonResourceAttributes: { verb: 'get', path: '/version' } })).stdout);
  assert.equal(viaRbac.status.allowed, true);
  assert.match(viaRbac.status.reason, /^RBAC: allowed by ClusterRoleBinding "system:(discovery|public-info-viewer)" of ClusterRole "system:(discovery|public-info-viewer)" to Group "system:authenticated"$/);
  const invalid = await sar({ resourceAttributes: { verb: 'get', resource: 'pods' } });
  assert.match(invalid.stderr, /The SubjectAccessReview "" is invalid: spec.user: Invalid value: "": at least one of user or group must be specified/);

  // Issuer discovery: any ServiceAccount may read it, and the JWKS verifies the tokens.
  const conf = JSON.parse((await c.kubectlAs(t, ['get', '--raw', '/.well-known/openid-configuration'])).stdout) as { issuer: string };
  assert.equal(conf.issuer, 'https://kubernetes.default.svc.cluster.local');
  const jwks = JSON.parse((await c.kubectlAs(t, ['get', '--raw', '/openid/v1/jwks'])).stdout) as JSONWebKeySet;
  const { payload } = await jwtVerify(t, createLocalJWKSet(jwks), { issuer: conf.issuer });
  assert.equal(payload.sub, `system:serviceaccount:${n}:default`);
});

test('a legacy service-account-token Secret is filled by the token controller and its token works until the Secret goes', async () => {
  const n = await ns('legacy');
  const secret = { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/service-account-token', metadata: { name: 'robot-token', annotations: { 'kubernetes.io/service-account.name': 'default' } } };
  assert.equal((await c.kubectl(['apply', '-n', n, '-f', '-'], { input: JSON.stringify(secret) })).code, 0);
  let s: Secret | undefined;
  await eventually('token filled', async () => { s = await c.core.get<Secret>(R.secrets, n, 'robot-token'); return !!s.data?.token; });
  assert.equal(Buffer.from(s!.data!['ca.crt']!, 'base64').toString(), c.pki.caCert);
  assert.equal(Buffer.from(s!.data!.namespace!, 'base64').toString(), n);
  const legacy = Buffer.from(s!.data!.token!, 'base64').toString();
  assert.equal(decodeJwt(legacy).iss, 'kubernetes/serviceaccount');
  const who = await c.kubectlAs(legacy, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
  assert.equal(who.stdout, `system:serviceaccount:${n}:default`);
  assert.equal((await c.kubectl(['delete', 'secret', 'robot-token', '-n', n])).code, 0);
  assert.equal((await c.kubectlAs(legacy, ['auth', 'whoami'])).stderr.trim(), 'error: You must be logged in to the server (Unauthorized)');
  const noAnnotation = await c.kubectl(['create', '-n', n, '-f', '-'], { input: JSON.stringify({ ...secret, metadata: { name: 'x' } }) });
  assert.match(noAnnotation.stderr, /The Secret "x" is invalid: metadata.annotations\[kubernetes.io\/service-account.name\]: Required value/);
});

test('Secrets: types, stringData, the 1 MiB limit and keys that are not file names, in Kubernetes\' words', async () => {
  const n = await ns('sec');
  assert.equal((await c.kubectl(['create', 'secret', 'generic', 'plain', '--from-literal=user=admin', '--from-literal=pass=s3cr=t', '-n', n])).code, 0);
  assert.equal((await c.kubectl(['create', 'secret', 'docker-registry', 'reg', '--docker-server=registry.example', '--docker-username=u', '--docker-password=p', '-n', n])).code, 0);
  const table = await c.kubectl(['get', 'secrets', '-n', n]);
  assert.match(table.stdout, /^NAME\s+TYPE\s+DATA\s+AGE\n/);
  assert.match(table.stdout, /\nplain\s+Opaque\s+2\s+\d+s\n/);
  assert.match(table.stdout, /\nreg\s+kubernetes.io\/dockerconfigjson\s+1\s+\d+s\n/);
  const pass = await c.kubectl(['get', 'secret', 'plain', '-n', n, '-o', 'jsonpath={.data.pass}']);
  assert.equal(Buffer.from(pass.stdout, 'base64').toString(), 's3cr=t');

  const sd = await c.kubectl(['apply', '-n', n, '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sd' }, stringData: { greeting: 'hello' } }) });
  assert.equal(sd.code, 0, sd.stderr);
  const stored = await c.core.get<Secret & { stringData?: unknown }>(R.secrets, n, 'sd');
  assert.deepEqual([stored.data, stored.stringData, stored.type], [{ greeting: Buffer.from('hello').toString('base64') }, undefined, 'Opaque']);

  const big = join(c.dir, 'big.bin');
  await writeFile(big, randomBytes(1024 * 1024 + 1));
  const tooBig = await c.kubectl(['create', 'secret', 'generic', 'big', `--from-file=blob=${big}`, '-n', n]);
  assert.equal(tooBig.stderr.trim(), 'error: failed to create secret Secret "big" is invalid: data: Too long: may not be more than 1048576 bytes');

  const badKey = await c.kubectl(['apply', '-n', n, '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'k' }, stringData: { 'a/b': 'x', '..': 'y' } }) });
  assert.equal(badKey.code, 1);
  // kubectl prints each cause of a 422 on its own line.
  assert.equal(badKey.stderr, `The Secret "k" is invalid: \n* data[..]: Invalid value: "..": must not be '..'\n* data[a/b]: Invalid value: "a/b": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')\n`);
  const badJson = await c.kubectl(['create', '-n', n, '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'dj' }, type: 'kubernetes.io/dockerconfigjson', stringData: { '.dockerconfigjson': 'nope' } }) });
  assert.match(badJson.stderr, /The Secret "dj" is invalid: data\[\.dockerconfigjson\]: Invalid value: "<secret contents redacted>": invalid character 'o' in literal null \(expecting 'u'\)|The Secret "dj" is invalid: data\[\.dockerconfigjson\]: Invalid value: "<secret contents redacted>": /);
  const noKey = await c.kubectl(['create', '-n', n, '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tls' }, type: 'kubernetes.io/tls', data: {} }) });
  assert.match(noKey.stderr, /The Secret "tls" is invalid: \n\* data\[tls\.crt\]: Required value\n\* data\[tls\.key\]: Required value/);
  const badB64 = await c.kubectl(['create', '-n', n, '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'b' }, data: { a: 'not base64!' } }) });
  assert.match(badB64.stderr, /Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 3/);
  // Immutable Secrets keep their data.
  await c.core.create(R.secrets, n, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'frozen' }, immutable: true, data: { a: 'YQ==' } } as Secret);
  const change = await c.kubectl(['patch', 'secret', 'frozen', '-n', n, '-p', '{"data":{"a":"Yg=="}}']);
  assert.match(change.stderr, /The Secret "frozen" is invalid: data: Forbidden: field is immutable when `immutable` is set/);
});

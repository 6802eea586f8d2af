import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, decodeProtectedHeader } from 'jose';
import type { KubeObject } from '../../api/object.js';
import { R, type ResourceInfo } from '../../api/resources.js';
import { createAuthenticator, type ObjectGetter } from './authenticator.js';
import { generateServiceAccountKey } from './sakey.js';
import { LEGACY_ISSUER, ServiceAccountTokens } from './tokens.js';

const key = generateServiceAccountKey();
let now = Date.parse('2026-12-01T00:00:00Z');
const tokens = new ServiceAccountTokens({ key, clock: () => new Date(now) });

/** Objects by "plural/ns/name". */
const store = new Map<string, KubeObject>();
const objects: ObjectGetter = { get: (info: ResourceInfo, ns, name) => store.get(`${info.plural}/${ns ?? ''}/${name}`) };
const put = (info: ResourceInfo, o: KubeObject): void => { store.set(`${info.plural}/${o.metadata?.namespace ?? ''}/${o.metadata!.name}`, o); };
const auth = createAuthenticator({ tokens: new Map(), serviceAccounts: { tokens, objects } });

put(R.serviceaccounts, { metadata: { namespace: 'ns', name: 'app', uid: 'sa-1' } });
put(R.pods, { metadata: { namespace: 'ns', name: 'p', uid: 'pod-1' } });

const issue = (over: Partial<Parameters<ServiceAccountTokens['issue']>[0]> = {}) =>
  tokens.issue({ namespace: 'ns', serviceAccount: { name: 'app', uid: 'sa-1' }, audiences: tokens.audiences, expirationSeconds: 3600, ...over });

test('a bound token authenticates as its ServiceAccount with the pod in extra; kid is the key id', async () => {
  const { token, expirationTimestamp } = await issue({ pod: { name: 'p', uid: 'pod-1' } });
  assert.equal(expirationTimestamp.toISOString(), '2026-12-01T01:00:00.000Z');
  assert.equal(decodeProtectedHeader(token).kid, key.kid);
  const r = await auth.authenticateToken(token);
  assert.ok('user' in r, JSON.stringify(r));
  assert.deepEqual(r.user, {
    name: 'system:serviceaccount:ns:app', uid: 'sa-1', groups: ['system:serviceaccounts', 'system:serviceaccounts:ns', 'system:authenticated'],
    extra: { 'authentication.kubernetes.io/pod-name': ['p'], 'authentication.kubernetes.io/pod-uid': ['pod-1'], 'authentication.kubernetes.io/credential-id': [r.user.extra!['authentication.kubernetes.io/credential-id']![0]!] },
  });
  assert.match(r.user.extra!['authentication.kubernetes.io/credential-id']![0]!, /^JTI=[0-9a-f-]{36}$/);
});

test('expiry with one minute of leeway, other audiences, forged signatures, vanished objects', async () => {
  const { token } = await issue({ pod: { name: 'p', uid: 'pod-1' } });
  const saved = now;
  now = saved + 3600_000 + 59_000;
  assert.ok('user' in await auth.authenticateToken(token), 'inside the leeway');
  now = saved + 3600_000 + 61_000;
  assert.deepEqual(await auth.authenticateToken(token), { error: 'service account token has expired' });
  now = saved;
  assert.deepEqual(await auth.authenticateToken(token, ['vault']), { error: 'token audiences ["https://kubernetes.default.svc.cluster.local"] is invalid for the target audiences ["vault"]' });
  const forged = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'ES256' }).setIssuer(tokens.issuer).sign(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
  assert.match(String((await auth.authenticateToken(forged) as { error: string }).error), /invalid bearer token/);
  assert.deepEqual(await auth.authenticateToken('x.y'), { error: 'invalid bearer token' });

  // The bound Pod deleted / replaced; the ServiceAccount replaced.
  put(R.pods, { metadata: { namespace: 'ns', name: 'p', uid: 'pod-2' } });
  assert.deepEqual(await auth.authenticateToken(token), { error: 'pod UID (pod-2) does not match service account pod ref claim (pod-1)' });
  put(R.pods, { metadata: { namespace: 'ns', name: 'p', uid: 'pod-1', deletionTimestamp: '2026-12-01T00:00:00Z' } });
  assert.deepEqual(await auth.authenticateToken(token), { error: 'service account token has been invalidated' });
  put(R.pods, { metadata: { namespace: 'ns', name: 'p', uid: 'pod-1' } });
  put(R.serviceaccounts, { metadata: { namespace: 'ns', name: 'app', uid: 'sa-2' } });
  assert.deepEqual(await auth.authenticateToken(token), { error: 'service account UID (sa-2) does not match claim (sa-1)' });
  store.delete('serviceaccounts/ns/app');
  assert.deepEqual(await auth.authenticateToken(token), { error: 'serviceaccounts "app" not found' });
  put(R.serviceaccounts, { metadata: { namespace: 'ns', name: 'app', uid: 'sa-1' } });
  assert.ok('user' in await auth.authenticateToken(token));
});

test('legacy tokens are valid while their Secret holds them', async () => {
  const t = await tokens.issueLegacy('ns', { name: 'app', uid: 'sa-1' }, 'app-token');
  assert.equal((await tokens.verify(t))?.kind, 'legacy');
  assert.deepEqual(await auth.authenticateToken(t), { error: 'service account token has been invalidated' });
  put(R.secrets, { metadata: { namespace: 'ns', name: 'app-token' }, data: { token: Buffer.from('other').toString('base64') } } as KubeObject);
  assert.deepEqual(await auth.authenticateToken(t), { error: "token does not match server's copy" });
  put(R.secrets, { metadata: { namespace: 'ns', name: 'app-token' }, data: { token: Buffer.from(t).toString('base64') } } as KubeObject);
  const r = await auth.authenticateToken(t);
  assert.ok('user' in r && r.user.name === 'system:serviceaccount:ns:app');
  assert.equal(LEGACY_ISSUER, 'kubernetes/serviceaccount');
});

test('TokenRequest-sized lifetimes and the verify cache stay correct after expiry', async () => {
  const { token } = await issue({ expirationSeconds: 600 });
  assert.ok(await tokens.verify(token));
  now += 661_000;
  await assert.rejects(tokens.verify(token), /service account token has expired/);
  now -= 661_000;
});

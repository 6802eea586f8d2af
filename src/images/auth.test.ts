import { test } from 'node:test';
import assert from 'node:assert/strict';
import { credentialsFor, parseChallenges, pullScope } from './auth.js';
import { parseReference } from './reference.js';

test('WWW-Authenticate: Docker Hub Bearer, htpasswd Basic, several challenges, escapes', () => {
  assert.deepEqual(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"'), [
    { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/nginx:pull' } },
  ]);
  assert.deepEqual(parseChallenges('Basic realm="Registry Realm"'), [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
  assert.deepEqual(parseChallenges('Basic realm="a \\"b\\"", Bearer realm=x, error=insufficient_scope'), [
    { scheme: 'basic', params: { realm: 'a "b"' } },
    { scheme: 'bearer', params: { realm: 'x', error: 'insufficient_scope' } },
  ]);
  assert.deepEqual(parseChallenges(undefined), []);
});

test('docker config credentials match as the kubelet keyring matches them', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const cfg = {
    auths: {
      'https://index.docker.io/v1/': { auth: b64('hub:pw1') },
      '127.0.0.1:5000': { username: 'u', password: 'p:with:colons' },
      '127.0.0.1:5000/team': { auth: b64('team:pw2') },
      '*.example.com': { auth: b64('wild:pw3') },
      'registry.example.com:8443': { auth: b64('port:pw4') },
      'empty.example.com': { identitytoken: 'x' },
    },
  };
  const names = (image: string) => credentialsFor(parseReference(image), [cfg]).map((c) => `${c.username}:${c.password}`);
  assert.deepEqual(names('nginx'), ['hub:pw1']);
  assert.deepEqual(names('docker.io/me/app:1'), ['hub:pw1']);
  assert.deepEqual(names('127.0.0.1:5000/team/app'), ['team:pw2', 'u:p:with:colons']);
  assert.deepEqual(names('127.0.0.1:5000/other/app'), ['u:p:with:colons']);
  assert.deepEqual(names('127.0.0.1:5001/team/app'), [], 'another port');
  assert.deepEqual(names('registry.example.com/app'), ['wild:pw3']);
  assert.deepEqual(names('a.b.example.com/app'), [], 'a wildcard is one label');
  assert.deepEqual(names('registry.example.com:8443/app'), ['port:pw4']);
  assert.deepEqual(names('empty.example.com/app'), ['wild:pw3'], 'its own entry has no user and password: the wildcard applies');
  assert.equal(pullScope(parseReference('nginx')), 'repository:library/nginx:pull');
});

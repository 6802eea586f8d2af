/**
 * The node agent's volumes with a real API core and real Pods (root, real kernel): a projected
 * ServiceAccount token is refreshed once 80% of its life has passed (the agent's clock is moved
 * forward; the file changes through one `..data` swap, the old token stays valid until then), a
 * Secret volume follows its Secret, and exec, probes and the container see the same files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { R } from '../../src/api/resources.js';
import { isReady, startTestNode } from '../../src/node/testing/harness.js';

test('a projected token is refreshed at 80% of its lifetime; Secret volumes follow the Secret; an exec probe reads them', async (t) => {
  let offsetMs = 0;
  const n = await startTestNode(t, { clock: { now: () => Date.now() + offsetMs }, resyncMs: 200 });
  await n.client.create(R.serviceaccounts, 'default', { metadata: { name: 'default' } });
  await n.client.create(R.secrets, 'default', { metadata: { name: 'db' }, stringData: { password: 'one' } } as never);
  await n.createPod('app', {
    serviceAccountName: 'default',
    containers: [{
      name: 'c', image: 'busybox', command: ['sleep', '3600'],
      volumeMounts: [{ name: 'api', mountPath: '/var/run/secrets/tokens', readOnly: true }, { name: 'db', mountPath: '/etc/db' }],
      readinessProbe: { exec: { command: ['cat', '/etc/db/password'] }, periodSeconds: 1 },
    }],
    volumes: [
      { name: 'api', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 600, audience: 'vault' } }] } },
      { name: 'db', secret: { secretName: 'db' } },
    ],
  });
  await n.waitPod('app', isReady);
  const read = async (f: string): Promise<string> => {
    const r = await n.exec('app', ['cat', f]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  const first = await read('/var/run/secrets/tokens/token');
  const claims = decodeJwt(first);
  assert.deepEqual(claims.aud, ['vault']);
  assert.equal(claims.exp! - claims.iat!, 600);
  const dataBefore = (await n.exec('app', ['readlink', '/var/run/secrets/tokens/..data'])).stdout;

  // 70% of its life: kept.
  offsetMs = 420_000;
  await new Promise((r) => setTimeout(r, 800));
  assert.equal(await read('/var/run/secrets/tokens/token'), first);
  // 81%: a new token, written with one swap of ..data.
  offsetMs = 486_000;
  let second = first;
  for (let i = 0; i < 50 && second === first; i++) {
    await new Promise((r) => setTimeout(r, 100));
    second = await read('/var/run/secrets/tokens/token');
  }
  assert.notEqual(second, first);
  assert.notEqual(decodeJwt(second).jti, claims.jti);
  assert.notEqual((await n.exec('app', ['readlink', '/var/run/secrets/tokens/..data'])).stdout, dataBefore);

  // The Secret changes: the file follows.
  assert.equal(await read('/etc/db/password'), 'one');
  await n.client.patch(R.secrets, 'default', 'db', 'application/merge-patch+json', { stringData: { password: 'two' } });
  let pw = '';
  for (let i = 0; i < 50 && pw !== 'two'; i++) { await new Promise((r) => setTimeout(r, 100)); pw = await read('/etc/db/password'); }
  assert.equal(pw, 'two');
});

test('a container whose volumes cannot be mounted exits and is restarted like any other', async (t) => {
  const n = await startTestNode(t);
  // /dev/null is no directory: the mount script fails before the container's command runs, so the
  // process ends while startContainer still waits for the mounts.
  await n.createPod('quick', {
    containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'], volumeMounts: [{ name: 'scratch', mountPath: '/dev/null/x' }] }],
    volumes: [{ name: 'scratch', emptyDir: {} }],
  });
  const p = await n.waitPod('quick', (x) => (x.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1, 15_000);
  assert.notEqual(p.status?.containerStatuses?.[0]?.lastState?.terminated?.exitCode, 0);
  assert.ok(n.agent.worker('default', 'quick'), 'the agent still runs the Pod');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { R } from '../../api/resources.js';
import { MemoryStorage } from '../../storage/memory.js';
import { createApiCore } from '../core.js';
import { mountServiceAccountToken, serviceAccountAdmission } from './serviceaccount.js';

const pod = (spec: Partial<Pod['spec']> = {}): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec } as Pod['spec'] });

test('a Pod gets its ServiceAccount, the kube-api-access projected volume and a read-only mount per container', async (t) => {
  const storage = new MemoryStorage();
  const core = await createApiCore({ storage, admission: [serviceAccountAdmission({ defaultAccountWaitMs: 200 })] });
  t.after(async () => { await core.close(); storage.close(); });
  await core.client.create(R.serviceaccounts, 'default', { metadata: { name: 'default' } });
  const p = await core.client.create<Pod>(R.pods, 'default', pod({ initContainers: [{ name: 'i', image: 'busybox' }] }));
  assert.equal(p.spec!.serviceAccountName, 'default');
  const vol = p.spec!.volumes!.find((v) => v.name.startsWith('kube-api-access-'))!;
  assert.match(vol.name, /^kube-api-access-[bcdfghjklmnpqrstvwxz2-9]{5}$/);
  assert.deepEqual(vol.projected, {
    defaultMode: 420,
    sources: [
      { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
    ],
  });
  for (const c of [...p.spec!.containers, ...p.spec!.initContainers!]) {
    assert.deepEqual(c.volumeMounts, [{ name: vol.name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }]);
  }

  // Opting out: on the Pod, or on the ServiceAccount (the Pod's choice wins).
  await core.client.create(R.serviceaccounts, 'default', { metadata: { name: 'quiet' }, automountServiceAccountToken: false } as never);
  const quiet = await core.client.create<Pod>(R.pods, 'default', { ...pod({ serviceAccountName: 'quiet' }), metadata: { name: 'q' } });
  assert.equal(quiet.spec!.volumes, undefined);
  const loud = await core.client.create<Pod>(R.pods, 'default', { ...pod({ serviceAccountName: 'quiet', automountServiceAccountToken: true }), metadata: { name: 'l' } });
  assert.equal(loud.spec!.volumes!.length, 1);

  // A missing account is a 403 in Kubernetes' words; a missing `default` is waited for a little.
  await assert.rejects(core.client.create(R.pods, 'default', { ...pod({ serviceAccountName: 'ghost' }), metadata: { name: 'g' } }),
    { code: 403, message: 'pods "g" is forbidden: error looking up service account default/ghost: serviceaccounts "ghost" not found' });
  await core.client.create(R.namespaces, undefined, { metadata: { name: 'late' } });
  const created = core.client.create<Pod>(R.pods, 'late', pod());
  setTimeout(() => void core.client.create(R.serviceaccounts, 'late', { metadata: { name: 'default' } }), 50);
  assert.equal((await created).spec!.serviceAccountName, 'default');
  await core.client.create(R.namespaces, undefined, { metadata: { name: 'never' } });
  await assert.rejects(core.client.create(R.pods, 'never', pod()), { code: 403 });
});

test('an existing mount at the token path is kept and gets no second volume', () => {
  const p = pod({ containers: [{ name: 'a', image: 'x', volumeMounts: [{ name: 'mine', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }] }, { name: 'b', image: 'x' }], volumes: [{ name: 'mine', emptyDir: {} }] });
  mountServiceAccountToken(p, () => 'kube-api-access-abcde');
  assert.deepEqual(p.spec!.containers[0]!.volumeMounts, [{ name: 'mine', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }]);
  assert.deepEqual(p.spec!.containers[1]!.volumeMounts![0]!.name, 'kube-api-access-abcde');
  assert.deepEqual(p.spec!.volumes!.map((v) => v.name), ['mine', 'kube-api-access-abcde']);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import YAML from 'yaml';
import { ensurePki } from './pki.js';
import { writeKubeconfig } from './kubeconfig.js';

test('ensurePki makes a CA, a serving cert with the Kubernetes SANs and an admin client cert; keys 0600; reused', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cip-pki-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const p = await ensurePki(dir);
  const ca = new X509Certificate(p.caCert);
  const srv = new X509Certificate(p.serverCert);
  const adm = new X509Certificate(p.adminCert);
  assert.ok(ca.ca);
  assert.ok(srv.verify(ca.publicKey));
  assert.ok(adm.verify(ca.publicKey));
  for (const n of ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', 'localhost']) {
    assert.equal(srv.checkHost(n), n, n);
  }
  assert.equal(srv.checkIP('127.0.0.1'), '127.0.0.1');
  assert.equal(srv.checkIP('10.96.0.1'), '10.96.0.1');
  assert.match(adm.subject, /CN=clusterip-admin/);
  assert.match(adm.subject, /O=system:masters/);
  for (const f of ['ca.key', 'apiserver.key', 'admin.key', 'admin.token']) assert.equal((await stat(join(dir, 'pki', f))).mode & 0o777, 0o600, f);
  assert.match(p.adminToken, /^[0-9a-f]{48}$/);
  const t0 = Date.now();
  const again = await ensurePki(dir);
  assert.ok(Date.now() - t0 < 200, 'second start reuses files');
  assert.equal(again.serverCert, p.serverCert);
  assert.equal(again.adminToken, p.adminToken);
});

test('writeKubeconfig: context clusterip-<name>, mode 0600, merge keeps other entries', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cip-kc-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const pki = { caCert: 'CA', adminCert: 'CERT', adminKey: 'KEY', adminToken: 'tok' };
  const path = join(dir, 'config');
  await writeFile(path, YAML.stringify({ apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'other', cluster: { server: 'https://x' } }], users: [], contexts: [{ name: 'other', context: { cluster: 'other', user: 'u' } }], 'current-context': 'other' }));
  const ctx = await writeKubeconfig(path, pki, { name: 'dev', server: 'https://127.0.0.1:6443', merge: true });
  assert.equal(ctx, 'clusterip-dev');
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  const doc = YAML.parse(await readFile(path, 'utf8'));
  assert.deepEqual(doc.contexts.map((c: { name: string }) => c.name), ['other', 'clusterip-dev']);
  assert.equal(doc['current-context'], 'clusterip-dev');
  assert.equal(Buffer.from(doc.clusters[1].cluster['certificate-authority-data'], 'base64').toString(), 'CA');
  assert.equal(doc.users[0].user.token, 'tok');
  // Re-writing replaces our entries instead of duplicating them.
  await writeKubeconfig(path, pki, { name: 'dev', server: 'https://127.0.0.1:7443', merge: true });
  const doc2 = YAML.parse(await readFile(path, 'utf8'));
  assert.equal(doc2.clusters.length, 2);
  assert.equal(doc2.clusters[1].cluster.server, 'https://127.0.0.1:7443');
  // Without merge the file holds only ours.
  await writeKubeconfig(path, pki, { name: 'dev', server: 'https://127.0.0.1:6443' });
  assert.equal(YAML.parse(await readFile(path, 'utf8')).clusters.length, 1);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, stat, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { readKubeconfig, removeKubeconfigContext, writeKubeconfig } from './kubeconfig.js';

test('removes one context with its cluster and user, keeps the others, mode 0600', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cip-kc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'config');
  writeFileSync(path, YAML.stringify({ apiVersion: 'v1', kind: 'Config', 'current-context': 'clusterip-a',
    clusters: [{ name: 'other', cluster: { server: 'https://x' } }, { name: 'clusterip-a', cluster: { server: 'https://127.0.0.1:6443' } }],
    users: [{ name: 'other', user: {} }, { name: 'clusterip-a-admin', user: { token: 't' } }],
    contexts: [{ name: 'other', context: { cluster: 'other', user: 'other' } }, { name: 'clusterip-a', context: { cluster: 'clusterip-a', user: 'clusterip-a-admin' } }] }), { mode: 0o644 });
  removeKubeconfigContext(path, 'clusterip-a');
  const doc = YAML.parse(readFileSync(path, 'utf8'));
  assert.deepEqual(doc.contexts.map((c: { name: string }) => c.name), ['other']);
  assert.deepEqual(doc.clusters.map((c: { name: string }) => c.name), ['other']);
  assert.deepEqual(doc.users.map((c: { name: string }) => c.name), ['other']);
  assert.equal(doc['current-context'], '');
  assert.equal(statSync(path).mode & 0o777, 0o600);
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

test('readKubeconfig resolves the current context, inline data and files relative to the kubeconfig', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cip-kc-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'config');
  await writeKubeconfig(path, { caCert: 'CA', adminCert: 'CERT', adminKey: 'KEY', adminToken: 'tok' }, { name: 'r', server: 'https://127.0.0.1:1' });
  const c = await readKubeconfig(path);
  assert.equal(c.server, 'https://127.0.0.1:1');
  assert.equal(c.ca?.toString(), 'CA');
  assert.equal(c.key?.toString(), 'KEY');
  assert.equal(c.token, 'tok');
  assert.equal(c.namespace, 'default');
  await writeFile(join(dir, 'ca.pem'), 'FILE-CA');
  await writeFile(path, YAML.stringify({ 'current-context': 'x', contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
    clusters: [{ name: 'c', cluster: { server: 'https://h', 'certificate-authority': 'ca.pem' } }], users: [{ name: 'u', user: {} }] }));
  assert.equal((await readKubeconfig(path)).ca?.toString(), 'FILE-CA');
  await assert.rejects(readKubeconfig(path, 'nope'), /context "nope" not found/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { removeKubeconfigContext } from './kubeconfig.js';

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

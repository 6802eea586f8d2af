import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { mergeKubeconfig, removeKubeconfigContext } from './kubeconfig.js';

const standalone = (name: string) => YAML.stringify({
  apiVersion: 'v1', kind: 'Config', 'current-context': name,
  clusters: [{ name, cluster: { server: 'https://127.0.0.1:6443' } }],
  users: [{ name, user: { token: 'secret' } }],
  contexts: [{ name, context: { cluster: name, user: name } }],
});

test('merges into an existing kubeconfig, keeps other entries, mode 0600, and removes cleanly', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cip-kc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'config');
  writeFileSync(path, YAML.stringify({ apiVersion: 'v1', kind: 'Config', 'current-context': 'other',
    clusters: [{ name: 'other', cluster: { server: 'https://x' } }], users: [{ name: 'other', user: {} }],
    contexts: [{ name: 'other', context: { cluster: 'other', user: 'other' } }] }));
  mergeKubeconfig(path, standalone('clusterip-a'));
  mergeKubeconfig(path, standalone('clusterip-a')); // idempotent
  let doc = YAML.parse(readFileSync(path, 'utf8'));
  assert.equal(doc['current-context'], 'clusterip-a');
  assert.deepEqual(doc.contexts.map((c: { name: string }) => c.name), ['other', 'clusterip-a']);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  removeKubeconfigContext(path, 'clusterip-a');
  doc = YAML.parse(readFileSync(path, 'utf8'));
  assert.deepEqual(doc.contexts.map((c: { name: string }) => c.name), ['other']);
  assert.deepEqual(doc.clusters.map((c: { name: string }) => c.name), ['other']);
});

// The in-process certificates (src/apiserver/pki) with the clients users bring: kubectl (Go TLS),
// the Python client (OpenSSL through urllib3) and — for the openssl-made certificates of earlier
// versions — kubectl again. Real API server over HTTPS on 127.0.0.1 port 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestCluster } from '../harness/cluster.js';

const PYTHON = '/usr/bin/python3';
const PY = `
import sys
from kubernetes import client, config
config.load_kube_config(config_file=sys.argv[1])
v1 = client.CoreV1Api()
v1.create_namespaced_config_map("default", {"metadata": {"name": "from-python"}, "data": {"k": "v"}})
print(",".join(sorted(n.metadata.name for n in v1.list_namespace().items)))
print(v1.read_namespaced_config_map("from-python", "default").data["k"])
`;

test('kubectl and the Python client verify the serving certificate and authenticate with the admin certificate', async (t) => {
  const c = await startTestCluster(t);
  const ns = await c.kubectl(['get', 'namespaces', '-o', 'name']);
  assert.equal(ns.code, 0, ns.stderr);
  // Asynchronously: the API server runs in this process.
  const py = await promisify(execFile)(PYTHON, ['-c', PY, c.kubeconfig], { encoding: 'utf8', timeout: 60_000 })
    .catch((e: Error & { stderr?: string }) => assert.fail(`python client failed (python3-kubernetes, which .ci/run installs): ${e.message}\n${e.stderr ?? ''}`));
  assert.match(py.stdout, /^default,kube-node-lease,kube-public,kube-system\nv\n$/);
  const got = await c.kubectl(['get', 'configmap', 'from-python', '-o', 'jsonpath={.data.k}']);
  assert.equal(got.stdout, 'v');
});

test('certificates made by earlier versions with the openssl CLI keep working with kubectl', async (t) => {
  const fixture = join(import.meta.dirname, '..', '..', 'src', 'apiserver', 'pki', 'testdata', 'openssl');
  const c = await startTestCluster(t, { pkiFrom: fixture });
  assert.equal(c.pki.serverCert, await readFile(join(fixture, 'apiserver.crt'), 'utf8'), 'the old certificates are used, not replaced');
  const r = await c.kubectl(['get', 'namespaces', '-o', 'name']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /namespace\/default/);
});

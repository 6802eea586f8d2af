/**
 * The `kubernetes` Service carries traffic (issue 14's first bullet, issue 22's lease reconciler):
 * after `clusterip up`, `default/kubernetes` lists the API server's address on the cluster network
 * (node 0's Pod gateway, port 6443) in its Endpoints and EndpointSlice, the API server holds its
 * Lease `kube-system/apiserver-<id>`, and a Pod's curl to https://kubernetes.default.svc — verified
 * against the cluster CA — gets its answer from the API server: 401 without a token, the API's
 * discovery document with one. Nothing was added to the host's namespace for it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { upCluster } from '../harness/up.js';

test('the kubernetes Service: endpoints from the API server Lease, and a Pod reaches the API server through 10.96.0.1 with the cluster CA', { timeout: 180_000 }, async (t) => {
  const c = await upCluster(t, { nodes: 2 });
  let r = await c.kubectl(['get', 'endpoints', 'kubernetes', '-o', 'jsonpath={.subsets[*].addresses[*].ip}:{.subsets[*].ports[*].port}']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '10.244.0.1:6443');
  r = await c.kubectl(['get', 'endpointslice', 'kubernetes', '-o', 'jsonpath={.endpoints[*].addresses[*]} {.endpoints[*].conditions.ready} {.ports[0].name}/{.ports[0].port} {.metadata.labels.kubernetes\\.io/service-name}']);
  assert.equal(r.stdout, '10.244.0.1 true https/6443 kubernetes', r.stderr);
  r = await c.kubectl(['get', 'lease', '-n', 'kube-system', '-l', 'apiserver.kubernetes.io/identity=kube-apiserver', '-o', 'jsonpath={.items[*].metadata.name}']);
  assert.match(r.stdout, /^apiserver-[0-9a-f]{16}$/);

  const ca = join(c.stateDir, 'pki', 'ca.crt');
  const token = (await readFile(join(c.stateDir, 'pki', 'admin.token'), 'utf8')).trim();
  // One curl Pod per node (node 1's request crosses to node 0 over the underlay); the CA is
  // verified (no -k): the serving certificate carries kubernetes.default.svc and 10.96.0.1.
  for (const node of [`${c.name}-node-0`, `${c.name}-node-1`]) {
    const overrides = JSON.stringify({ apiVersion: 'v1', spec: { nodeName: node } });
    r = await c.kubectl(['run', `anon-${node.slice(-1)}`, '--image=curlimages/curl', '--restart=Never', '--rm', '-i', `--overrides=${overrides}`, '--',
      '-sS', '--max-time', '5', '--cacert', ca, '-o', '/dev/null', '-w', '%{http_code}\n', 'https://kubernetes.default.svc/api'], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^401$/m, `no token: 401 from the API server (${node})`);
    r = await c.kubectl(['run', `admin-${node.slice(-1)}`, '--image=curlimages/curl', '--restart=Never', '--rm', '-i', `--overrides=${overrides}`, '--',
      '-sS', '--max-time', '5', '--cacert', ca, '-H', `Authorization: Bearer ${token}`, 'https://kubernetes.default.svc:443/api'], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /"kind": ?"APIVersions"/, `with a token: the API's answer (${node})`);
  }
  // Through the ClusterIP itself too (what client-go's InClusterConfig dials: KUBERNETES_SERVICE_HOST).
  r = await c.kubectl(['run', 'byip', '--image=curlimages/curl', '--restart=Never', '--rm', '-i', '--',
    '-sS', '--max-time', '5', '--cacert', ca, '-o', '/dev/null', '-w', '%{http_code}\n', 'https://10.96.0.1/version'], { timeoutMs: 60_000 });
  assert.match(r.stdout, /^200$/m, r.stderr);
});

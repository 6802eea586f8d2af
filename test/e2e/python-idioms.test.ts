/**
 * The official Python client (Debian python3-kubernetes under /usr/bin/python3) with its own idioms
 * against a real API server, next to the @kubernetes/client-node tests: typed create/read/list and
 * the three patch types, the scale subresource, watches with label and field selectors,
 * EndpointSlices (one the controller keeps), and 404 / 409 / 422 as ApiException. The script
 * (python/idioms.py) prints what it saw; this file asserts it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { R } from '../../src/api/resources.js';
import { startTestCluster } from '../harness/cluster.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'python', 'idioms.py');

test('python3-kubernetes idioms: typed CRUD and patches, scale, selective watches, EndpointSlices, API errors', async (t) => {
  const c = await startTestCluster(t, { controllers: ['endpointslice'] });
  const ns = `py-${randomBytes(3).toString('hex')}`;
  await c.core.create(R.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const child = spawn(PYTHON, [SCRIPT, c.kubeconfig, ns], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => { child.kill('SIGKILL'); });
  let out = ''; let err = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, `stderr: ${err}\nstdout: ${out}`);
  const seen = Object.fromEntries(out.trim().split('\n').map((l) => JSON.parse(l) as { check: string }).map((o) => [o.check, o])) as Record<string, Record<string, unknown>>;

  assert.deepEqual(seen.typed, { check: 'typed', created: 'cfg', uid: true, data: { a: '1' }, listed: ['cfg'], rv: true });
  assert.deepEqual(seen.patch!.data, { a: 'one', c: '3' });
  assert.deepEqual(seen.deployment, {
    check: 'deployment', containers: [['web', 'nginx:1.27'], ['side', 'busybox']], ports: 80,
    scale_kind: 'Scale', patched_replicas: 3, replaced_replicas: 2, stored_replicas: 2,
  });
  assert.deepEqual(seen.watch!.events, [['ADDED', 'p2'], ['MODIFIED', 'p2'], ['DELETED', 'p2']]);
  assert.deepEqual(seen.endpointslices, { check: 'endpointslices', manual: ['IPv4', ['10.244.0.9'], 8080], service: ['web'] });
  assert.deepEqual(seen['404'], { check: '404', status: 404, reason: 'NotFound', message: 'configmaps "nope" not found', causes: [] });
  assert.deepEqual(seen['409'], { check: '409', status: 409, reason: 'AlreadyExists', message: 'configmaps "cfg" already exists', causes: [] });
  assert.equal(seen['422']!.status, 422);
  assert.equal(seen['422']!.reason, 'Invalid');
  assert.equal(seen['422']!.message, 'Service "bad" is invalid: [spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive, spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive]');
  assert.deepEqual(seen['422']!.causes, ['spec.ports[0].port', 'spec.ports[0].targetPort']);
});

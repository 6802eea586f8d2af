/**
 * The official Python client (Debian python3-kubernetes) against a real API server: its watch sends
 * `watch=True` (Python's spelling of a boolean), which Kubernetes reads as true. Before query
 * parameters were parsed as Kubernetes parses them, the server answered a list and the watch never
 * delivered an event. Runs the system interpreter (/usr/bin/python3), where Debian installs it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { ConfigMap, Namespace } from 'kubernetes-types/core/v1.js';
import { R } from '../../src/api/resources.js';
import { startTestCluster } from '../harness/cluster.js';

const PYTHON = '/usr/bin/python3';

/** Watches ConfigMaps of a namespace with the client's own idiom and prints one JSON line per event. */
const WATCH_SCRIPT = `
import json, sys
from kubernetes import client, config, watch
config.load_kube_config(config_file=sys.argv[1])
w = watch.Watch()
for ev in w.stream(client.CoreV1Api().list_namespaced_config_map, sys.argv[2], timeout_seconds=20):
    print(json.dumps([ev['type'], ev['object'].metadata.name]), flush=True)
    if ev['object'].metadata.name == 'last':
        w.stop()
`;

test('python3-kubernetes: watch.Watch().stream delivers ADDED events for existing and new objects', async (t) => {
  const c = await startTestCluster(t);
  const ns = `py-${randomBytes(3).toString('hex')}`;
  await c.core.create<Namespace>(R.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  await c.core.create<ConfigMap>(R.configmaps, ns, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'first' } });
  const script = await c.file('watch.py', WATCH_SCRIPT);

  const child = spawn(PYTHON, [script, c.kubeconfig, ns], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => { child.kill('SIGKILL'); });
  let out = ''; let err = '';
  const waiters = new Set<() => void>();
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); for (const w of waiters) w(); });
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  /** Resolves once the script printed `line`. */
  const saw = (line: string) => new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`no ${line} within 15 s; stdout: ${out}; stderr: ${err}`)); }, 15_000);
    const check = (): void => { if (out.split('\n').includes(line)) { clearTimeout(timer); waiters.delete(check); resolve(); } };
    waiters.add(check);
    check();
  });

  await saw('["ADDED", "first"]');
  await c.core.create<ConfigMap>(R.configmaps, ns, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'last' } });
  await saw('["ADDED", "last"]');
  assert.equal(await exited, 0, err);
  assert.deepEqual(out.trim().split('\n'), ['["ADDED", "first"]', '["ADDED", "last"]']);
});

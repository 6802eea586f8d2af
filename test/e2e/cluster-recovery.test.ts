/**
 * Issue 13's reproduction, with the real CLI, kubectl and kernel: `clusterip up --detach`, a
 * Deployment `web` (nginx, 2 replicas) exposed on port 80 and a client Pod, then `kill -9` of the
 * daemon and `clusterip up` again. The second `up` must become ready by itself: the same Pod
 * processes adopted (none left beside a new copy), every Pod Running and Ready with its restart
 * count unchanged, DNS answering, the Service carrying traffic, every ClusterIP and object kept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readRecord } from '../../src/cluster/state.js';
import { upCluster } from '../harness/up.js';
import { allPodsReady, clusterIPs, clusterProcesses, getPods, killHard, kubectlOk, serviceWorksFrom } from './recovery-helpers.js';

test('kill -9 of the daemon, then up: Pods adopted (same processes), Ready, DNS answers, the Service carries traffic, ClusterIPs kept', async (t) => {
  const c = await upCluster(t);
  await kubectlOk(c, ['create', 'deployment', 'web', '--image=nginx', '--replicas=2']);
  await kubectlOk(c, ['expose', 'deployment', 'web', '--port=80']);
  await kubectlOk(c, ['run', 'client', '--image=busybox', '--', 'sleep', '3600']);
  await kubectlOk(c, ['rollout', 'status', 'deployment/web', '--timeout=60s'], 70_000);
  await kubectlOk(c, ['wait', '--for=condition=Ready', 'pod/client', '--timeout=60s'], 70_000);
  const ips = await clusterIPs(c);
  const pods = await allPodsReady(c);
  const before = (await clusterProcesses(c.record.id)).filter((p) => p.netns.includes('-p')).map((p) => p.pid).sort();
  await serviceWorksFrom(c, 'client', 'web', ips['default/web']!);

  await killHard(c.record.pid!);
  const rec = await c.upAgain();
  assert.notEqual(rec.pid, c.record.pid);
  assert.equal(readRecord(c.stateDir)?.pid, rec.pid);

  // Every Pod came back Ready as the same object, with the same IP and no restart.
  const after = await allPodsReady(c);
  const view = (ps: typeof pods): string[] => ps.map((p) => `${p.metadata!.namespace}/${p.metadata!.name} ${p.metadata!.uid} ${p.status!.podIP} ` +
    `restarts=${p.status!.containerStatuses!.map((s) => s.restartCount).join(',')}`).sort();
  assert.deepEqual(view(after), view(pods));
  // The same processes, and nothing beside them: no second copy of any Pod.
  const now = (await clusterProcesses(rec.id)).filter((p) => p.netns.includes('-p')).map((p) => p.pid).sort();
  assert.deepEqual(now, before, 'the Pods\' processes are the ones from before the crash, and only those');
  assert.deepEqual(await clusterIPs(c), ips, 'every ClusterIP kept');
  await serviceWorksFrom(c, 'client', 'web', ips['default/web']!);
  assert.equal((await getPods(c)).length, pods.length);
});

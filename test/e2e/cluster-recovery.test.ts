/**
 * Issue 13's reproduction, with the real CLI, kubectl and kernel: `clusterip up --detach`, a
 * Deployment `web` (nginx, 2 replicas) exposed on port 80 and a client Pod, then `kill -9` of the
 * daemon and `clusterip up` again. The second `up` must become ready by itself: the same Pod
 * processes adopted (none left beside a new copy), every Pod Running and Ready with its restart
 * count unchanged, DNS answering, the Service carrying traffic, every ClusterIP and object kept.
 * A container killed while no daemon ran is restarted, and counted (restartCount 1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readRecord } from '../../src/cluster/state.js';
import { topologyNames } from '../../src/cluster/topology.js';
import { upCluster } from '../harness/up.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import {
  alive, allPodsReady, clusterIPs, clusterProcesses, eventually, getPods, killHard, kubectlOk, onlyProcess, podNetns, serviceWorksFrom, type ClusterProcess,
} from './recovery-helpers.js';

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

test('kill -9 of the daemon (and of a container while it is down), then up: Pods adopted or restarted, Ready, DNS answers, the Service carries traffic, ClusterIPs kept', async (t) => {
  const c = await upCluster(t);
  await kubectlOk(c, ['create', 'deployment', 'web', '--image=nginx', '--replicas=2']);
  await kubectlOk(c, ['expose', 'deployment', 'web', '--port=80']);
  await kubectlOk(c, ['run', 'client', '--image=busybox', '--', 'sleep', '3600']);
  await kubectlOk(c, ['rollout', 'status', 'deployment/web', '--timeout=60s'], 70_000);
  await kubectlOk(c, ['wait', '--for=condition=Ready', 'pod/client', '--timeout=60s'], 70_000);
  const ips = await clusterIPs(c);
  const pods = await allPodsReady(c);
  const id = c.record.id;
  const inPods = async (): Promise<ClusterProcess[]> => (await clusterProcesses(id)).filter((p) => p.netns.startsWith(`cip-${id}-p`));
  const before = await inPods();
  await serviceWorksFrom(c, 'client', 'web', ips['default/web']!);
  const node = topologyNames(id).node(0);
  const daemonsOwn = (await clusterProcesses(id)).filter((p) => p.netns === node);
  assert.ok(daemonsOwn.some((p) => /^nft -i/.test(p.cmd)), `the proxy's session runs in the node namespace: ${JSON.stringify(daemonsOwn)}`);

  await killHard(c.record.pid!);
  // While no daemon runs, one container dies too: it must come back, counted as a restart.
  const victim = pods.find((p) => p.metadata!.name!.startsWith('web-'))!;
  const nginx = await onlyProcess(id, podNetns(id, victim), /^nginx: master/);
  await killHard(nginx.pid);
  const rec = await c.upAgain();
  assert.notEqual(rec.pid, c.record.pid);
  assert.equal(readRecord(c.stateDir)?.pid, rec.pid);

  // Every Pod came back Ready as the same object with the same IP; only the victim restarted.
  const view = (ps: Pod[], restarted?: string): string[] => ps.map((p) => `${p.metadata!.namespace}/${p.metadata!.name} ${p.metadata!.uid} ${p.status!.podIP} ` +
    `restarts=${p.status!.containerStatuses!.map((s) => s.restartCount + (p.metadata!.uid === restarted ? 1 : 0)).join(',')}`).sort();
  await eventually('every Pod Ready, the killed container restarted once', async () => {
    assert.deepEqual(view(await allPodsReady(c)), view(pods, victim.metadata!.uid));
  });
  // The same processes, except the killed container's, which was replaced: nothing runs twice.
  const after = await inPods();
  const key = (p: ClusterProcess): string => `${p.netns} ${p.pid} ${p.cmd}`;
  const victimNs = podNetns(id, victim);
  assert.deepEqual(after.filter((p) => p.netns !== victimNs).map(key).sort(), before.filter((p) => p.netns !== victimNs).map(key).sort(),
    'the other Pods\' processes are the ones from before the crash, and only those');
  const cmds = (ps: ClusterProcess[]): string[] => ps.filter((p) => p.netns === victimNs).map((p) => p.cmd).sort();
  assert.deepEqual(cmds(after), cmds(before), 'the killed container runs again, once (no worker of the old one left)');
  assert.notEqual((await onlyProcess(id, victimNs, /^nginx: master/)).pid, nginx.pid);
  // What the killed daemon ran in the node namespace (its nft -i, flow collectors) is gone: every
  // process there now is the new daemon's.
  for (const p of daemonsOwn) assert.equal(alive(p.pid), false, `left from the killed daemon: ${p.pid} ${p.cmd}`);
  for (const p of (await clusterProcesses(id)).filter((x) => x.netns === node)) {
    assert.equal(parentOf(p.pid), rec.pid, `${p.pid} ${p.cmd} in the node namespace belongs to the new daemon`);
  }
  assert.deepEqual(await clusterIPs(c), ips, 'every ClusterIP kept');
  await serviceWorksFrom(c, 'client', 'web', ips['default/web']!);
  assert.equal((await getPods(c)).length, pods.length);
});

/**
 * End-to-end (root, real kernel): kill -9 of the node agent's process. Pods keep running (as with
 * the kubelet); a new agent with the same state dir re-adopts them (same processes, same IPs, no
 * restart) and cleans up the Pods that were deleted while it was down. Leak-checked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import * as readline from 'node:readline';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { R } from '../../src/api/resources.js';
import { FakeClient } from '../../src/client/testing/fake.js';
import { startNodeAgent } from '../../src/node/agent.js';
import { pidAlive, run } from '../../src/node/exec.js';
import { deleteNetns } from '../../src/node/network.js';
import { processesMentioning, isReady } from '../../src/node/testing/harness.js';

const alive = (pid: number): boolean => pidAlive(pid);

test('kill -9 of the agent, then restart: running Pods re-adopted, deleted Pods cleaned up', async (t) => {
  const id = randomBytes(2).toString('hex');
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), `cipn-${id}-`));
  const opts = { nodeName: `node-${id}`, nodeIndex: 0, netns: `cipt-${id}-n0`, podCIDR: '10.244.0.0/24', stateDir,
    clusterDNS: '10.96.0.10', clusterDomain: 'cluster.local', idPrefix: `cipt-${id}`, backoffBaseMs: 500, probeSecondMs: 200 };
  const pods: Pod[] = ['keep', 'gone'].map((name) => ({ apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `${id}-${name}` },
    spec: { nodeName: opts.nodeName, containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] } }));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/node/testing/agentchild.ts', JSON.stringify(opts), JSON.stringify(pods)],
    { stdio: ['ignore', 'pipe', 'inherit'], cwd: process.cwd() });
  t.after(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    for (const p of processesMentioning(stateDir)) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
    const ns = (await run(['ip', 'netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(`cipt-${id}`)).map((l) => l.split(' ')[0]!);
    for (const n of ns) await deleteNetns(n);
    fs.rmSync(stateDir, { recursive: true, force: true });
  });
  const line = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (c) => reject(new Error(`agent child exited ${c}`)));
  });
  const before = JSON.parse(line) as { pods: Pod[]; pids: Record<string, number> };
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  assert.ok(alive(before.pids.keep!) && alive(before.pids.gone!), 'Pods survive the agent');

  // The API still has "keep"; "gone" was deleted while the agent was down.
  const client = new FakeClient();
  await client.create(R.pods, 'default', before.pods.find((p) => p.metadata?.name === 'keep')!);
  const agent = await startNodeAgent({ ...opts, client });
  let stopped = false;
  t.after(async () => { if (!stopped) await agent.stop(); });
  let keep: Pod | undefined;
  for (let i = 0; i < 100; i++) {
    await agent.idle();
    keep = await client.get<Pod>(R.pods, 'default', 'keep');
    if (agent.worker('default', 'keep')?.sandbox && isReady(keep)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(agent.worker('default', 'keep')?.container()?.pid, before.pids.keep, 'same process, not restarted');
  assert.equal(keep?.status?.podIP, before.pods[0]!.status?.podIP);
  assert.equal(keep?.status?.containerStatuses?.[0]?.restartCount, 0);
  for (let i = 0; i < 40 && alive(before.pids.gone!); i++) await new Promise((r) => setTimeout(r, 25));
  assert.equal(alive(before.pids.gone!), false, 'the orphan was killed');
  const gonePodNs = `cipt-${id}-p`;
  const nsList = (await run(['ip', 'netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(gonePodNs));
  assert.equal(nsList.length, 1, 'only the adopted Pod keeps a namespace');
  // The adopted container still works and still reaches the bridge.
  const s = await agent.exec('default', 'keep', { command: ['ping', '-c', '1', '-W', '2', '10.244.0.1'], stdin: false, stdout: true, stderr: true, tty: false });
  assert.deepEqual(await s.result, { exitCode: 0 });
  stopped = true;
  await agent.stop();
  for (let i = 0; i < 40 && alive(before.pids.keep!); i++) await new Promise((r) => setTimeout(r, 25));
  assert.equal(alive(before.pids.keep!), false);
  assert.deepEqual((await run(['ip', 'netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(`cipt-${id}`)), []);
  assert.deepEqual(processesMentioning(stateDir), []);
});

// Which process of a probe Pod `clusterip diagnose` enters, and that it still enters the Pod after
// the Pod's sandbox was re-built. The second test is root: real sandboxes made by the node agent's
// own createSandbox in a scratch node namespace (removed when it ends), the real probe helper.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { Ipam } from '../node/ipam.js';
import { podNetnsName } from '../node/podnames.js';
import { deleteNetns, ensureNodeNetwork } from '../node/network.js';
import { createSandbox, destroySandbox, nsenterArgs, type SandboxRecord } from '../node/sandbox.js';
import { pidStartTime } from '../sys/process.js';
import { HelperError, type ReadAnswer } from './helper.js';
import { chooseSandboxProcess, readySandboxHolder, runInProbe, type PlacedProbe, type SandboxProcess } from './probepod.js';

const proc = (pid: number, start: number, p: Partial<SandboxProcess> = {}): SandboxProcess =>
  ({ pid, start, parentInside: false, resolvBound: true, setUp: false, ...p });

test('the probe enters the sandbox holder: not a lower pid, not a child of the holder, not a later process of the Pod', () => {
  const holder = proc(32700, 1000, { setUp: true });
  // After a pid wrap, the holder's `mount --bind /etc/hosts` child has a lower pid and sees resolv.conf.
  const mountChild = proc(310, 1001, { parentInside: true });
  const container = proc(320, 1050, { setUp: true });
  const execSession = proc(330, 1090);
  assert.equal(chooseSandboxProcess([mountChild, container, execSession, holder])?.pid, 32700);
  // Read while the holder is still binding its files: its child already sees resolv.conf (the
  // first pid in /proc that does is the child): nothing is ready yet.
  assert.equal(chooseSandboxProcess([proc(500, 1000), proc(510, 1001, { parentInside: true })]), undefined);
  // The agent's `ip -n` configuring the namespace before the holder exists sees the host's files.
  assert.equal(chooseSandboxProcess([proc(480, 990, { resolvBound: false }), holder])?.pid, 32700);
  assert.equal(chooseSandboxProcess([]), undefined);
});

test('the probe runs in the Pod and still does after its sandbox was re-built with a new holder (root)', async (t) => {
  const id = randomBytes(2).toString('hex');
  const nodeNs = `cipt-${id}-n0`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'probe-pod-'));
  const env = { nodeNetns: nodeNs, podCIDR: '10.244.0.0/24', idPrefix: `cipt-${id}`, ipam: new Ipam(dir, '10.244.0.0/24'),
    dns: { clusterDNS: '10.96.0.10', clusterDomain: 'cluster.local' } };
  const uid = randomUUID();
  const pod: Pod = { metadata: { name: 'clusterip-probe-x', namespace: 'c-probe', uid }, spec: { containers: [] } };
  let sb: SandboxRecord | undefined;
  const children: number[] = [];
  t.after(async () => {
    for (const pid of children) { try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ } }
    await destroySandbox(env, sb ?? { uid });
    await deleteNetns(nodeNs);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await ensureNodeNetwork(nodeNs, '10.244.0.0/24');
  sb = await createSandbox(env, pod, path.join(dir, 'pod'));
  const netns = podNetnsName(env.idPrefix, uid);
  assert.equal(sb.netns, netns);

  // Later processes of the Pod, one with a child of its own (as a container or exec session).
  const later = spawn(nsenterArgs(sb)[0]!, [...nsenterArgs(sb).slice(1), 'sh', '-c', 'sleep 30 & wait'], { detached: true, stdio: 'ignore' });
  children.push(later.pid!);
  const holder = readySandboxHolder(netns);
  assert.equal(holder?.pid, sb.holderPid, 'the holder, not a later process of the Pod');

  const probe: PlacedProbe = { namespace: 'c-probe', name: 'clusterip-probe-x', uid, ip: sb.ip, node: 'n0', netns, ...holder!, placedMs: 0 };
  const read = async (): Promise<string> => ((await runInProbe(probe, [{ op: 'read', path: '/etc/resolv.conf' }], { timeoutMs: 10_000 }))[0] as ReadAnswer).text ?? '';
  assert.match(await read(), /^nameserver 10\.96\.0\.10$/m, "the Pod's own resolv.conf");

  // The holder dies; the agent builds a new sandbox under the same namespace name (its SandboxChanged).
  const oldHolder = sb.holderPid;
  await destroySandbox(env, sb, { keepAddress: true });
  sb = await createSandbox(env, pod, path.join(dir, 'pod'));
  assert.notEqual(sb.holderPid, oldHolder);
  assert.notEqual(pidStartTime(oldHolder), holder!.pidStart, 'the old holder is gone');
  assert.match(await read(), /^nameserver 10\.96\.0\.10$/m, 'the probe follows the new sandbox');
  assert.equal(probe.pid, sb.holderPid);

  // No sandbox any more: a clear error, within the wait.
  await destroySandbox(env, sb);
  sb = undefined;
  const t0 = Date.now();
  await assert.rejects(runInProbe(probe, [{ op: 'read', path: '/etc/resolv.conf' }], { timeoutMs: 300 }),
    (e: Error) => e instanceof HelperError && /the probe Pod's sandbox ended after it was placed \(its holder, pid \d+, is gone\)/.test(e.message));
  assert.ok(Date.now() - t0 < 5000);
});

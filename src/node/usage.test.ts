import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { clockTicks, pageSize, parseProcStat, UsageAccountant } from './usage.js';

test('clock ticks and page size come from the auxiliary vector and agree with getconf', () => {
  assert.equal(clockTicks(), Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()));
  assert.equal(pageSize(), Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim()));
});

test('parseProcStat reads session, CPU ticks and RSS even with spaces and parentheses in the name', () => {
  const s = parseProcStat('4242 (my (odd) prog) S 1 4242 4242 0 -1 4194560 100 0 0 0 7 3 2 1 20 0 1 0 555 1000 25 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0')!;
  assert.deepEqual(s, { pid: 4242, session: 4242, ticks: 13, rss: 25, start: 555 });
});

test('a container\'s CPU counts its short-lived children (cpuacct), and its group is removed after', async (t) => {
  if (process.getuid?.() !== 0 || !existsSync('/sys/fs/cgroup/cpuacct/cpuacct.usage')) { t.skip('needs root and cgroup v1 cpuacct'); return; }
  // A session leader that keeps forking short busy children (the pattern of busybox `nc -ll -e`).
  const child = spawn('sh', ['-c', "trap '' CHLD; while true; do sh -c 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done' & sleep 0.05; done"], { detached: true, stdio: 'ignore' });
  const scope = `cip-test-${randomBytes(3).toString('hex')}/n0`;
  const acc = new UsageAccountant(scope);
  try {
    const pod = [{ namespace: 'd', name: 'p', uid: 'uid-0001', containers: [{ name: 'c', pid: child.pid! }] }];
    const first = acc.sample('n0', pod).pods[0]!.containers[0]!;
    await new Promise((r) => setTimeout(r, 1500));
    const second = acc.sample('n0', pod).pods[0]!.containers[0]!;
    // About a second of busy children: far more than the leader's own (near zero) time.
    assert.ok(second.cpuSeconds - first.cpuSeconds > 0.2, `counted ${second.cpuSeconds - first.cpuSeconds} s`);
  } finally {
    process.kill(-child.pid!, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    acc.sample('n0', []);
    acc.close();
  }
  assert.equal(existsSync(`/sys/fs/cgroup/cpuacct/clusterip/${scope}`), false);
});

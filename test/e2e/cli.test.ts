// The clusterip CLI's errors and its status/down on a stopped cluster, run as a user runs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { mkdtemp, mkdir, readFile, rename, rm, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, upCluster } from '../harness/up.js';
import { listNetns } from '../../src/sys/netns.js';
import { isRunning } from '../../src/sys/process.js';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'cip-cli-'));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

test('usage errors name the flag and exit 2', async () => {
  const r = await runCli(['up', '--nodez', '2']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown flag: --nodez/);
  const m = await runCli(['up', '--proxy-mode', 'bogus', '--name', 'x']);
  assert.equal(m.code, 2);
  assert.match(m.stderr, /--proxy-mode must be nftables, iptables or userspace, not "bogus"/);
  // ipvs is a mode kube-proxy has, so it gets its own answer: why it is not available here.
  const v = await runCli(['up', '--proxy-mode', 'ipvs', '--name', 'x']);
  assert.notEqual(v.code, 0);
  assert.match(v.stderr, /--proxy-mode ipvs is not available: this kernel has no IPVS/);
  const h = await runCli(['help']);
  assert.match(h.stdout, /clusterip up \[flags\]/);
});

test('a port in use is reported with the fix', async (t) => {
  const dir = await tempDir(t);
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => srv.close(() => r())));
  const port = (srv.address() as { port: number }).port;
  const r = await runCli(['up', '--name', 'porttest', '--state-dir', join(dir, 's'), '--api-port', String(port), '--kubeconfig', join(dir, 'kc')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use; choose another with --api-port`));
});

test('a state directory from an incompatible version is refused with the fix', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 's'), { recursive: true });
  await writeFile(join(dir, 's', 'cluster.json'), JSON.stringify({ stateVersion: 99, name: 'old' }));
  const r = await runCli(['up', '--name', 'old', '--state-dir', join(dir, 's'), '--api-port', '0', '--kubeconfig', join(dir, 'kc')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /incompatible clusterip \(state version 99, this one uses 1\); remove it with 'clusterip down --name old --purge'/);
});

test('a cluster that is already running is not started twice', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 's'), { recursive: true });
  // Our own test process stands in for the running daemon: its pid is alive.
  await writeFile(join(dir, 's', 'cluster.json'), JSON.stringify({ stateVersion: 1, name: 'twice', id: 'ffff', pid: process.pid, apiURL: 'https://127.0.0.1:1' }));
  const r = await runCli(['up', '--name', 'twice', '--state-dir', join(dir, 's'), '--api-port', '0', '--kubeconfig', join(dir, 'kc')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /a cluster named "twice" is already running \(pid \d+/);
  const st = await runCli(['status', '--name', 'twice', '--state-dir', join(dir, 's')]);
  assert.match(st.stdout, /cluster:\s+twice \(running, pid/);
});

test('status and down of a cluster that does not run', async (t) => {
  const dir = await tempDir(t);
  const st = await runCli(['status', '--name', 'ghost', '--state-dir', join(dir, 's')]);
  assert.equal(st.code, 1);
  assert.match(st.stdout, /no cluster named "ghost"/);
  const d = await runCli(['down', '--name', 'ghost', '--state-dir', join(dir, 's')]);
  assert.equal(d.code, 0);
  assert.match(d.stdout, /was not running/);
  const bad = await runCli(['status', '--name', 'Bad_Name']);
  assert.match(bad.stderr, /invalid cluster name "Bad_Name"/);
});

test('not root: refused with the fix', async (t) => {
  const dir = await tempDir(t);
  const r = await runCli(['up', '--name', 'nr', '--state-dir', join(dir, 's'), '--api-port', '0', '--kubeconfig', join(dir, 'kc')],
    { uid: 65534, gid: 65534, env: { HOME: '/tmp' } });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /clusterip needs root .*run it with sudo/);
});

test('a missing system tool is named with the package that provides it', async (t) => {
  const dir = await tempDir(t);
  // A PATH with everything the CLI needs except nft.
  const bin = join(dir, 'bin');
  await mkdir(bin);
  for (const [name, target] of [['ip', '/usr/sbin/ip'], ['busybox', '/usr/bin/busybox'], ['nsenter', '/usr/bin/nsenter'], ['dig', '/usr/bin/dig']]) {
    await symlink(target, join(bin, name));
  }
  const r = await runCli(['up', '--name', 'nonft', '--state-dir', join(dir, 's'), '--api-port', '0', '--kubeconfig', join(dir, 'kc')], { env: { PATH: bin } });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /missing: nft \(package nftables\)\. Install with: apt-get install -y nftables/);
});

test('a cluster started with --state-dir is found by its name alone: status, list, a second up, down', async (t) => {
  const c = await upCluster(t);
  const pid = c.record.pid!;
  const st = await runCli(['status', '--name', c.name]);
  assert.equal(st.code, 0, st.stdout + st.stderr);
  assert.match(st.stdout, new RegExp(`cluster:\\s+${c.name} \\(running, pid ${pid}\\)`));
  assert.match(st.stdout, new RegExp(`state dir:\\s+${c.stateDir}`));

  const listed = JSON.parse((await runCli(['list', '-o', 'json'])).stdout) as Record<string, unknown>[];
  assert.deepEqual(listed.find((r) => r.name === c.name), {
    name: c.name, state: 'running', pid, apiURL: c.record.apiURL, stateDir: c.stateDir, nodes: 1, proxyMode: 'nftables',
  });
  const table = (await runCli(['list'])).stdout;
  assert.match(table, /^NAME\s+STATE\s+PID\s+API\s+STATE DIR\s+NODES\s+PROXY$/m);
  assert.match(table, new RegExp(`^${c.name}\\s+running\\s+${pid}\\s+${c.record.apiURL.replace(/\./g, '\\.')}\\s+${c.stateDir}\\s+1\\s+nftables$`, 'm'));

  // The same name again, without --state-dir: the index points at the running one.
  const again = await runCli(['up', '--name', c.name, '--api-port', '0', '--kubeconfig', join(c.dir, 'kc2')]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, new RegExp(`a cluster named "${c.name}" is already running \\(pid ${pid}, `));

  // Another cluster on the held state directory: refused by the daemon's kernel lock even with no
  // record to go by (as while a daemon is starting), naming the holder's pid.
  await rename(join(c.stateDir, 'cluster.json'), join(c.stateDir, 'cluster.json.aside'));
  const other = `${c.name}-b`;
  const held = await runCli(['up', '--name', other, '--state-dir', c.stateDir, '--api-port', '0', '--kubeconfig', join(c.dir, 'kc3'), '--detach']);
  await rename(join(c.stateDir, 'cluster.json.aside'), join(c.stateDir, 'cluster.json'));
  assert.equal(held.code, 1, held.stdout + held.stderr);
  assert.match(held.stderr, new RegExp(`state directory ${c.stateDir} is in use by another clusterip daemon \\(pid ${pid}\\)`));
  assert.ok(isRunning({ pid, startTime: c.record.pidStartTime, bootId: c.record.bootId }), 'the running cluster is untouched');

  // down by name alone stops it (it used to answer "was not running" and leave it running).
  const d = await runCli(['down', '--name', c.name]);
  assert.equal(d.code, 0, d.stderr);
  assert.match(d.stdout, new RegExp(`cluster "${c.name}" stopped`));
  assert.equal(isRunning({ pid, startTime: c.record.pidStartTime, bootId: c.record.bootId }), false);
  assert.equal((await runCli(['status', '--name', c.name])).code, 3);
  const after = JSON.parse((await runCli(['list', '-o', 'json'])).stdout) as Record<string, unknown>[];
  assert.equal(after.find((r) => r.name === c.name)?.state, 'stopped');
  await c.down(); // --purge: the entry goes too
  const purged = JSON.parse((await runCli(['list', '-o', 'json'])).stdout) as Record<string, unknown>[];
  assert.equal(purged.find((r) => r.name === c.name), undefined);
});

test('kill -9 of the daemon: list says crashed, and down by name removes what it left', async (t) => {
  const c = await upCluster(t);
  process.kill(c.record.pid!, 'SIGKILL');
  for (let i = 0; i < 100 && isRunning({ pid: c.record.pid, startTime: c.record.pidStartTime, bootId: c.record.bootId }); i++) await new Promise((r) => setTimeout(r, 20));
  const listed = JSON.parse((await runCli(['list', '-o', 'json'])).stdout) as Record<string, unknown>[];
  assert.deepEqual(listed.find((r) => r.name === c.name)?.state, 'crashed');
  assert.equal(listed.find((r) => r.name === c.name)?.pid, undefined, 'a dead pid is not shown as the daemon');
  assert.match((await runCli(['status', '--name', c.name])).stdout, /crashed/);
  const d = await runCli(['down', '--name', c.name]);
  assert.match(d.stdout, new RegExp(`cluster "${c.name}" was not running; removed [1-9]\\d* leftover network namespaces`));
  assert.deepEqual((await listNetns()).filter((n) => n.startsWith(`cip-${c.record.id}-`)), []);
});

test('a truncated store is refused by up, with the fix, and left as it is', async (t) => {
  const c = await upCluster(t);
  const d = await c.cli(['down']);
  assert.equal(d.code, 0, d.stderr);
  const db = join(c.stateDir, 'state.db');
  const size = (await stat(db)).size;
  await truncate(db, Math.floor(size / 2));
  const before = await readFile(db);
  const r = await c.cli(['up', '--api-port', '0', '--kubeconfig', join(c.dir, 'kubeconfig'), '--detach'], { timeoutMs: 60_000 });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, new RegExp(`error: the cluster's store ${db} is damaged: the file is \\d+ bytes but its header counts \\d+ pages .*: it was truncated\\. ` +
    `clusterip does not start on a damaged store .*mv ${db} ${db}\\.damaged`));
  assert.deepEqual(await readFile(db), before, 'the store was not recreated or changed');
  assert.equal((await runCli(['status', '--name', c.name])).code, 3, 'nothing is left running');
});

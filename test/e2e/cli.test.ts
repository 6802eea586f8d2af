// The clusterip CLI's errors and its status/down on a stopped cluster, run as a user runs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { symlink } from 'node:fs/promises';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../harness/up.js';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'cip-cli-'));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

test('usage errors name the flag and exit 2', async () => {
  const r = await runCli(['up', '--nodez', '2']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown flag: --nodez/);
  const m = await runCli(['up', '--proxy-mode', 'ipvs', '--name', 'x']);
  assert.match(m.stderr, /--proxy-mode must be nftables or iptables, not "ipvs"/);
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

/**
 * The mount script run for real (root): inside `unshare --mount --propagation private`, as the
 * runtime runs it, so nothing reaches the machine's own mount table or filesystem.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mountScript, planMounts } from './mounts.js';

test('mount script: text for a missing ancestor, an existing target, a new root', () => {
  const planned = [
    { source: '/vol/sa', target: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true, resolved: '/run/secrets/kubernetes.io/serviceaccount', sourceIsDir: true, shadow: { dir: '/run', mode: 0o755, uid: 0, gid: 0 } },
    { source: '/vol/cfg', target: '/etc/nginx/conf.d', readOnly: false, resolved: '/etc/nginx/conf.d', sourceIsDir: true },
  ];
  const s = mountScript(planned, '/state/c/rootfs');
  assert.match(s, /\nshadow '\/run' 0755 0 0\n/);
  assert.match(s, /\nplace '\/vol\/cfg' '\/etc\/nginx\/conf\.d' 1 0\nplace '\/vol\/sa' '\/run\/secrets\/kubernetes\.io\/serviceaccount' 1 1\nexec "\$@"\n$/);
  const r = mountScript([{ source: '/vol/d', target: '/data', readOnly: false, resolved: '/data', sourceIsDir: true, shadow: { dir: '/', mode: 0o755, uid: 0, gid: 0 } }], '/state/c/rootfs', '/data');
  assert.match(r, /\nnewroot '\/state\/c\/rootfs'\nplace '\/vol\/d' '\/state\/c\/rootfs\/data' 1 0\nexec chroot '\/state\/c\/rootfs' /);
});

test('mounts appear in the container\'s own namespace only: missing ancestors shadowed, a new root for /<name>, read-only honoured', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cip-mnt-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const sa = join(dir, 'sa'); mkdirSync(sa); writeFileSync(join(sa, 'token'), 'tok');
  const data = join(dir, 'data'); mkdirSync(data); writeFileSync(join(data, 'x'), 'y');
  const rootfs = join(dir, 'rootfs'); mkdirSync(rootfs);
  const id = randomBytes(3).toString('hex');
  // A directory of /run with something in it: after the shadow it must still show its contents.
  const full = readdirSync('/run', { withFileTypes: true }).find((e) => e.isDirectory() && readdirSync(join('/run', e.name)).length > 0)!.name;
  const saTarget = `/var/run/secrets-cip-${id}/kubernetes.io/serviceaccount`;
  const dataTarget = `/cipdata-${id}`;
  const planned = planMounts([
    { source: sa, target: saTarget, readOnly: true },
    { source: data, target: dataTarget, readOnly: false },
  ]);
  assert.equal(planned[0]!.resolved, `/run/secrets-cip-${id}/kubernetes.io/serviceaccount`);
  assert.deepEqual(planned[0]!.shadow?.dir, '/run');
  assert.deepEqual(planned[1]!.shadow?.dir, '/');
  const script = mountScript(planned, rootfs, '/');
  const check = `cat ${saTarget}/token; echo; cat ${dataTarget}/x; echo; ls /etc/hostname; `
    + `if touch ${saTarget}/new 2>/dev/null; then echo writable; else echo read-only; fi; echo z > ${dataTarget}/w && cat ${dataTarget}/w; `
    + `echo ---; ls -A /run | grep -v secrets-cip-; echo ---; ls -A /usr/bin | wc -l; echo ---; ls -A /run/${full}`;
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', 'sh', '-c', check], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.status, 0, r.stderr);
  const [head, run, usrBin, inner] = r.stdout.split('---\n');
  assert.equal(head, 'tok\ny\n/etc/hostname\nread-only\nz\n');
  // What the shadowed /run and the new root hold is the machine's own (bound back, not emptied).
  assert.deepEqual(run!.trim().split('\n').sort(), readdirSync('/run').sort());
  assert.equal(Number(usrBin!.trim()), readdirSync('/usr/bin').length);
  assert.deepEqual(inner!.trim().split('\n').sort(), readdirSync(join('/run', full)).sort());
  // The machine saw nothing of it.
  assert.equal(existsSync(`/run/secrets-cip-${id}`), false);
  assert.equal(existsSync(dataTarget), false);
});

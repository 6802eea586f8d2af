/**
 * Pulls from a real registry (Debian's docker-registry on loopback) into a real store, and checks
 * the result in the kernel's own terms: an overlay mount of the pulled layers shows what the image
 * says (whiteouts hide, opaque directories hide everything below them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isImageError } from './errors.js';
import { pullImage } from './pull.js';
import { ImageStore } from './store.js';
import { busyboxRootfs, layerTar, writeOciLayout } from './testing/fixtures.js';
import { startRegistry } from './testing/registry.js';

function tempStore(t: { after(fn: () => void): void }): ImageStore {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cip-store-'));
  const store = ImageStore.open(dir);
  t.after(() => { store.close(); fs.rmSync(dir, { recursive: true, force: true }); });
  return store;
}

function tempDir(t: { after(fn: () => void): void }, prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Mounts the layers (bottom → top) read-only with overlayfs and returns what `ls`-like reads find. */
function withOverlay<T>(t: { after(fn: () => void): void }, lowers: string[], fn: (root: string) => T): T {
  const mnt = tempDir(t, 'cip-ovl-');
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${[...lowers].reverse().join(':')}`, mnt]);
  try { return fn(mnt); } finally { execFileSync('umount', [mnt]); }
}

test('pull: a multi-layer image with a whiteout and an opaque dir; unpacked once; the overlay shows the image', async (t) => {
  const reg = await startRegistry(t);
  const layout = tempDir(t, 'cip-layout-');
  const base = await layerTar([...busyboxRootfs(),
    { path: 'etc/motd', type: 'file', content: 'base motd\n' },
    { path: 'opt', type: 'dir' }, { path: 'opt/app', type: 'dir' },
    { path: 'opt/app/old.txt', type: 'file', content: 'old\n' },
    { path: 'opt/app/keep.txt', type: 'file', content: 'replaced below\n' }]);
  const top = await layerTar([
    { path: 'etc', type: 'dir' },
    { path: 'etc/.wh.motd', type: 'file', content: '' },
    { path: 'opt/app', type: 'dir' },
    { path: 'opt/app/.wh..wh..opq', type: 'file', content: '' },
    { path: 'opt/app/new.txt', type: 'file', content: 'new\n', mode: 0o640, uid: 1000, gid: 1000 },
  ]);
  writeOciLayout(layout, 'v1', { layers: [base, top], config: { Cmd: ['sh'] } });
  reg.push(layout, 'v1', 'team/app');

  const store = tempStore(t);
  const r = await pullImage(store, `${reg.host}/team/app:v1`);
  assert.equal(r.fetchedLayers, 2);
  assert.deepEqual(r.image.names.sort(), [`${reg.host}/team/app:v1`, `${reg.host}/team/app@${r.image.digest}`].sort());
  const dirs = store.layerDirs(r.image);
  // The whiteout is overlayfs's: a 0/0 character device; the opaque dir carries the xattr.
  const wh = fs.lstatSync(path.join(dirs[1]!, 'etc', 'motd'));
  assert.ok(wh.isCharacterDevice() && wh.rdev === 0, 'whiteout is a 0/0 character device');
  assert.equal(execFileSync('getfattr', ['--only-values', '-n', 'trusted.overlay.opaque', path.join(dirs[1]!, 'opt', 'app')], { encoding: 'utf8' }), 'y');
  const st = fs.statSync(path.join(dirs[1]!, 'opt', 'app', 'new.txt'));
  assert.deepEqual([st.mode & 0o7777, st.uid, st.gid], [0o640, 1000, 1000], 'mode and owner kept');
  withOverlay(t, dirs, (root) => {
    assert.equal(fs.existsSync(path.join(root, 'etc', 'motd')), false, 'whited out');
    assert.deepEqual(fs.readdirSync(path.join(root, 'opt', 'app')), ['new.txt'], 'opaque: nothing of the lower layer');
    assert.match(execFileSync('chroot', [root, '/bin/busybox', 'echo', 'runs'], { encoding: 'utf8' }), /runs/);
  });

  // A second pull fetches nothing; a second tag of the same content shares every layer.
  assert.equal((await pullImage(store, `${reg.host}/team/app:v1`)).fetchedLayers, 0);
  writeOciLayout(layout, 'v2', { layers: [base, top], config: { Cmd: ['sh', '-c', 'echo v2'] } });
  reg.push(layout, 'v2', 'team/app');
  const v2 = await pullImage(store, `${reg.host}/team/app:v2`);
  assert.equal(v2.fetchedLayers, 0, 'layers are unpacked once, whatever images share them');
  assert.equal(fs.readdirSync(store.layersDir).length, 2);
  // By digest, too.
  assert.equal((await pullImage(store, `${reg.host}/team/app@${r.image.digest}`)).image.digest, r.image.digest);
});

test('pull: an image index resolves to this platform (linux/amd64)', async (t) => {
  const reg = await startRegistry(t);
  const layout = tempDir(t, 'cip-layout-');
  const rootfs = await layerTar(busyboxRootfs());
  const armOnly = await layerTar([{ path: 'arch', type: 'file', content: 'arm64\n' }]);
  const amdOnly = await layerTar([{ path: 'arch', type: 'file', content: 'amd64\n' }]);
  writeOciLayout(layout, 'multi', [{ layers: [rootfs, armOnly], architecture: 'arm64' }, { layers: [rootfs, amdOnly], architecture: 'amd64' }]);
  reg.push(layout, 'multi', 'multi', { all: true });
  const store = tempStore(t);
  const r = await pullImage(store, `${reg.host}/multi:multi`);
  assert.equal(r.image.config.architecture, 'amd64');
  assert.notEqual(r.image.manifestDigest, r.image.digest, 'the name resolves to the index; the manifest is the amd64 one');
  withOverlay(t, store.layerDirs(r.image), (root) => assert.equal(fs.readFileSync(path.join(root, 'arch'), 'utf8'), 'amd64\n'));
});

test('pull: a missing tag, a corrupt layer and auth failures are errors with the reason; nothing half-unpacked is left', async (t) => {
  const reg = await startRegistry(t);
  const layout = tempDir(t, 'cip-layout-');
  const store = tempStore(t);
  await assert.rejects(pullImage(store, `${reg.host}/nothing:here`), (e: Error) => isImageError(e, 'NOT_FOUND')
    && e.message === `failed to pull and unpack image "${reg.host}/nothing:here": failed to resolve reference "${reg.host}/nothing:here": ${reg.host}/nothing:here: not found`);

  const good = await layerTar(busyboxRootfs());
  const bad = await layerTar([{ path: 'big.bin', type: 'file', content: Buffer.alloc(300_000, 7) }]);
  writeOciLayout(layout, 'v1', { layers: [good, bad] });
  reg.push(layout, 'v1', 'corrupt');
  const manifest = JSON.parse(fs.readFileSync(path.join(layout, 'index.json'), 'utf8')).manifests[0].digest as string;
  const layerDigest = JSON.parse(fs.readFileSync(path.join(layout, 'blobs', 'sha256', manifest.slice(7)), 'utf8')).layers[1].digest as string;
  // Flip bytes in the middle of the stored blob: same size, the registry serves it as it is.
  const file = reg.blobPath(layerDigest);
  const blob = fs.readFileSync(file);
  for (let i = 100; i < 200; i++) blob[i] = blob[i]! ^ 0xff;
  fs.writeFileSync(file, blob);
  await assert.rejects(pullImage(store, `${reg.host}/corrupt:v1`), (e: Error) => isImageError(e, 'DIGEST_MISMATCH')
    && e.message.includes(`layer 2/2 ${layerDigest}`) && e.message.includes(`expected ${layerDigest}`));
  assert.deepEqual(fs.readdirSync(store.tmpDir), [], 'no work dir left');
  assert.equal(store.resolve(`${reg.host}/corrupt:v1`), undefined);
  // The good layer is complete and verified, so it stays (as containerd keeps finished content);
  // the corrupt one is nowhere.
  assert.equal(fs.readdirSync(store.layersDir).length, 1);

  const sec = await startRegistry(t, { auth: { user: 'puller', password: 's3cret' } });
  const l2 = tempDir(t, 'cip-layout-');
  writeOciLayout(l2, 'v1', { layers: [good] });
  sec.push(l2, 'v1', 'private/app');
  const ref = `${sec.host}/private/app:v1`;
  await assert.rejects(pullImage(store, ref), (e: Error) => isImageError(e, 'UNAUTHORIZED') && /unauthorized: authentication required/.test(e.message) && /no credentials/.test(e.message));
  const cfg = (user: string, pass: string) => ({ auths: { [sec.host]: { auth: Buffer.from(`${user}:${pass}`).toString('base64') } } });
  await assert.rejects(pullImage(store, ref, { dockerConfigs: [cfg('puller', 'wrong')] }), (e: Error) => isImageError(e, 'UNAUTHORIZED') && /authentication required/.test(e.message));
  const ok = await pullImage(store, ref, { dockerConfigs: [cfg('nobody', 'x'), { auths: { [`${sec.host}/private`]: { username: 'puller', password: 's3cret' } } }] });
  assert.equal(ok.fetchedLayers, 0, 'the busybox layer was already in the store');
  assert.equal(spawnSync('true').status, 0);
});

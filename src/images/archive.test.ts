import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tar from 'tar';
import { loadArchive } from './archive.js';
import { isImageError } from './errors.js';
import { ImageStore } from './store.js';
import { busyboxRootfs, layerTar, writeDockerArchive, writeOciLayout } from './testing/fixtures.js';

function temp(t: { after(fn: () => void): void }, prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.after(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

test('image load: a docker save archive and an OCI layout (dir and tar) load as pulled images; rm and the GC of layers', async (t) => {
  const store = ImageStore.open(temp(t, 'cip-store-'));
  t.after(() => store.close());
  const work = temp(t, 'cip-archive-');
  const base = await layerTar(busyboxRootfs());
  const app = await layerTar([{ path: 'app.txt', type: 'file', content: 'app\n' }]);

  const saved = path.join(work, 'saved.tar');
  await writeDockerArchive(saved, 'example.com/team/app:1.0', { layers: [base, app], config: { Cmd: ['cat', '/app.txt'] } });
  const [a] = await loadArchive(store, saved);
  assert.deepEqual(a!.names, ['example.com/team/app:1.0']);
  assert.deepEqual(a!.config.config?.Cmd, ['cat', '/app.txt']);
  assert.equal(fs.readFileSync(path.join(store.layerDirs(a!)[1]!, 'app.txt'), 'utf8'), 'app\n');
  // Loading again gives the same digest (the synthesized manifest is deterministic).
  assert.equal((await loadArchive(store, saved))[0]!.digest, a!.digest);

  const layout = path.join(work, 'layout');
  writeOciLayout(layout, 'v2', { layers: [base], config: { Entrypoint: ['sh'] } });
  await assert.rejects(loadArchive(store, layout), /give it a repository with --repo/);
  const [b] = await loadArchive(store, layout, { name: 'localhost/tools' });
  assert.ok(b!.names.includes('localhost/tools:v2'));
  assert.equal(fs.readdirSync(store.layersDir).length, 2, 'the busybox layer is shared');
  const ociTar = path.join(work, 'layout.tar');
  await tar.c({ file: ociTar, cwd: layout }, fs.readdirSync(layout));
  assert.equal((await loadArchive(store, ociTar, { name: 'localhost/tools' }))[0]!.digest, b!.digest);

  await assert.rejects(loadArchive(store, path.join(work, 'nothing')), /no such file/);
  fs.writeFileSync(path.join(work, 'junk'), 'not a tar');
  await assert.rejects(loadArchive(store, path.join(work, 'junk')), (e: Error) => isImageError(e, 'INVALID'));

  // rm: the app image goes, and with it its own layer; busybox's stays for localhost/tools.
  const r = store.remove('example.com/team/app:1.0');
  assert.deepEqual(r, { names: ['example.com/team/app:1.0'], images: [a!.digest], layers: 1 });
  assert.equal(fs.readdirSync(store.layersDir).length, 1);
  assert.throws(() => store.remove('example.com/team/app:1.0'), /not in the store/);
  assert.deepEqual(fs.readdirSync(store.tmpDir), []);
});

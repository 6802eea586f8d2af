import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadArchive } from './archive.js';
import { ImageStore } from './store.js';
import { layerTar, writeDockerArchive } from './testing/fixtures.js';

test('image GC: above the high threshold the least recently used unused images go, with their layers; an image in use (mounted) stays', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cip-store-'));
  const store = ImageStore.open(dir);
  const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'cip-mnt-'));
  let mounted = false;
  t.after(() => { if (mounted) execFileSync('umount', [mnt]); store.close(); fs.rmSync(dir, { recursive: true, force: true }); fs.rmSync(mnt, { recursive: true, force: true }); });
  const names = ['old', 'middle', 'used', 'recent'];
  for (const n of names) {
    const archive = path.join(dir, `${n}.tar`);
    await writeDockerArchive(archive, `example.com/${n}:1`, { layers: [await layerTar([{ path: `${n}.txt`, type: 'file', content: Buffer.alloc(4096, n) }])] });
    await loadArchive(store, archive);
    fs.rmSync(archive);
    await new Promise((r) => setTimeout(r, 5)); // distinct last-used times, oldest first
  }
  const used = store.resolve('example.com/used:1')!;
  // A read-only overlay needs two lower dirs: an empty one below the image's layer.
  const empty = path.join(mnt, '..', `${path.basename(mnt)}-empty`);
  fs.mkdirSync(empty);
  t.after(() => fs.rmSync(empty, { recursive: true, force: true }));
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${[...store.layerDirs(used).reverse(), empty].join(':')}`, mnt]);
  mounted = true;
  assert.equal(store.inUse(used), true);
  const policy = { highThresholdPercent: 85, lowThresholdPercent: 80, minAgeMs: 0 };
  // 84 % used: nothing to do.
  assert.deepEqual(store.gc(policy, { fsStats: { capacity: 1_000_000, available: 160_000 } }).removed, []);
  // 90 % used: 100 000 bytes to free; each image frees ~5 kB, so every unused one goes, oldest first.
  const r = store.gc(policy, { fsStats: { capacity: 1_000_000, available: 100_000 } });
  const digest = (n: string) => store.list().find((i) => i.names.includes(`example.com/${n}:1`))?.digest;
  assert.equal(r.usagePercent, 90);
  assert.equal(r.removed.length, 3);
  assert.deepEqual(store.list().map((i) => i.names[0]), ['example.com/used:1'], 'only the mounted image is left');
  assert.equal(fs.readdirSync(store.layersDir).length, 1, 'their layers are gone too');
  assert.ok(digest('used'));
});

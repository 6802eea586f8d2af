import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { referencedObjects, subPathSource } from './podvolumes.js';

test('referencedObjects: volumes, projected sources, env and envFrom of every kind of container, ephemeral ones included', () => {
  const pod: Pod = {
    metadata: { name: 'p', namespace: 'ns' },
    spec: {
      volumes: [
        { name: 'a', configMap: { name: 'cm-vol' } },
        { name: 'b', secret: { secretName: 's-vol' } },
        { name: 'c', projected: { sources: [{ configMap: { name: 'cm-proj' } }, { secret: { name: 's-proj' } }, { serviceAccountToken: { path: 't' } }] } },
      ],
      initContainers: [{ name: 'i', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cm-init', key: 'k' } } }] }],
      containers: [{ name: 'c', envFrom: [{ secretRef: { name: 's-from' } }] }],
      // A debug container added later (kubectl debug) reading a Secret the others do not.
      ephemeralContainers: [{ name: 'dbg', env: [{ name: 'Y', valueFrom: { secretKeyRef: { name: 's-debug', key: 'k' } } }], envFrom: [{ configMapRef: { name: 'cm-debug' } }] }],
    },
  };
  const r = referencedObjects(pod);
  assert.deepEqual([...r.configMaps].sort(), ['ns/cm-debug', 'ns/cm-init', 'ns/cm-proj', 'ns/cm-vol']);
  assert.deepEqual([...r.secrets].sort(), ['ns/s-debug', 'ns/s-from', 'ns/s-proj', 'ns/s-vol']);
});

test('subPath: symlinks inside the volume are followed (a ConfigMap key), ones leading out are refused, missing ones made only in writable volumes', (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cip-subpath-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const vol = path.join(root, 'vol');
  fs.mkdirSync(path.join(vol, '..2026_01_01_00_00_00.1'), { recursive: true });
  fs.writeFileSync(path.join(vol, '..2026_01_01_00_00_00.1', 'app.conf'), 'x');
  fs.symlinkSync('..2026_01_01_00_00_00.1', path.join(vol, '..data'));
  fs.symlinkSync('..data/app.conf', path.join(vol, 'app.conf'));
  const real = fs.realpathSync(vol);
  assert.equal(subPathSource(vol, 'app.conf', false), path.join(real, '..2026_01_01_00_00_00.1', 'app.conf'), 'the file the key points to now');
  // What a container could plant in an emptyDir.
  fs.symlinkSync('/etc', path.join(vol, 'escape'));
  fs.symlinkSync('../../', path.join(vol, 'up'));
  fs.symlinkSync('/nonexistent-cip-target/x', path.join(vol, 'dangling'));
  assert.equal(subPathSource(vol, 'escape', true), 'outside');
  assert.equal(subPathSource(vol, 'escape/new-dir', true), 'outside', 'not made on the machine');
  assert.equal(fs.existsSync('/etc/new-dir'), false);
  assert.equal(subPathSource(vol, 'up', true), 'outside');
  assert.equal(subPathSource(vol, 'dangling', true), 'outside');
  assert.equal(fs.existsSync('/nonexistent-cip-target'), false);
  // Missing: made in a writable volume, skipped in another.
  assert.equal(subPathSource(vol, 'data/logs', false), undefined);
  assert.equal(fs.existsSync(path.join(vol, 'data')), false);
  assert.equal(subPathSource(vol, 'data/logs', true), path.join(real, 'data', 'logs'));
  assert.ok(fs.statSync(path.join(vol, 'data', 'logs')).isDirectory());
});

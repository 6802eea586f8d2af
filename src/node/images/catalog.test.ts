import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ImageCatalog, containerArgv, parseImageRef } from './catalog.js';

function tmp(t: { after(fn: () => void): void }): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'img-'));
  t.after(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

test('image references normalize like Docker', () => {
  assert.deepEqual(parseImageRef('docker.io/library/nginx:1.25'), { repo: 'nginx', tag: '1.25' });
  assert.deepEqual(parseImageRef('registry.k8s.io/e2e-test-images/agnhost:2.52'), { repo: 'registry.k8s.io/e2e-test-images/agnhost', tag: '2.52' });
  assert.deepEqual(parseImageRef('busybox'), { repo: 'busybox', tag: 'latest' });
});

test('command/args follow Kubernetes ENTRYPOINT/CMD semantics', (t) => {
  const cat = new ImageCatalog(tmp(t));
  const curl = cat.resolve('curlimages/curl:8.5.0');
  assert.deepEqual(containerArgv(curl, undefined, ['-s', 'x']).slice(-2), ['-s', 'x']);
  assert.deepEqual(containerArgv(curl, ['curl'], undefined), ['curl']);
  const bb = cat.resolve('busybox:1.36');
  assert.deepEqual(containerArgv(bb), ['sh']);
  assert.ok(bb.env.PATH!.split(':')[0]!.endsWith('busybox/bin'));
});

test('nginx prepare writes a config serving the welcome page on port 80', (t) => {
  const dir = tmp(t);
  const img = new ImageCatalog(dir).resolve('nginx:1.27');
  const argv = img.prepare!(dir, containerArgv(img));
  assert.equal(argv[0], '/usr/sbin/nginx');
  const conf = fs.readFileSync(argv[argv.indexOf('-c') + 1]!, 'utf8');
  assert.match(conf, /listen 80;/);
});

test('user entries from images.json; unknown images say how to add them', (t) => {
  const dir = tmp(t);
  const cat = new ImageCatalog(dir);
  assert.throws(() => cat.resolve('hotel-app:1.0.0'), (e: Error & { code?: string }) =>
    e.code === 'IMAGE_NOT_FOUND' && e.message.includes(path.join(dir, 'images.json')));
  fs.writeFileSync(path.join(dir, 'images.json'), JSON.stringify({ 'hotel-app:1.0.0': { command: ['busybox', 'httpd', '-f', '-p', '8080'] } }));
  assert.deepEqual(containerArgv(cat.resolve('hotel-app:1.0.0')), ['busybox', 'httpd', '-f', '-p', '8080']);
});

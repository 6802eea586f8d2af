import { test } from 'node:test';
import assert from 'node:assert/strict';
import { familiarName, formatReference, isLoopbackRegistry, parseReference, registryHost } from './reference.js';

const D = `sha256:${'a'.repeat(64)}`;

test('references normalize as Docker does (ParseNormalizedNamed)', () => {
  const rows: [string, string, string][] = [
    ['nginx', 'docker.io/library/nginx:latest', 'nginx:latest'],
    ['nginx:1.27', 'docker.io/library/nginx:1.27', 'nginx:1.27'],
    ['library/nginx', 'docker.io/library/nginx:latest', 'nginx:latest'],
    ['docker.io/nginx', 'docker.io/library/nginx:latest', 'nginx:latest'],
    ['index.docker.io/library/nginx:1', 'docker.io/library/nginx:1', 'nginx:1'],
    ['curlimages/curl', 'docker.io/curlimages/curl:latest', 'curlimages/curl:latest'],
    ['registry.k8s.io/pause:3.10', 'registry.k8s.io/pause:3.10', 'registry.k8s.io/pause:3.10'],
    ['localhost/app', 'localhost/app:latest', 'localhost/app:latest'],
    ['127.0.0.1:5000/team/app:v1', '127.0.0.1:5000/team/app:v1', '127.0.0.1:5000/team/app:v1'],
    [`busybox@${D}`, `docker.io/library/busybox@${D}`, `busybox@${D}`],
    [`busybox:1.36@${D}`, `docker.io/library/busybox:1.36@${D}`, `busybox:1.36@${D}`],
    ['my-user/my_app.x:tag-1.0', 'docker.io/my-user/my_app.x:tag-1.0', 'my-user/my_app.x:tag-1.0'],
  ];
  for (const [input, full, familiar] of rows) {
    const r = parseReference(input);
    assert.equal(formatReference(r), full, input);
    assert.equal(familiarName(r), familiar, input);
  }
});

test('invalid references are refused with the reason', () => {
  const rows: [string, RegExp][] = [
    ['', /at least one component/],
    ['Nginx', /must be lowercase/],
    ['nginx:', /invalid tag ""/],
    ['nginx:a b', /invalid tag/],
    ['nginx@sha256:xyz', /invalid digest/],
    [`nginx@md5:${'a'.repeat(32)}`, /only sha256/],
    ['a//b', /invalid repository name/],
    ['-a/b', /invalid repository name/],
  ];
  for (const [input, want] of rows) assert.throws(() => parseReference(input), want, input);
});

test('loopback registries and the Hub API host', () => {
  assert.equal(isLoopbackRegistry('127.0.0.1:5000'), true);
  assert.equal(isLoopbackRegistry('127.3.2.1'), true);
  assert.equal(isLoopbackRegistry('localhost:80'), true);
  assert.equal(isLoopbackRegistry('[::1]:5000'), true);
  assert.equal(isLoopbackRegistry('10.0.0.1:5000'), false);
  assert.equal(isLoopbackRegistry('docker.io'), false);
  assert.equal(registryHost('docker.io'), 'registry-1.docker.io');
  assert.equal(registryHost('127.0.0.1:5000'), '127.0.0.1:5000');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigMap, Pod, Secret } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/object.js';
import type { Client } from '../../client/client.js';
import { formatMap, volumePayload, VolumeSetupError, type PayloadSources } from './payload.js';
import { requiresRefresh, TokenManager } from './tokenmanager.js';

const pod: Pod = {
  metadata: { name: 'web-1', namespace: 'shop', uid: 'u-1', labels: { tier: 'front', app: 'web' }, annotations: { note: 'say "hi"' } },
  spec: { serviceAccountName: 'app', containers: [{ name: 'web', resources: { limits: { memory: '64Mi' }, requests: { cpu: '100m' } } }] },
};
const cms: Record<string, ConfigMap> = { site: { data: { 'index.html': '<h1>hi</h1>', 'app.ini': 'a=1' }, binaryData: { logo: Buffer.from([1, 2]).toString('base64') } } };
const secrets: Record<string, Secret> = { tls: { data: { 'tls.crt': Buffer.from('CERT').toString('base64'), 'tls.key': Buffer.from('KEY').toString('base64') } } };
const src: PayloadSources = {
  configMap: (_n, name) => cms[name], secret: (_n, name) => secrets[name], token: async (_p, aud, exp) => `token(${aud ?? 'api'},${exp})`,
  allocatable: { cpu: '2', memory: '4Gi' },
};
const text = (m: Map<string, { data: Buffer; mode: number }>): Record<string, [string, string]> =>
  Object.fromEntries([...m].map(([k, v]) => [k, [v.data.toString('utf8'), v.mode.toString(8)]]));

test('configMap and secret volumes: every key, or the items asked for with their modes', async () => {
  assert.deepEqual(text(await volumePayload(pod, { name: 'v', configMap: { name: 'site', defaultMode: 0o644 } }, src)),
    { 'index.html': ['<h1>hi</h1>', '644'], 'app.ini': ['a=1', '644'], logo: ['\u0001\u0002', '644'] });
  assert.deepEqual(text(await volumePayload(pod, { name: 'v', configMap: { name: 'site', items: [{ key: 'app.ini', path: 'conf/app.ini', mode: 0o400 }] } }, src)),
    { 'conf/app.ini': ['a=1', '400'] });
  assert.deepEqual(text(await volumePayload(pod, { name: 'v', secret: { secretName: 'tls', defaultMode: 0o600 } }, src)),
    { 'tls.crt': ['CERT', '600'], 'tls.key': ['KEY', '600'] });
  await assert.rejects(volumePayload(pod, { name: 'v', configMap: { name: 'none' } }, src), new VolumeSetupError('configmap "none" not found'));
  await assert.rejects(volumePayload(pod, { name: 'v', configMap: { name: 'site', items: [{ key: 'nope', path: 'x' }] } }, src), { message: 'configmap references non-existent config key: nope' });
  await assert.rejects(volumePayload(pod, { name: 'v', secret: { secretName: 'tls', items: [{ key: 'ca', path: 'x' }] } }, src), { message: 'references non-existent secret key: ca' });
  await assert.rejects(volumePayload(pod, { name: 'v', secret: { secretName: 'none' } }, src), { message: 'secret "none" not found' });
  assert.equal((await volumePayload(pod, { name: 'v', secret: { secretName: 'none', optional: true } }, src)).size, 0);
});

test('downwardAPI and the projected API-access volume', async () => {
  assert.equal(formatMap({ b: '2', a: 'x"y' }), 'a="x\\"y"\nb="2"');
  const dw = await volumePayload(pod, { name: 'v', downwardAPI: { defaultMode: 0o644, items: [
    { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
    { path: 'note', fieldRef: { fieldPath: "metadata.annotations['note']" } },
    { path: 'mem', resourceFieldRef: { containerName: 'web', resource: 'limits.memory', divisor: '1Mi' } },
    { path: 'cpu', resourceFieldRef: { containerName: 'web', resource: 'limits.cpu', divisor: '1m' } },
  ] } }, src);
  assert.deepEqual(text(dw), { labels: ['app="web"\ntier="front"', '644'], note: ['say "hi"', '644'], mem: ['64', '644'], cpu: ['2000', '644'] });
  const projected = await volumePayload(pod, { name: 'kube-api-access-x', projected: { defaultMode: 0o644, sources: [
    { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
    { configMap: { name: 'site', items: [{ key: 'app.ini', path: 'ca.crt' }] } },
    { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
  ] } }, src);
  assert.deepEqual(text(projected), { token: ['token(api,3607)', '644'], 'ca.crt': ['a=1', '644'], namespace: ['shop', '644'] });
  await assert.rejects(volumePayload(pod, { name: 'v', projected: { sources: [{ configMap: { name: 'x' } }, { secret: { name: 'y' } }] } }, src),
    { message: '[configmap "x" not found, secret "y" not found]' });
});

test('token manager: bound TokenRequests, cached, refreshed past 80% of their life, old token kept on failure', async () => {
  assert.equal(requiresRefresh(0, 3600_000, 3600_000), false);
  assert.equal(requiresRefresh(2879_000, 3600_000, 3600_000), false);
  assert.equal(requiresRefresh(2881_000, 3600_000, 3600_000), true);
  let now = 0; let n = 0; let fail = false;
  const asked: unknown[] = [];
  const client = {
    async create(_res: unknown, ns: string, obj: KubeObject, opts: { subresource?: string; name?: string }) {
      if (fail) throw new Error('api down');
      asked.push([ns, opts.name, opts.subresource, (obj as unknown as { spec: unknown }).spec]);
      n++;
      return { spec: { expirationSeconds: 600 }, status: { token: `t${n}`, expirationTimestamp: new Date(now + 600_000).toISOString() } };
    },
  } as unknown as Client;
  const tm = new TokenManager(client, () => now);
  assert.equal(await tm.token(pod, undefined, 600), 't1');
  assert.deepEqual(asked[0], ['shop', 'app', 'token', { expirationSeconds: 600, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'web-1', uid: 'u-1' } }]);
  assert.equal(tm.nextRefresh('u-1'), 480_000);
  now = 470_000;
  assert.equal(await tm.token(pod, undefined, 600), 't1');
  now = 481_000;
  assert.equal(await tm.token(pod, undefined, 600), 't2');
  now = 481_000 + 481_000; fail = true;
  assert.equal(await tm.token(pod, undefined, 600), 't2', 'still valid: kept');
  now += 200_000;
  await assert.rejects(tm.token(pod, undefined, 600), /api down/);
  tm.forget('u-1');
  assert.equal(tm.nextRefresh('u-1'), undefined);
});

/**
 * A joined node's stream server behind the API server over real HTTPS: pods/log and pods/exec of a
 * Pod on a node the API server does not run are passed on to the node (the exec session runs end
 * to end over the WebSocket); the node admits only system:masters (the API server), not another
 * node's certificate, and serves nothing but the Pod stream paths.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { request } from 'node:https';
import WebSocket from 'ws';
import type { ExecSession, PodStreamProvider } from '../api/streams.js';
import { R } from '../api/resources.js';
import { createApiCore } from '../apiserver/core.js';
import { startApiServer } from '../apiserver/http/server.js';
import { ensurePki } from '../apiserver/pki/pki.js';
import { newLeaf } from '../certs/x509.js';
import { MemoryStorage } from '../storage/memory.js';
import { startNodeStreamServer } from './nodestreams.js';

function get(url: string, tls: { ca: string; cert: string; key: string }): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { ...tls, rejectUnauthorized: tls.ca !== '' }, (res) => {
      let body = ''; res.on('data', (d) => { body += d; }); res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
    }).on('error', reject).end();
  });
}

test('logs and exec of a remote node\'s Pod are passed on to its stream server, which admits only the API server', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cip-ns-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const core = await createApiCore({ storage: new MemoryStorage() });
  t.after(() => core.close());
  const pki = await ensurePki(dir);
  const execs: string[][] = [];
  const provider: PodStreamProvider = {
    logs: async (ns, pod) => Readable.from([`log of ${ns}/${pod}\n`]),
    exec: async (_ns, _pod, o): Promise<ExecSession> => {
      execs.push(o.command ?? []);
      const stdout = new PassThrough();
      stdout.end(`ran ${o.command?.join(' ')}\n`);
      return { stdout, result: new Promise((r) => stdout.on('end', () => r({ exitCode: 3 }))), close: () => undefined };
    },
    attach: async () => { throw new Error('no attach'); },
    portForward: async () => { throw new Error('no port-forward'); },
  };
  const node = await startNodeStreamServer({ nodeName: 'far', agent: provider, client: core.client, caCert: pki.caCert, host: '127.0.0.1', port: 0, pkiDir: dir });
  t.after(() => node.close());
  const central = await startApiServer({
    client: core.client, pki, listen: { port: 0 }, log: () => undefined,
    remoteStreams: async (_ns, _pod, nodeName) => (nodeName === 'far' ? { url: node.nodeApiURL, cert: pki.adminCert, key: pki.adminKey } : undefined),
  });
  t.after(() => central.close());
  await core.client.create(R.pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { nodeName: 'far', containers: [{ name: 'c', image: 'x' }] } });
  const admin = { ca: pki.caCert, cert: pki.adminCert, key: pki.adminKey };

  const logs = await get(`${central.url}/api/v1/namespaces/default/pods/p/log`, admin);
  assert.deepEqual(logs, { code: 200, body: 'log of default/p\n' });

  const out = await new Promise<{ stdout: string; status: string }>((resolve, reject) => {
    const ws = new WebSocket(`${central.url.replace('https', 'wss')}/api/v1/namespaces/default/pods/p/exec?command=echo&command=hi&stdout=true`, ['v5.channel.k8s.io'], admin);
    let stdout = ''; let status = '';
    ws.on('message', (d: Buffer) => { if (d[0] === 1) stdout += d.subarray(1).toString(); if (d[0] === 3) status += d.subarray(1).toString(); });
    ws.on('close', () => resolve({ stdout, status }));
    ws.on('error', reject);
  });
  assert.equal(out.stdout, 'ran echo hi\n');
  assert.match(out.status, /"reason":"NonZeroExitCode"/);
  assert.deepEqual(execs, [['echo', 'hi']]);

  // Straight to the node: another node's certificate (system:nodes) is refused; other paths are not served.
  const other = await newLeaf({ cert: pki.caCert, key: pki.caKey }, { subject: { CN: 'system:node:evil', O: ['system:nodes'] }, usages: ['clientAuth'] });
  const asNode = await get(`${node.nodeApiURL}/api/v1/namespaces/default/pods/p/log`, { ca: '', cert: other.cert, key: other.key });
  assert.equal(asNode.code, 403);
  assert.match(asNode.body, /only the cluster's API servers may/);
  const noCert = await get(`${node.nodeApiURL}/api/v1/namespaces/default/pods/p/log`, { ca: '', cert: '', key: '' }).catch(() => ({ code: 0, body: '' }));
  assert.equal(noCert.code, 401);
  const elsewhere = await get(`${node.nodeApiURL}/api/v1/namespaces/default/pods`, { ca: '', ...{ cert: pki.adminCert, key: pki.adminKey } });
  assert.equal(elsewhere.code, 404);
});

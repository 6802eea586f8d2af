/**
 * Property test at the wire: random methods, paths, content types and bodies (malformed JSON/YAML,
 * random JSON values, random protobuf-looking bytes) over real HTTPS against the real core. Every
 * answer that is not a success must be a Kubernetes Status whose `code` equals the HTTP status, and
 * the server must keep serving.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:https';
import fc from 'fast-check';
import { MemoryStorage } from '../../storage/memory.js';
import { createApiCore } from '../core.js';
import { ensurePki } from '../pki/pki.js';
import { startApiServer } from './server.js';
import { PROTOBUF_MAGIC } from './protobuf/decode.js';

test('random requests always get a Status or a success, and the server stays up', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cip-fuzz-'));
  const storage = new MemoryStorage();
  const core = await createApiCore({ storage });
  const pki = await ensurePki(dir);
  const srv = await startApiServer({ client: core.client, pki, listen: { port: 0 }, log: () => {} });
  const agent = new Agent({ keepAlive: true, ca: pki.caCert, maxSockets: 4 });
  t.after(async () => { agent.destroy(); await srv.close(); await core.close(); await storage.close(); await rm(dir, { recursive: true, force: true }); });

  const send = (method: string, path: string, contentType: string, body: Buffer): Promise<{ code: number; type: string; text: string }> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: srv.port, method, path, agent, headers: { Authorization: `Bearer ${pki.adminToken}`, 'Content-Type': contentType, 'Content-Length': body.length } }, (res) => {
        let text = ''; res.setEncoding('utf8');
        res.on('data', (c) => text += c);
        res.on('end', () => resolve({ code: res.statusCode!, type: String(res.headers['content-type']), text }));
      });
      req.on('error', reject);
      req.end(body);
    });

  const paths = fc.constantFrom(
    '/api/v1/namespaces/default/services', '/api/v1/namespaces/default/services/web', '/api/v1/namespaces/default/pods/p',
    '/apis/apps/v1/namespaces/default/deployments/d/scale', '/api/v1/namespaces/nope/configmaps', '/api/v1/namespaces/x',
    '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', '/api/v1/nodes/n', '/apis/apps/v1/deployments', '/api/v1/namespaces/default/pods/p/binding',
    '/api/v1/%zz', '/apis/', '/api/v1/namespaces/default/services/web/status?dryRun=All', '/api/v1/namespaces/default/services?limit=-1');
  const contentTypes = fc.constantFrom('application/json', 'application/yaml', 'application/merge-patch+json', 'application/json-patch+json',
    'application/strategic-merge-patch+json', 'application/apply-patch+yaml', 'application/vnd.kubernetes.protobuf', 'text/plain', '');
  const bodies = fc.oneof(
    fc.json().map((s) => Buffer.from(s)),
    fc.string().map((s) => Buffer.from(s)),
    fc.jsonValue().map((v) => Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: v }))),
    fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.concat([PROTOBUF_MAGIC, b])),
    fc.constant(Buffer.from('{"metadata": {"name": "web"')),
  );
  await fc.assert(fc.asyncProperty(fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE'), paths, contentTypes, bodies, async (m, p, ct, b) => {
    const r = await send(m, p, ct, b);
    if (r.code >= 200 && r.code < 300) return;
    assert.equal(r.type, 'application/json', `${m} ${p} ${ct}: ${r.text}`);
    const st = JSON.parse(r.text);
    assert.equal(st.kind, 'Status');
    assert.equal(st.status, 'Failure');
    assert.equal(st.code, r.code);
    assert.ok(r.code < 500, `${m} ${p} ${ct} gave ${r.code}: ${r.text}`);
  }), { numRuns: 300 });
  const v = await send('GET', '/version', 'application/json', Buffer.alloc(0));
  assert.equal(v.code, 200);
});

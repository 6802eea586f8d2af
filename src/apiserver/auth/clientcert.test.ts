/**
 * Client certificates over real HTTPS against the API core's RBAC: the identity read from a
 * connection's certificate is that connection's (the authenticator reads it once per connection),
 * authorization is still asked on every request, and the server refuses TLS renegotiation (which
 * could otherwise present another certificate on a connection already authenticated).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:https';
import { connect, type TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { R } from '../../api/resources.js';
import { MemoryStorage } from '../../storage/memory.js';
import { newLeaf } from '../../certs/x509.js';
import { createApiCore } from '../core.js';
import { ensurePki } from '../pki/pki.js';
import { startApiServer } from '../http/server.js';

async function cluster(t: { after(fn: () => unknown): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'cip-clientcert-'));
  const storage = new MemoryStorage();
  const core = await createApiCore({ storage });
  const pki = await ensurePki(dir);
  const server = await startApiServer({ client: core.client, pki, auth: core.auth, listen: { port: 0 }, log: () => {} });
  t.after(async () => { await server.close(); await core.close(); storage.close(); await rm(dir, { recursive: true, force: true }); });
  const alice = await newLeaf({ cert: pki.caCert, key: pki.caKey }, { subject: { CN: 'alice', O: ['devs'] }, usages: ['clientAuth'] });
  return { core, pki, server, alice };
}

/** One keep-alive connection per agent (maxSockets 1), so every request of an agent reuses it. */
function agentFor(ca: string, pair: { cert: string; key: string }): Agent {
  return new Agent({ keepAlive: true, maxSockets: 1, ca, cert: pair.cert, key: pair.key });
}

function call(port: number, agent: Agent, method: string, path: string, body?: unknown): Promise<{ code: number; json: Record<string, unknown>; socket: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers: { 'Content-Type': 'application/json' } }, (res: IncomingMessage) => {
      let b = '';
      res.on('data', (c) => b += c);
      res.on('end', () => resolve({ code: res.statusCode!, json: JSON.parse(b) as Record<string, unknown>, socket: res.socket }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

test('each connection is its own certificate\'s user, and RBAC is asked on every request of a kept-alive connection', async (t) => {
  const { core, pki, server, alice } = await cluster(t);
  const asAlice = agentFor(pki.caCert, alice);
  const asAdmin = agentFor(pki.caCert, { cert: pki.adminCert, key: pki.adminKey });
  t.after(() => { asAlice.destroy(); asAdmin.destroy(); });
  const secrets = '/api/v1/namespaces/default/secrets';
  const sockets = new Set<unknown>();
  for (let i = 0; i < 3; i++) {
    const denied = await call(server.port, asAlice, 'GET', secrets);
    assert.equal(denied.code, 403);
    assert.match(String(denied.json.message), /^secrets is forbidden: User "alice" cannot list resource "secrets" in API group "" in the namespace "default"/);
    sockets.add(denied.socket);
    assert.equal((await call(server.port, asAdmin, 'GET', secrets)).code, 200);
  }
  assert.equal(sockets.size, 1, 'alice\'s requests shared one connection');
  const who = await call(server.port, asAlice, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
  assert.deepEqual((who.json.status as { userInfo: unknown }).userInfo, { username: 'alice', groups: ['devs', 'system:authenticated'] });

  // A binding made while the connection is open counts from the next request on it, and so does its removal.
  await core.client.create(R.roles, 'default', {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'secret-reader' },
    rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] }],
  } as never);
  await core.client.create(R.rolebindings, 'default', {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'devs-view' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'secret-reader' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'devs' }],
  } as never);
  const allowed = await call(server.port, asAlice, 'GET', secrets);
  assert.equal(allowed.code, 200);
  assert.ok(sockets.has(allowed.socket), 'same connection');
  await core.client.delete(R.rolebindings, 'default', 'devs-view');
  assert.equal((await call(server.port, asAlice, 'GET', secrets)).code, 403);
});

test('the server refuses TLS renegotiation (a connection cannot change its client certificate)', async (t) => {
  const { pki, server, alice } = await cluster(t);
  // Renegotiation exists only up to TLS 1.2.
  const socket: TLSSocket = await new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: server.port, ca: pki.caCert, cert: alice.cert, key: alice.key, maxVersion: 'TLSv1.2', servername: 'localhost' }, () => resolve(s));
    s.on('error', reject);
  });
  t.after(() => socket.destroy());
  const outcome = await new Promise<string>((resolve) => {
    socket.on('error', (e) => resolve(`error: ${e.message}`));
    socket.on('close', () => resolve('closed'));
    const started = socket.renegotiate({ rejectUnauthorized: true }, (err) => resolve(err ? `error: ${err.message}` : 'renegotiated'));
    if (!started) resolve('not started');
    // The server only notices the renegotiation when data flows.
    socket.write('GET /version HTTP/1.1\r\nHost: x\r\n\r\n');
  });
  assert.notEqual(outcome, 'renegotiated');
});

test('a client certificate that expires while its connection is kept alive stops authenticating on that connection (401), as on a new one', async (t) => {
  const { pki, server } = await cluster(t);
  // Valid for 5 s from now (X.509 keeps whole seconds, so it may end up to 1 s sooner): time for the
  // handshake and the first request on a loaded machine.
  const brief = await newLeaf({ cert: pki.caCert, key: pki.caKey }, { subject: { CN: 'brief', O: ['devs'] }, usages: ['clientAuth'], validityDays: 5 / 86_400 });
  const notAfter = Date.parse(new X509Certificate(brief.cert).validTo);
  const agent = agentFor(pki.caCert, brief);
  t.after(() => agent.destroy());
  const review = { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' };
  const before = await call(server.port, agent, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', review);
  assert.ok(Date.now() <= notAfter, 'the first request was made while the certificate was valid');
  assert.equal(before.code, 201);
  assert.equal((before.json.status as { userInfo: { username: string } }).userInfo.username, 'brief');
  await new Promise((r) => setTimeout(r, Math.max(0, notAfter - Date.now()) + 50));
  const after = await call(server.port, agent, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', review);
  assert.equal(after.socket, before.socket, 'the same kept-alive connection');
  assert.equal(after.code, 401);
  assert.equal(after.json.reason, 'Unauthorized');
  // A new connection with the expired certificate is refused alike.
  const fresh = agentFor(pki.caCert, brief);
  t.after(() => fresh.destroy());
  assert.equal((await call(server.port, fresh, 'GET', '/api/v1/namespaces/default/secrets')).code, 401);
});

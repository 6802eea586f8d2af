import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, stat, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { ensurePki } from './pki.js';

test('ensurePki makes a CA, a serving cert with the Kubernetes SANs and an admin client cert; keys 0600; reused', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cip-pki-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const p = await ensurePki(dir);
  const ca = new X509Certificate(p.caCert);
  const srv = new X509Certificate(p.serverCert);
  const adm = new X509Certificate(p.adminCert);
  assert.ok(ca.ca);
  assert.ok(srv.verify(ca.publicKey));
  assert.ok(adm.verify(ca.publicKey));
  for (const n of ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', 'localhost']) {
    assert.equal(srv.checkHost(n), n, n);
  }
  assert.equal(srv.checkIP('127.0.0.1'), '127.0.0.1');
  assert.equal(srv.checkIP('10.96.0.1'), '10.96.0.1');
  assert.match(adm.subject, /CN=clusterip-admin/);
  assert.match(adm.subject, /O=system:masters/);
  for (const f of ['ca.key', 'apiserver.key', 'admin.key', 'admin.token']) assert.equal((await stat(join(dir, 'pki', f))).mode & 0o777, 0o600, f);
  assert.match(p.adminToken, /^[0-9a-f]{48}$/);
  const t0 = Date.now();
  const again = await ensurePki(dir);
  assert.ok(Date.now() - t0 < 200, 'second start reuses files');
  assert.equal(again.serverCert, p.serverCert);
  assert.equal(again.adminToken, p.adminToken);
});

test('certificates made in-process serve TLS that a client verifies with the CA, and the admin certificate authenticates', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cip-pki-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const p = await ensurePki(dir);
  const { createServer } = await import('node:https');
  const srv = createServer({ cert: p.serverCert, key: p.serverKey, ca: p.caCert, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
    res.end(`${peer.subject.O}/${peer.subject.CN}`);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => srv.close(() => r())));
  const port = (srv.address() as { port: number }).port;
  const { request } = await import('node:https');
  const get = (host: string): Promise<string> => new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', servername: host === '127.0.0.1' ? undefined : host, port, ca: p.caCert, cert: p.adminCert, key: p.adminKey, path: '/' }, (res) => {
      let body = ''; res.on('data', (d) => { body += d; }); res.on('end', () => resolve(body));
    }).on('error', reject).end();
  });
  assert.equal(await get('127.0.0.1'), 'system:masters/clusterip-admin');
  assert.equal(await get('kubernetes.default.svc'), 'system:masters/clusterip-admin');
});

test('a state directory made by earlier versions (openssl CLI) is used as it is', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cip-pki-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await cp(join(import.meta.dirname, 'testdata', 'openssl'), join(dir, 'pki'), { recursive: true });
  const before = await readFile(join(dir, 'pki', 'apiserver.crt'), 'utf8');
  const p = await ensurePki(dir);
  assert.equal(p.serverCert, before, 'nothing regenerated');
  assert.ok(new X509Certificate(p.serverCert).verify(new X509Certificate(p.caCert).publicKey));
  for (const f of ['ca.key', 'apiserver.key', 'admin.key', 'admin.token']) assert.equal((await stat(join(dir, 'pki', f))).mode & 0o777, 0o600, f);
});

test('a new CA renews the certificates it signs', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cip-pki-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const p = await ensurePki(dir);
  await rm(join(dir, 'pki', 'ca.key'));
  const q = await ensurePki(dir);
  assert.notEqual(q.caCert, p.caCert);
  assert.ok(new X509Certificate(q.serverCert).verify(new X509Certificate(q.caCert).publicKey));
  assert.ok(new X509Certificate(q.adminCert).verify(new X509Certificate(q.caCert).publicKey));
});

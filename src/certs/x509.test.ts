import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createServer, request } from 'node:https';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { coversSans, newCa, newCsr, newLeaf, signCsr, signedBy, spkiHash } from './x509.js';

test('a CA signs a serving certificate with SANs and a client certificate whose O are groups; TLS verifies both ways', async (t) => {
  const ca = await newCa('test-ca');
  const caX = new X509Certificate(ca.cert);
  assert.ok(caX.ca);
  const srv = await newLeaf(ca, { subject: { CN: 'srv' }, usages: ['serverAuth'], sans: ['DNS:kubernetes.default.svc', 'IP:127.0.0.1', 'IP:192.168.77.1'] });
  const cli = await newLeaf(ca, { subject: { CN: 'system:node:n1', O: ['system:nodes'] }, usages: ['clientAuth'] });
  assert.ok(signedBy(srv.cert, ca.cert));
  assert.ok(coversSans(srv.cert, ['IP:192.168.77.1', 'DNS:kubernetes.default.svc']));
  assert.equal(coversSans(srv.cert, ['IP:192.168.77.2']), false);
  assert.equal(signedBy(srv.cert, (await newCa('other')).cert), false);
  const server = createServer({ cert: srv.cert, key: srv.key, ca: ca.cert, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    res.end(`${peer.subject.O}/${peer.subject.CN}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as { port: number }).port;
  const body = await new Promise<string>((resolve, reject) => {
    request({ host: '127.0.0.1', port, ca: ca.cert, cert: cli.cert, key: cli.key, path: '/' }, (res) => {
      let b = ''; res.on('data', (d) => { b += d; }); res.on('end', () => resolve(b));
    }).on('error', reject).end();
  });
  assert.equal(body, 'system:nodes/system:node:n1');
});

test('signCsr signs the requester\'s key with the signer\'s subject, and refuses what is not a valid request', async () => {
  const ca = await newCa('test-ca');
  const { csr, key } = await newCsr({ CN: 'whatever-the-requester-says', O: ['system:masters'] });
  const cert = await signCsr(ca, csr, { subject: { CN: 'system:node:n2', O: ['system:nodes'] }, usages: ['clientAuth'] });
  const x = new X509Certificate(cert);
  assert.match(x.subject, /CN=system:node:n2/);
  assert.doesNotMatch(x.subject, /system:masters/);
  assert.ok(x.checkPrivateKey((await import('node:crypto')).createPrivateKey(key)), 'the certificate is for the requester\'s key');
  await assert.rejects(signCsr(ca, 'not a csr', { subject: { CN: 'x' }, usages: ['clientAuth'] }), /not a PEM certificate signing request/);
  // A request whose signature was tampered with proves nothing about the key.
  const body = csr.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
  const der = Buffer.from(body, 'base64');
  der[der.length - 5] ^= 0xff;
  const bad = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
  await assert.rejects(signCsr(ca, bad, { subject: { CN: 'x' }, usages: ['clientAuth'] }));
});

test('spkiHash is what kubeadm documents (openssl x509 -pubkey | openssl pkey -pubin -outform der | sha256sum)', async (t) => {
  const ca = await newCa('test-ca');
  const dir = mkdtempSync(join(tmpdir(), 'cip-x509-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'ca.crt'), ca.cert);
  const pub = execFileSync('openssl', ['x509', '-pubkey', '-noout', '-in', join(dir, 'ca.crt')]);
  const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'der'], { input: pub });
  const hex = execFileSync('sha256sum', { input: der }).toString().split(' ')[0];
  assert.equal(spkiHash(ca.cert), `sha256:${hex}`);
});

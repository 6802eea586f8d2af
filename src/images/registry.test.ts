/**
 * The Docker Hub token flow, which Debian's docker-registry (htpasswd) does not exercise, against a
 * small stand-in on loopback speaking the same protocol: 401 with a Bearer challenge, a token from
 * the realm (anonymous, or with Basic credentials), the token on the retry; and a blob redirect to
 * another origin (Docker Hub's CDN) that must not receive the credentials.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isImageError } from './errors.js';
import { parseReference } from './reference.js';
import { RegistryClient } from './registry.js';

async function listen(t: { after(fn: () => Promise<void>): void }, handler: http.RequestListener): Promise<string> {
  const s = http.createServer(handler);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  t.after(() => new Promise((r) => { s.closeAllConnections(); s.close(() => r()); }));
  return `127.0.0.1:${(s.address() as AddressInfo).port}`;
}

test('Bearer token flow as Docker Hub runs it; a redirect to another origin gets no credentials', async (t) => {
  const seen: { path: string; auth?: string }[] = [];
  const cdn = await listen(t, (req, res) => { seen.push({ path: `cdn${req.url}`, auth: req.headers.authorization }); res.end('blob-bytes'); });
  const host = await listen(t, (req, res) => {
    const url = new URL(req.url!, 'http://x');
    seen.push({ path: url.pathname + url.search, auth: req.headers.authorization });
    if (url.pathname === '/token') {
      const basic = req.headers.authorization === `Basic ${Buffer.from('me:pw').toString('base64')}`;
      if (req.headers.authorization && !basic) { res.statusCode = 401; res.end('{"details":"incorrect username or password"}'); return; }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ token: basic ? 'user-token' : 'anon-token', expires_in: 300 }));
      return;
    }
    if (!/^Bearer (anon|user)-token$/.test(req.headers.authorization ?? '')) {
      res.statusCode = 401;
      res.setHeader('www-authenticate', `Bearer realm="http://${host}/token",service="registry.test",scope="repository:library/app:pull"`);
      res.setHeader('content-type', 'application/json');
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    if (url.pathname.includes('/blobs/')) { res.statusCode = 307; res.setHeader('location', `http://${cdn}/data?sig=1`); res.end(); return; }
    res.setHeader('content-type', 'application/vnd.oci.image.manifest.v1+json');
    res.end('{"schemaVersion":2}');
  });
  const ref = parseReference(`${host}/library/app:1`);
  const anon = new RegistryClient(ref);
  assert.equal((await anon.manifest('1', '*/*')).bytes.toString(), '{"schemaVersion":2}');
  assert.deepEqual(seen.map((s) => [s.path, s.auth]), [
    ['/v2/library/app/manifests/1', undefined],
    ['/token?service=registry.test&scope=repository%3Alibrary%2Fapp%3Apull', undefined],
    ['/v2/library/app/manifests/1', 'Bearer anon-token'],
  ]);
  seen.length = 0;
  const withCreds = new RegistryClient(ref, { credentials: [{ username: 'me', password: 'pw' }] });
  const body = await withCreds.blob(`sha256:${'0'.repeat(64)}`);
  let text = '';
  for await (const c of body) text += c.toString();
  assert.equal(text, 'blob-bytes');
  assert.deepEqual(seen.map((s) => [s.path, s.auth]), [
    [`/v2/library/app/blobs/sha256:${'0'.repeat(64)}`, undefined],
    ['/token?service=registry.test&scope=repository%3Alibrary%2Fapp%3Apull', `Basic ${Buffer.from('me:pw').toString('base64')}`],
    [`/v2/library/app/blobs/sha256:${'0'.repeat(64)}`, 'Bearer user-token'],
    ['cdn/data?sig=1', undefined],
  ]);
  const wrong = new RegistryClient(ref, { credentials: [{ username: 'me', password: 'nope' }] });
  await assert.rejects(wrong.manifest('1', '*/*'), (e: Error) => isImageError(e, 'UNAUTHORIZED') && /failed to fetch token: .*401 Unauthorized: incorrect username or password/.test(e.message));
});

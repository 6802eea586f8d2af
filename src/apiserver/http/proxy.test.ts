/**
 * services/proxy and pods/proxy through the real `kubectl proxy` and the real API server. The
 * cluster network is stood in for by loopback servers: the dial function the API server is given
 * maps each endpoint address to one of them and records which node it was asked to dial from (the
 * whole product dials from inside the node's namespace: test/e2e/service-proxy.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import type { Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import { R } from '../../api/resources.js';
import { startTestCluster } from '../../../test/harness/cluster.js';
import { parseProxyPath, splitSchemeNamePort, type ProxyDial } from './proxy.js';

test('SplitSchemeNamePort, as Kubernetes parses the name segment', () => {
  assert.deepEqual(splitSchemeNamePort('web'), { scheme: '', name: 'web', port: '' });
  assert.deepEqual(splitSchemeNamePort('web:80'), { scheme: '', name: 'web', port: '80' });
  assert.deepEqual(splitSchemeNamePort('web:http'), { scheme: '', name: 'web', port: 'http' });
  assert.deepEqual(splitSchemeNamePort('https:web:443'), { scheme: 'https', name: 'web', port: '443' });
  assert.equal(splitSchemeNamePort('ftp:web:21'), undefined);
  assert.equal(splitSchemeNamePort('a:b:c:d'), undefined);
  assert.equal(splitSchemeNamePort(':80'), undefined);
  assert.deepEqual(parseProxyPath('/api/v1/namespaces/default/services/web:80/proxy/a/b/'), { kind: 'services', namespace: 'default', id: 'web:80', rest: '/a/b/' });
  assert.deepEqual(parseProxyPath('/api/v1/namespaces/default/pods/p/proxy'), { kind: 'pods', namespace: 'default', id: 'p', rest: '/' });
  assert.equal(parseProxyPath('/api/v1/namespaces/default/services/web'), undefined);
});

interface Seen { method?: string; url?: string; headers: IncomingHttpHeaders; body: string }

async function listen(s: Server): Promise<number> {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as { port: number }).port;
}

/** `kubectl proxy --port=0`: resolves with the port it serves on. */
function kubectlProxy(kubeconfig: string, home: string): Promise<{ port: number; proc: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const proc = spawn('kubectl', ['proxy', '--port=0'], { env: { PATH: process.env.PATH, HOME: home, KUBECONFIG: kubeconfig }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d;
      const m = /Starting to serve on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve({ port: Number(m[1]), proc });
    });
    proc.on('exit', (code) => reject(new Error(`kubectl proxy exited ${code}: ${out}`)));
  });
}

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ code: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d; });
      res.on('end', () => resolve({ code: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('kubectl proxy → services/proxy and pods/proxy: named and numbered ports, https:, redirects, WebSocket, Kubernetes errors', async (t) => {
  // Backends: plain HTTP (with a redirect and a WebSocket endpoint) and HTTPS.
  let seen: Seen = { headers: {}, body: '' };
  const plain = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => { body += d; });
    req.on('end', () => {
      seen = { method: req.method, url: req.url, headers: req.headers, body };
      if (req.url === '/old') { res.writeHead(302, { location: '/new?x=1' }); res.end(); return; }
      res.end(`plain ${req.method} ${req.url}`);
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  plain.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (m) => ws.send(`echo ${m}`))));
  const plainPort = await listen(plain);
  const c0 = await startTestCluster(undefined);
  const secure = createHttpsServer({ key: c0.pki.serverKey, cert: c0.pki.serverCert }, (req, res) => res.end(`secure ${req.url}`));
  const securePort = await listen(secure);
  await c0.close();
  t.after(() => { plain.closeAllConnections(); plain.close(); secure.close(); });

  // The "cluster network": endpoint 10.244.0.5:8080 is the plain server, :8443 the TLS one.
  const dialed: { nodeName?: string; ip: string; port: number }[] = [];
  const dial: ProxyDial = (target) => {
    dialed.push(target);
    const port = target.port === 8443 ? securePort : target.port === 8080 ? plainPort : 1;
    return connect({ host: '127.0.0.1', port });
  };
  const c = await startTestCluster(t, { proxyDial: dial });
  const api = c.core;
  await api.create<Service>(R.services, 'default', { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'tls', port: 443, targetPort: 8443 }] } });
  await api.create<Endpoints>(R.endpoints, 'default', { metadata: { name: 'web' }, subsets: [{ addresses: [{ ip: '10.244.0.5', nodeName: 'node-1' }], ports: [{ name: 'http', port: 8080 }, { name: 'tls', port: 8443 }] }] });
  await api.create<Service>(R.services, 'default', { metadata: { name: 'empty' }, spec: { selector: { app: 'none' }, ports: [{ port: 80 }] } });
  await api.create<Endpoints>(R.endpoints, 'default', { metadata: { name: 'empty' }, subsets: [] });
  const pod = await api.create<Pod>(R.pods, 'default', { metadata: { name: 'p' }, spec: { nodeName: 'node-2', containers: [{ name: 'c', image: 'x', ports: [{ name: 'web', containerPort: 8080 }] }] } });
  await api.update(R.pods, 'default', { ...pod, status: { podIP: '10.244.1.7' } }, { subresource: 'status' });

  const home = await mkdtemp(join(tmpdir(), 'cip-kproxy-'));
  const kp = await kubectlProxy(c.kubeconfig, home);
  t.after(async () => { kp.proc.kill(); await rm(home, { recursive: true, force: true }); });
  const base = '/api/v1/namespaces/default';

  // A port number is matched to the Service port, whose name picks the endpoint port.
  const r80 = await get(kp.port, `${base}/services/web:80/proxy/hello/?a=1`);
  assert.equal(r80.code, 200);
  assert.equal(r80.body, 'plain GET /hello/?a=1');
  assert.equal(seen.headers.authorization, undefined, 'the client\'s credentials stay at the API server');
  assert.match(String(seen.headers['x-forwarded-for']), /127\.0\.0\.1/);
  assert.deepEqual(dialed.at(-1), { nodeName: 'node-1', ip: '10.244.0.5', port: 8080 }, 'dialed from the endpoint\'s node');
  assert.equal((await get(kp.port, `${base}/services/web:http/proxy/`)).body, 'plain GET /');
  // https: — TLS to the backend (its certificate is not checked, as kube-apiserver's proxy).
  const tls = await get(kp.port, `${base}/services/https:web:443/proxy/s`);
  assert.equal(tls.body, 'secure /s');
  assert.equal(dialed.at(-1)!.port, 8443);
  // A redirect into the backend stays inside the proxy path.
  const redir = await get(kp.port, `${base}/services/web:80/proxy/old`);
  assert.equal(redir.code, 302);
  assert.equal(redir.headers.location, `${base}/services/web:80/proxy/new?x=1`);
  // POST with a body.
  const post = await new Promise<string>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: kp.port, path: `${base}/services/web:80/proxy/form`, method: 'POST', headers: { 'content-type': 'text/plain' } }, (res) => {
      let b = ''; res.on('data', (d: Buffer) => { b += d; }); res.on('end', () => resolve(b));
    });
    req.on('error', reject);
    req.end('name=value');
  });
  assert.equal(post, 'plain POST /form');
  assert.equal(seen.body, 'name=value');
  // pods/proxy, by port number and by container port name.
  assert.equal((await get(kp.port, `${base}/pods/p:8080/proxy/x`)).body, 'plain GET /x');
  assert.deepEqual(dialed.at(-1), { nodeName: 'node-2', ip: '10.244.1.7', port: 8080 });
  assert.equal((await get(kp.port, `${base}/pods/p:web/proxy/y`)).body, 'plain GET /y');
  assert.equal((await get(kp.port, `${base}/pods/p/proxy/z`)).body, 'plain GET /z', 'no port: the first container port');

  // WebSocket through services/proxy (the upgrade passes kubectl proxy and the API server).
  const ws = new WebSocket(`ws://127.0.0.1:${kp.port}${base}/services/web:80/proxy/ws`);
  const echoed = await new Promise<string>((resolve, reject) => {
    ws.on('open', () => ws.send('hi'));
    ws.on('message', (m) => resolve(String(m)));
    ws.on('error', reject);
  });
  ws.close();
  assert.equal(echoed, 'echo hi');

  // Kubernetes' errors.
  const noPort = await get(kp.port, `${base}/services/web:81/proxy/`);
  assert.equal(noPort.code, 503);
  assert.equal(JSON.parse(noPort.body).message, 'no service port 81 found for service "web"');
  const noEps = await get(kp.port, `${base}/services/empty:80/proxy/`);
  assert.equal(noEps.code, 503);
  assert.equal(JSON.parse(noEps.body).message, 'no endpoints available for service "empty"');
  const missing = await get(kp.port, `${base}/services/nope/proxy/`);
  assert.equal(missing.code, 404);
  assert.equal(JSON.parse(missing.body).message, 'services "nope" not found');
  const bad = await get(kp.port, `${base}/services/a:b:c:d/proxy/`);
  assert.equal(bad.code, 400);
  assert.equal(JSON.parse(bad.body).message, 'invalid service request "a:b:c:d"');
  // Nothing listening behind the endpoint: the dial's error, as Kubernetes words it.
  await api.create<Service>(R.services, 'default', { metadata: { name: 'dead' }, spec: { selector: { app: 'dead' }, ports: [{ port: 80, targetPort: 9 }] } });
  await api.create<Endpoints>(R.endpoints, 'default', { metadata: { name: 'dead' }, subsets: [{ addresses: [{ ip: '10.244.0.9' }], ports: [{ port: 9 }] }] });
  const dead = await get(kp.port, `${base}/services/dead/proxy/`);
  assert.equal(dead.code, 503);
  assert.match(JSON.parse(dead.body).message, /^error trying to reach service: /);
});

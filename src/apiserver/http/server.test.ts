/**
 * The front door over real HTTPS and a real unix socket, in front of the FakeClient (the wire is
 * under test here, not the registry): authentication, routing to the client, Status errors, body
 * limits, Table negotiation, watch streaming, exec over WebSocket and logs with a fake provider.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { PassThrough, Readable } from 'node:stream';
import { WebSocket } from 'ws';
import { FakeClient } from '../../client/testing/fake.js';
import { HttpClient } from '../../client/http.js';
import { R } from '../../api/resources.js';
import { ApiError, gone } from '../../api/errors.js';
import type { ExecSession, PodStreamProvider } from '../../api/streams.js';
import type { WatchEvent } from '../../api/requests.js';
import type { Service } from 'kubernetes-types/core/v1.js';
import { ensurePki, type Pki } from '../pki/pki.js';
import { startApiServer, type RunningApiServer } from './server.js';

let dir: string; let pki: Pki; let srv: RunningApiServer; let fake: FakeClient; let admin: HttpClient;

class GoneFake extends FakeClient {
  override watch<T extends import('../../api/object.js').KubeObject>(res: import('../../api/resources.js').ResourceInfo, ns: string | undefined, opts: { resourceVersion?: string }, fn: (ev: WatchEvent<T>) => void) {
    if (opts.resourceVersion === '1') throw gone();
    return super.watch(res, ns, opts, fn);
  }
}

/** A provider whose exec runs a tiny script: `echo ARGS`, `cat` (stdin → stdout), `exit N`. */
const provider: PodStreamProvider = {
  async logs(_ns, pod) { return Readable.from([`log line 1 of ${pod}\n`, 'log line 2\n']); },
  async exec(_ns, _pod, opts) {
    const stdin = new PassThrough(); const stdout = new PassThrough(); const stderr = new PassThrough();
    const [cmd, ...args] = opts.command ?? [];
    let resolve!: (r: { exitCode: number }) => void;
    const result = new Promise<{ exitCode: number }>((r) => { resolve = r; });
    const finish = (code: number) => { stdout.end(); stderr.end(); resolve({ exitCode: code }); };
    if (cmd === 'echo') { stdout.write(args.join(' ') + '\n'); finish(0); }
    else if (cmd === 'cat') { stdin.on('data', (d) => stdout.write(d)); stdin.on('end', () => finish(0)); }
    else if (cmd === 'exit') { stderr.write('bye\n'); finish(Number(args[0])); }
    else throw new ApiError(500, 'InternalError', `unknown command ${cmd}`);
    const s: ExecSession = { stdin, stdout, stderr: opts.tty ? undefined : stderr, result, close: () => finish(137) };
    return s;
  },
  async attach() { throw new ApiError(503, 'ServiceUnavailable', 'no attach'); },
  async portForward() { throw new ApiError(503, 'ServiceUnavailable', 'no portforward'); },
};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cip-http-'));
  pki = await ensurePki(dir);
  fake = new GoneFake();
  await fake.create(R.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  await fake.create(R.pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1', namespace: 'default', creationTimestamp: new Date().toISOString() } });
  srv = await startApiServer({ client: fake, pki, listen: { port: 0 }, unixSocket: join(dir, 'api.sock'), streams: provider, bodyLimit: 1024 * 1024, log: () => {} });
  admin = new HttpClient({ server: srv.url, ca: pki.caCert, cert: pki.adminCert, key: pki.adminKey });
});
after(async () => { admin?.close(); await srv?.close(); await rm(dir, { recursive: true, force: true }); });

/** Raw HTTPS request with the admin token unless `auth: false`. */
function raw(method: string, path: string, opts: { body?: string | Buffer; headers?: Record<string, string>; auth?: boolean } = {}): Promise<{ code: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.auth !== false) headers.Authorization = `Bearer ${pki.adminToken}`;
    const req = httpsRequest({ host: '127.0.0.1', port: srv.port, method, path, headers, ca: pki.caCert }, (res) => {
      let b = ''; res.on('data', (c) => b += c); res.on('end', () => resolve({ code: res.statusCode!, headers: res.headers, body: b }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

test('the serving certificate verifies against the CA for 127.0.0.1 (TLS handshake with hostname check)', async () => {
  const r = await raw('GET', '/version');
  assert.equal(r.code, 200);
  assert.equal(JSON.parse(r.body).minor, '32');
});

test('anonymous requests get a 401 Status; a wrong token too; health is public', async () => {
  const r = await raw('GET', '/api/v1/namespaces/default/pods', { auth: false });
  assert.equal(r.code, 401);
  assert.deepEqual(JSON.parse(r.body), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
  const bad = await raw('GET', '/api/v1/pods', { auth: false, headers: { Authorization: 'Bearer nope' } });
  assert.equal(bad.code, 401);
  assert.equal((await raw('GET', '/healthz', { auth: false })).body, 'ok');
  assert.equal((await raw('GET', '/readyz?verbose', { auth: false })).code, 200);
});

test('client-certificate and token clients can CRUD through the HttpClient', async () => {
  const tok = new HttpClient({ server: srv.url, ca: pki.caCert, token: pki.adminToken });
  try {
    const created = await admin.create<Service>(R.services, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' } });
    assert.equal(created.metadata?.namespace, 'default');
    const got = await tok.get(R.services, 'default', 'web');
    assert.equal(got.metadata?.name, 'web');
    const list = await tok.list(R.services, undefined);
    assert.deepEqual(list.items.map((s) => s.metadata?.name), ['web']);
    await assert.rejects(tok.create(R.services, 'default', { metadata: { name: 'web' } }), (e: unknown) => e instanceof ApiError && e.code === 409 && e.reason === 'AlreadyExists' && e.message === 'services "web" already exists');
    await admin.delete(R.services, 'default', 'web');
    await assert.rejects(admin.get(R.services, 'default', 'web'), (e: unknown) => e instanceof ApiError && e.code === 404 && e.message === 'services "web" not found');
  } finally { tok.close(); }
});

test('unix socket: mode 0600, no credentials needed', async () => {
  const st = await stat(join(dir, 'api.sock'));
  assert.equal(st.mode & 0o777, 0o600);
  const c = new HttpClient({ socketPath: join(dir, 'api.sock') });
  try {
    const ns = await c.get(R.namespaces, undefined, 'default');
    assert.equal(ns.metadata?.name, 'default');
  } finally { c.close(); }
});

test('malformed JSON is a 400 Status; namespace mismatch is 400; unknown resource is 404; bad verb is 405', async () => {
  const r = await raw('POST', '/api/v1/namespaces/default/services', { body: '{"metadata": {', headers: { 'Content-Type': 'application/json' } });
  assert.equal(r.code, 400);
  const st = JSON.parse(r.body);
  assert.equal(st.kind, 'Status'); assert.equal(st.reason, 'BadRequest');
  assert.match(st.message, /could not be decoded as JSON/);
  const m = await raw('POST', '/api/v1/namespaces/default/services', { body: '{"metadata":{"name":"x","namespace":"other"}}', headers: { 'Content-Type': 'application/json' } });
  assert.equal(m.code, 400);
  assert.equal(JSON.parse(m.body).message, 'the namespace of the provided object does not match the namespace sent on the request');
  assert.equal((await raw('GET', '/api/v1/namespaces/default/widgets')).code, 404);
  assert.equal((await raw('PUT', '/api/v1/namespaces/default/services')).code, 405);
  const y = await raw('POST', '/api/v1/namespaces/default/configmaps', { body: 'metadata:\n  name: from-yaml\ndata:\n  a: "1"\n', headers: { 'Content-Type': 'application/yaml' } });
  assert.equal(y.code, 201);
  assert.equal(JSON.parse(y.body).metadata.name, 'from-yaml');
});

test('a body above the limit is 413 and the server stays up', async () => {
  const big = Buffer.alloc(5 * 1024 * 1024, 'a');
  const r = await raw('POST', '/api/v1/namespaces/default/configmaps', { body: big, headers: { 'Content-Type': 'application/json' } });
  assert.equal(r.code, 413);
  assert.equal(JSON.parse(r.body).reason, 'RequestEntityTooLarge');
  assert.equal((await raw('GET', '/version')).code, 200);
});

test('Table and PartialObjectMetadataList negotiation; protobuf-first Accept gets JSON', async () => {
  const t = await raw('GET', '/api/v1/namespaces/default/pods?limit=500', { headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json' } });
  const table = JSON.parse(t.body);
  assert.equal(table.kind, 'Table');
  assert.equal(table.rows[0].cells[0], 'p1');
  assert.equal(table.rows[0].object.kind, 'PartialObjectMetadata');
  assert.equal(table.rows[0].object.metadata.namespace, 'default');
  const pm = JSON.parse((await raw('GET', '/api/v1/pods', { headers: { Accept: 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io' } })).body);
  assert.equal(pm.kind, 'PartialObjectMetadataList');
  const pb = await raw('GET', '/api/v1/namespaces/default/pods/p1', { headers: { Accept: 'application/vnd.kubernetes.protobuf,application/json' } });
  assert.equal(pb.code, 200);
  assert.equal(pb.headers['content-type'], 'application/json');
  assert.equal(JSON.parse(pb.body).kind, 'Pod');
});

test('discovery (fallback): aggregated content type and legacy lists', async () => {
  const agg = await raw('GET', '/api', { headers: { Accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json' } });
  assert.equal(agg.headers['content-type'], 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
  const svc = JSON.parse(agg.body).items[0].versions[0].resources.find((r: { resource: string }) => r.resource === 'services');
  assert.deepEqual(svc.shortNames, ['svc']);
  const legacy = JSON.parse((await raw('GET', '/apis/apps/v1')).body);
  assert.ok(legacy.resources.some((r: { name: string }) => r.name === 'deployments/scale'));
});

test('watch: headers at once, events as lines, DELETED, timeoutSeconds ends the stream', async () => {
  const events: WatchEvent[] = [];
  const h = admin.watch(R.configmaps, 'default', { timeoutSeconds: 1 }, (ev) => events.push(ev));
  await new Promise((r) => setTimeout(r, 100));
  await fake.create(R.configmaps, 'default', { metadata: { name: 'w1' } });
  await fake.delete(R.configmaps, 'default', 'w1');
  const t0 = Date.now();
  await h.done;
  assert.ok(Date.now() - t0 < 1500);
  assert.deepEqual(events.map((e) => `${e.type} ${e.object.metadata?.name}`), ['ADDED w1', 'MODIFIED w1'.replace('MODIFIED', 'DELETED')]);
});

test('watch: a too-old resourceVersion gives an ERROR event with a 410 Status and done rejects', async () => {
  const events: WatchEvent[] = [];
  const h = admin.watch(R.pods, 'default', { resourceVersion: '1' }, (ev) => events.push(ev));
  await assert.rejects(h.done, (e: unknown) => e instanceof ApiError && e.code === 410 && e.reason === 'Expired');
  assert.equal(events[0].type, 'ERROR');
});

test('watch: headers are flushed before any event; client disconnect stops the server-side watch', async () => {
  const got = await new Promise<number>((resolve, reject) => {
    const req = httpRequest({ socketPath: join(dir, 'api.sock'), path: '/api/v1/namespaces/default/pods?watch=true' }, (res) => { resolve(res.statusCode!); req.destroy(); });
    req.on('error', (e) => { if (!String(e).includes('socket hang up')) reject(e); });
    req.end();
  });
  assert.equal(got, 200);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal((fake as unknown as { watchers: Set<unknown> }).watchers.size, 0);
});

test('watch as Table: one-row Tables, column definitions only on the first event', async () => {
  const lines: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port: srv.port, ca: pki.caCert, path: '/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1', headers: { Authorization: `Bearer ${pki.adminToken}`, Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' } }, (res) => {
      res.setEncoding('utf8'); let b = '';
      res.on('data', (c) => b += c); res.on('end', () => { lines.push(...b.trim().split('\n')); resolve(); });
    });
    req.on('error', reject); req.end();
    setTimeout(async () => { await fake.create(R.configmaps, 'default', { metadata: { name: 't1' } }); await fake.create(R.configmaps, 'default', { metadata: { name: 't2' } }); }, 150);
  });
  const evs = lines.map((l) => JSON.parse(l));
  assert.equal(evs.length, 2);
  assert.equal(evs[0].object.kind, 'Table');
  assert.equal(evs[0].object.columnDefinitions.length, 2);
  assert.deepEqual(evs[1].object.columnDefinitions, []);
  assert.equal(evs[1].object.rows[0].cells[0], 't2');
});

function wsExec(query: string, send?: (ws: WebSocket) => void): Promise<{ out: Map<number, string>; close: number; protocol: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://127.0.0.1:${srv.port}/api/v1/namespaces/default/pods/p1/exec?${query}`, ['v5.channel.k8s.io', 'v4.channel.k8s.io'], { ca: pki.caCert, headers: { Authorization: `Bearer ${pki.adminToken}` } });
    const out = new Map<number, string>();
    ws.on('open', () => send?.(ws));
    ws.on('message', (d: Buffer) => out.set(d[0], (out.get(d[0]) ?? '') + d.subarray(1).toString()));
    ws.on('close', (code) => resolve({ out, close: code, protocol: ws.protocol }));
    ws.on('error', reject);
  });
}

test('exec over WebSocket v5: stdout, exit Success on channel 3, close 1000', async () => {
  const r = await wsExec('command=echo&command=hello&command=world&stdout=true&stderr=true');
  assert.equal(r.protocol, 'v5.channel.k8s.io');
  assert.equal(r.out.get(1), 'hello world\n');
  assert.deepEqual(JSON.parse(r.out.get(3)!), { metadata: {}, status: 'Success' });
  assert.equal(r.close, 1000);
});

test('exec: stdin then [255,0] closes stdin; non-zero exit is NonZeroExitCode with ExitCode cause', async () => {
  const cat = await wsExec('command=cat&stdin=true&stdout=true', (ws) => { ws.send(Buffer.from([0, ...Buffer.from('ping\n')])); ws.send(Buffer.from([255, 0])); });
  assert.equal(cat.out.get(1), 'ping\n');
  const ex = await wsExec('command=exit&command=3&stdout=true&stderr=true');
  assert.equal(ex.out.get(2), 'bye\n');
  const st = JSON.parse(ex.out.get(3)!);
  assert.equal(st.reason, 'NonZeroExitCode');
  assert.deepEqual(st.details.causes, [{ reason: 'ExitCode', message: '3' }]);
});

test('exec on a missing pod is a 404 Status before the upgrade', async () => {
  const code = await new Promise<number>((resolve) => {
    const ws = new WebSocket(`wss://127.0.0.1:${srv.port}/api/v1/namespaces/default/pods/nope/exec?command=echo&stdout=true`, ['v5.channel.k8s.io'], { ca: pki.caCert, headers: { Authorization: `Bearer ${pki.adminToken}` } });
    ws.on('unexpected-response', (_req, res) => { resolve(res.statusCode!); ws.terminate(); });
    ws.on('error', () => {});
  });
  assert.equal(code, 404);
});

test('exec without credentials is refused with 401 before the upgrade', async () => {
  const code = await new Promise<number>((resolve) => {
    const ws = new WebSocket(`wss://127.0.0.1:${srv.port}/api/v1/namespaces/default/pods/p1/exec?command=echo&stdout=true`, ['v5.channel.k8s.io'], { ca: pki.caCert });
    ws.on('unexpected-response', (_req, res) => { resolve(res.statusCode!); ws.terminate(); });
    ws.on('error', () => {});
  });
  assert.equal(code, 401);
});

test('pods/log streams text/plain', async () => {
  const r = await raw('GET', '/api/v1/namespaces/default/pods/p1/log?follow=true');
  assert.equal(r.code, 200);
  assert.equal(r.headers['content-type'], 'text/plain');
  assert.equal(r.body, 'log line 1 of p1\nlog line 2\n');
});

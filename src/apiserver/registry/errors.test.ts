/**
 * Every verb × every failure the storage can raise, through the real HTTP server (plain HTTP on its
 * unix socket) in front of the real API core, whose storage is a real MemoryStorage wrapped by
 * FaultStorage: while a fault is armed, every storage write fails with it. Each row asserts the
 * HTTP code and the Status reason the client gets, and that the failed write lost or leaked
 * nothing (the object is unchanged, a ClusterIP is given back). Reads are served from the watch
 * caches, so they answer 200 with storage failing every write, and write nothing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { ConfigMap, Namespace, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/object.js';
import { R } from '../../api/resources.js';
import { MemoryStorage } from '../../storage/memory.js';
import type { StorageErrorCode } from '../../storage/storage.js';
import { createApiCore, type ApiCore } from '../core.js';
import { startApiServer, type RunningApiServer } from '../http/server.js';
import { ensurePki } from '../pki/pki.js';
import { FaultStorage, type Fault } from './testing/faultstorage.js';

let dir: string; let storage: FaultStorage; let core: ApiCore; let srv: RunningApiServer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cip-regerr-'));
  storage = new FaultStorage(new MemoryStorage());
  core = await createApiCore({ storage });
  srv = await startApiServer({ client: core.client, pki: await ensurePki(dir), listen: null, unixSocket: join(dir, 'api.sock'), log: () => {} });
});
after(async () => {
  await srv?.close();
  await core?.close();
  await storage?.close();
  await rm(dir, { recursive: true, force: true });
});

interface Answer { code: number; body: { kind?: string; code?: number; reason?: string; message?: string; metadata?: { resourceVersion?: string }; items?: unknown[] } }

/** One request over the unix socket; JSON in and out. */
function call(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request({ socketPath: join(dir, 'api.sock'), method, path, headers: payload ? { 'Content-Type': contentType } : {} }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => { text += c.toString(); });
      res.on('end', () => resolve({ code: res.statusCode!, body: text ? JSON.parse(text) as Answer['body'] : {} }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** The status code and first event of a watch (then hangs up). */
function firstWatchEvent(path: string): Promise<{ code: number; type?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: join(dir, 'api.sock'), method: 'GET', path }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
        const nl = text.indexOf('\n');
        if (nl >= 0) { resolve({ code: res.statusCode!, type: (JSON.parse(text.slice(0, nl)) as { type: string }).type }); req.destroy(); }
      });
      res.on('end', () => resolve({ code: res.statusCode! }));
    });
    req.on('error', (e) => { if (!req.destroyed) reject(e); });
    req.end();
  });
}

let seq = 0;
const unique = (p: string): string => `${p}-${++seq}`;
const cm = (name: string, extra: Partial<ConfigMap['metadata']> = {}): ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...extra }, data: { a: '1' } });
const podSpec = { containers: [{ name: 'c', image: 'busybox' }] };
const deploy = (name: string): Deployment => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
  spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: podSpec } },
});

/** The faults of a row: every StorageError code, and an Error no mapping knows. */
const FAULTS: { name: string; fault: Fault }[] = [
  ...(['KeyExists', 'KeyNotFound', 'Conflict', 'Compacted', 'Closed'] as StorageErrorCode[]).map((c) => ({ name: c, fault: c as Fault })),
  { name: 'unknown backend error', fault: new Error('disk I/O error') },
];

type Expected = Record<string, [number, string]>;
/** Updates, patches, subresource writes and deletes. */
const WRITE: Expected = {
  KeyExists: [409, 'Conflict'], KeyNotFound: [404, 'NotFound'], Conflict: [409, 'Conflict'], Compacted: [410, 'Expired'],
  Closed: [503, 'ServiceUnavailable'], 'unknown backend error': [500, 'InternalError'],
};
const CREATE: Expected = { ...WRITE, KeyExists: [409, 'AlreadyExists'] };
/** A collection delete skips objects that vanished meanwhile (Kubernetes ignores NotFound there). */
const DELETE_COLLECTION: Expected = { ...WRITE, KeyNotFound: [200, 'Success'] };

interface Row {
  verb: string;
  expected: Expected;
  /** Creates what the request needs (storage healthy); returns the request, and a check that nothing changed. */
  setup(): Promise<{ method: string; path: string; body?: unknown; contentType?: string; unchanged(): Promise<void> }>;
}

/** A check that `res/ns/name` still has resourceVersion `rv` (or still does not exist). */
const same = (res: typeof R[keyof typeof R], ns: string | undefined, name: string, rv: string | undefined) => async (): Promise<void> => {
  if (rv === undefined) {
    await assert.rejects(core.client.get(res, ns, name), (e: { code?: number }) => e.code === 404, `${name} must not exist`);
    return;
  }
  assert.equal((await core.client.get(res, ns, name)).metadata?.resourceVersion, rv, `${name} must be unchanged`);
};

async function existingConfigMap(extra: Partial<ConfigMap['metadata']> = {}): Promise<{ name: string; obj: KubeObject; path: string }> {
  const name = unique('cm');
  const obj = await core.client.create(R.configmaps, 'default', cm(name, extra));
  return { name, obj, path: `/api/v1/namespaces/default/configmaps/${name}` };
}

async function existingDeployment(): Promise<{ name: string; obj: Deployment; path: string }> {
  const name = unique('d');
  const obj = await core.client.create<Deployment>(R.deployments, 'default', deploy(name));
  return { name, obj, path: `/apis/apps/v1/namespaces/default/deployments/${name}` };
}

const ROWS: Row[] = [
  { verb: 'create', expected: CREATE, async setup() {
    const name = unique('new');
    return { method: 'POST', path: '/api/v1/namespaces/default/configmaps', body: cm(name), unchanged: same(R.configmaps, 'default', name, undefined) };
  } },
  { verb: 'create with generateName (retried with new names, then reported)', expected: CREATE, async setup() {
    const before = (await core.client.list(R.configmaps, 'default')).items.length;
    return { method: 'POST', path: '/api/v1/namespaces/default/configmaps', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'gen-' } },
      async unchanged() { assert.equal((await core.client.list(R.configmaps, 'default')).items.length, before); } };
  } },
  // The first write of a Service create is its ClusterIP claim (ipallocator/ipaddresses.ts): a claim
  // that meets KeyExists lost the address to another API server, so the allocator tries others and
  // finally gives up with 422 — never a leak, never a 500.
  { verb: 'create Service (its ClusterIP is given back)', expected: { ...CREATE, KeyExists: [422, 'Invalid'] }, async setup() {
    const name = unique('svc');
    const used = core.allocator.usedCount;
    return { method: 'POST', path: '/api/v1/namespaces/default/services', body: { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port: 80 }] } } satisfies Service,
      async unchanged() { await same(R.services, 'default', name, undefined)(); assert.equal(core.allocator.usedCount, used, 'no ClusterIP leaked'); } };
  } },
  { verb: 'update', expected: WRITE, async setup() {
    const { name, obj, path } = await existingConfigMap();
    return { method: 'PUT', path, body: { ...obj, data: { a: '2' } }, unchanged: same(R.configmaps, 'default', name, obj.metadata?.resourceVersion) };
  } },
  { verb: 'patch (merge)', expected: WRITE, async setup() {
    const { name, obj, path } = await existingConfigMap();
    return { method: 'PATCH', path, body: { data: { a: '3' } }, contentType: 'application/merge-patch+json', unchanged: same(R.configmaps, 'default', name, obj.metadata?.resourceVersion) };
  } },
  { verb: 'patch (server-side apply of an existing object)', expected: WRITE, async setup() {
    const { name, obj, path } = await existingConfigMap();
    return { method: 'PATCH', path: `${path}?fieldManager=t`, body: { ...cm(name, { namespace: 'default' }), data: { a: 'applied' } }, contentType: 'application/apply-patch+yaml',
      unchanged: same(R.configmaps, 'default', name, obj.metadata?.resourceVersion) };
  } },
  { verb: 'patch (server-side apply creating the object)', expected: CREATE, async setup() {
    const name = unique('applied');
    return { method: 'PATCH', path: `/api/v1/namespaces/default/configmaps/${name}?fieldManager=t`, body: cm(name), contentType: 'application/apply-patch+yaml',
      unchanged: same(R.configmaps, 'default', name, undefined) };
  } },
  { verb: 'delete', expected: WRITE, async setup() {
    const { name, obj, path } = await existingConfigMap();
    return { method: 'DELETE', path, unchanged: same(R.configmaps, 'default', name, obj.metadata?.resourceVersion) };
  } },
  { verb: 'delete of an object with finalizers (marks it)', expected: WRITE, async setup() {
    const { name, obj, path } = await existingConfigMap({ finalizers: ['example.com/hold'] });
    return { method: 'DELETE', path, unchanged: same(R.configmaps, 'default', name, obj.metadata?.resourceVersion) };
  } },
  { verb: 'delete of a Pod a node runs (graceful: marks it)', expected: WRITE, async setup() {
    const name = unique('pod');
    const obj = await core.client.create<Pod>(R.pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { ...podSpec, nodeName: 'n1' } });
    return { method: 'DELETE', path: `/api/v1/namespaces/default/pods/${name}`, unchanged: same(R.pods, 'default', name, obj.metadata?.resourceVersion) };
  } },
  { verb: 'deletecollection', expected: DELETE_COLLECTION, async setup() {
    const label = unique('batch');
    const { name, obj } = await existingConfigMap({ labels: { batch: label } });
    return { method: 'DELETE', path: `/api/v1/namespaces/default/configmaps?labelSelector=batch%3D${label}`, unchanged: same(R.configmaps, 'default', name, obj.metadata?.resourceVersion) };
  } },
  { verb: 'status (PUT)', expected: WRITE, async setup() {
    const { name, obj, path } = await existingDeployment();
    return { method: 'PUT', path: `${path}/status`, body: { ...obj, status: { replicas: 1 } }, unchanged: same(R.deployments, 'default', name, obj.metadata?.resourceVersion) };
  } },
  { verb: 'status (PATCH)', expected: WRITE, async setup() {
    const { name, obj, path } = await existingDeployment();
    return { method: 'PATCH', path: `${path}/status`, body: { status: { replicas: 1 } }, contentType: 'application/merge-patch+json', unchanged: same(R.deployments, 'default', name, obj.metadata?.resourceVersion) };
  } },
  { verb: 'scale (PUT)', expected: WRITE, async setup() {
    const { name, obj, path } = await existingDeployment();
    return { method: 'PUT', path: `${path}/scale`, body: { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name, namespace: 'default' }, spec: { replicas: 4 } },
      unchanged: same(R.deployments, 'default', name, obj.metadata?.resourceVersion) };
  } },
  { verb: 'scale (PATCH)', expected: WRITE, async setup() {
    const { name, obj, path } = await existingDeployment();
    return { method: 'PATCH', path: `${path}/scale`, body: { spec: { replicas: 5 } }, contentType: 'application/merge-patch+json', unchanged: same(R.deployments, 'default', name, obj.metadata?.resourceVersion) };
  } },
  { verb: 'binding', expected: WRITE, async setup() {
    const name = unique('unbound');
    const obj = await core.client.create<Pod>(R.pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: podSpec });
    return { method: 'POST', path: `/api/v1/namespaces/default/pods/${name}/binding`, body: { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { kind: 'Node', name: 'n1' } },
      unchanged: same(R.pods, 'default', name, obj.metadata?.resourceVersion) };
  } },
  { verb: 'namespace finalize', expected: WRITE, async setup() {
    const name = unique('ns');
    const obj = await core.client.create<Namespace>(R.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    return { method: 'PUT', path: `/api/v1/namespaces/${name}/finalize`, body: { ...obj, spec: { finalizers: [] } }, unchanged: same(R.namespaces, undefined, name, obj.metadata?.resourceVersion) };
  } },
];

describe('registry errors: every verb × every storage failure, as the HTTP client sees it', () => {
  for (const row of ROWS) {
    for (const f of FAULTS) {
      const [code, reason] = row.expected[f.name]!;
      it(`${row.verb} × ${f.name} → ${code} ${reason}`, async () => {
        const r = await row.setup();
        storage.arm(f.fault);
        let a: Answer;
        try {
          a = await call(r.method, r.path, r.body, r.contentType);
        } finally {
          storage.disarm();
        }
        assert.equal(a.code, code, JSON.stringify(a.body));
        if (code >= 400) {
          assert.equal(a.body.kind, 'Status');
          assert.equal(a.body.code, code);
          assert.equal(a.body.reason, reason);
          await r.unchanged();
        }
        if (f.name === 'unknown backend error') assert.equal(a.body.message, 'Internal error occurred: disk I/O error');
      });
    }
    it(`${row.verb} × one Conflict, then success → the write is retried and succeeds`, async () => {
      const r = await row.setup();
      storage.arm('Conflict', 1);
      const a = await call(r.method, r.path, r.body, r.contentType).finally(() => storage.disarm());
      assert.ok(a.code === 200 || a.code === 201, `${a.code} ${JSON.stringify(a.body)}`);
    });
  }

  it('wording: a conflict that outlasts the retries is Kubernetes\' optimistic-concurrency message; a closed store asks to retry', async () => {
    const { name, path } = await existingDeployment();
    storage.arm('Conflict');
    const scale = await call('PATCH', `${path}/scale`, { spec: { replicas: 2 } }, 'application/merge-patch+json').finally(() => storage.disarm());
    assert.equal(scale.body.message, `Operation cannot be fulfilled on deployments.apps "${name}": the object has been modified; please apply your changes to the latest version and try again`);
    storage.arm('Closed');
    const closed = await call('POST', '/api/v1/namespaces/default/configmaps', cm(unique('x'))).finally(() => storage.disarm());
    assert.equal(closed.body.message, 'The create operation against configmaps could not be completed at this time, please try again.');
    assert.deepEqual((closed.body as { details?: unknown }).details, { retryAfterSeconds: 1 });
  });

  it('reads (get, list, watch, scale) are served from the watch caches: 200 with every write failing, and no storage call', async () => {
    const { name, path } = await existingDeployment();
    for (const f of FAULTS) {
      storage.arm(f.fault);
      storage.reset();
      try {
        assert.equal((await call('GET', path)).code, 200);
        assert.equal((await call('GET', `${path}/scale`)).code, 200);
        const list = await call('GET', '/apis/apps/v1/namespaces/default/deployments');
        assert.equal(list.code, 200);
        assert.ok((list.body.items ?? []).length > 0);
        assert.deepEqual(await firstWatchEvent(`/apis/apps/v1/namespaces/default/deployments?watch=1&resourceVersion=0&fieldSelector=metadata.name%3D${name}`), { code: 200, type: 'ADDED' });
        assert.equal(storage.writes + storage.gets, 0, `${f.name}: reads touched storage`);
      } finally {
        storage.disarm();
      }
    }
  });
});

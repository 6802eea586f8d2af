import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Namespace, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import { ApiError } from '../api/errors.js';
import type { KubeObject } from '../api/object.js';
import { R } from '../api/resources.js';
import type { WatchEvent } from '../api/requests.js';
import { MemoryStorage } from '../storage/memory.js';
import { createApiCore, type ApiCore } from './core.js';

async function withCore(fn: (core: ApiCore) => Promise<void>, opts: { watchCacheSize?: number; bookmarkIntervalMs?: number } = {}): Promise<void> {
  const storage = new MemoryStorage();
  const core = await createApiCore({ storage, clock: () => new Date('2026-01-02T03:04:05.678Z'), ...opts });
  try {
    await fn(core);
  } finally {
    await core.close();
    await storage.close();
  }
}

async function rejects(p: Promise<unknown>, code: number, reason: string, message?: string | RegExp): Promise<ApiError> {
  let err: unknown;
  try { await p; } catch (e) { err = e; }
  assert.ok(err instanceof ApiError, `expected ApiError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  assert.equal(err.reason, reason);
  if (typeof message === 'string') assert.equal(err.message, message);
  else if (message) assert.match(err.message, message);
  return err;
}

const svc = (name: string, extra: Partial<Service['spec']> = {}): Service => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, labels: { app: name } },
  spec: { selector: { app: name }, ports: [{ port: 80 }], ...extra },
});
const pod = (name: string, labels: Record<string, string> = {}): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { containers: [{ name: 'c', image: 'busybox' }] },
});
const podSpec = { containers: [{ name: 'c', image: 'nginx' }], restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', terminationGracePeriodSeconds: 30 };
const deploy = (name: string): Deployment => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
  spec: { replicas: 2, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: podSpec } },
});

function collect(core: ApiCore, res: typeof R[keyof typeof R], ns: string | undefined, opts: Parameters<ApiCore['client']['watch']>[2]) {
  const events: WatchEvent[] = [];
  const h = core.client.watch(res, ns, opts, (e) => events.push(e));
  return { events, h };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('api core', () => {
  it('starts with the system namespaces, Active, with the kubernetes finalizer', async () => {
    await withCore(async (core) => {
      const list = await core.client.list<Namespace>(R.namespaces, undefined);
      assert.deepEqual(list.items.map((n) => n.metadata!.name).sort(), ['default', 'kube-node-lease', 'kube-public', 'kube-system']);
      assert.equal(list.kind, 'NamespaceList');
      for (const n of list.items) {
        assert.equal(n.status?.phase, 'Active');
        assert.deepEqual(n.spec?.finalizers, ['kubernetes']);
      }
    });
  });

  it('create sets uid, creationTimestamp, resourceVersion, generation; get/list return it', async () => {
    await withCore(async (core) => {
      const created = await core.client.create<Deployment>(R.deployments, 'default', deploy('web'));
      assert.match(created.metadata!.uid!, /^[0-9a-f-]{36}$/);
      assert.equal(created.metadata!.creationTimestamp, '2026-01-02T03:04:05Z');
      assert.equal(created.metadata!.generation, 1);
      assert.equal(created.metadata!.namespace, 'default');
      assert.ok(Number(created.metadata!.resourceVersion) > 0);
      const got = await core.client.get<Deployment>(R.deployments, 'default', 'web');
      assert.deepEqual(got, created);
      await rejects(core.client.create(R.deployments, 'default', deploy('web')), 409, 'AlreadyExists', 'deployments.apps "web" already exists');
      await rejects(core.client.get(R.deployments, 'default', 'nope'), 404, 'NotFound', 'deployments.apps "nope" not found');
    });
  });

  it('generation bumps on spec change only; optimistic concurrency gives Kubernetes\' 409', async () => {
    await withCore(async (core) => {
      const d1 = await core.client.create<Deployment>(R.deployments, 'default', deploy('web'));
      const d2 = await core.client.update<Deployment>(R.deployments, 'default', { ...d1, metadata: { ...d1.metadata, labels: { x: 'y' } } });
      assert.equal(d2.metadata!.generation, 1, 'metadata change keeps generation');
      assert.ok(Number(d2.metadata!.resourceVersion) > Number(d1.metadata!.resourceVersion));
      const d3 = await core.client.update<Deployment>(R.deployments, 'default', { ...d2, spec: { ...d2.spec!, replicas: 5 } });
      assert.equal(d3.metadata!.generation, 2);
      const d4 = await core.client.update<Deployment>(R.deployments, 'default', { ...d3, status: { replicas: 5 } } as Deployment, { subresource: 'status' });
      assert.equal(d4.metadata!.generation, 2, 'status change keeps generation');
      assert.equal(d4.status?.replicas, 5);
      await rejects(core.client.update(R.deployments, 'default', { ...d1, spec: { ...d1.spec!, replicas: 9 } }), 409, 'Conflict',
        'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; please apply your changes to the latest version and try again');
      // Main-resource writes keep the stored status; status writes keep the spec.
      const d5 = await core.client.update<Deployment>(R.deployments, 'default', { ...d4, spec: { ...d4.spec!, replicas: 1 }, status: { replicas: 99 } } as Deployment);
      assert.equal(d5.status?.replicas, 5);
      assert.equal(d5.spec?.replicas, 1);
      const d6 = await core.client.update<Deployment>(R.deployments, 'default', { ...d5, spec: { ...d5.spec!, replicas: 7 }, status: { replicas: 3 } } as Deployment, { subresource: 'status' });
      assert.equal(d6.spec?.replicas, 1);
      assert.equal(d6.status?.replicas, 3);
      // A no-op update writes nothing.
      const d7 = await core.client.update<Deployment>(R.deployments, 'default', d6);
      assert.equal(d7.metadata!.resourceVersion, d6.metadata!.resourceVersion);
    });
  });

  it('concurrency: racing updates with one resourceVersion → exactly one wins; racing patches all apply', async () => {
    await withCore(async (core) => {
      const cm = await core.client.create(R.configmaps, 'default', { metadata: { name: 'race' } } as KubeObject);
      const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) =>
        core.client.update(R.configmaps, 'default', { ...cm, data: { i: String(i) } } as KubeObject)));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      assert.ok(results.every((r) => r.status === 'fulfilled' || (r.reason instanceof ApiError && r.reason.code === 409)));
      await Promise.all(Array.from({ length: 30 }, (_, i) =>
        core.client.patch(R.configmaps, 'default', 'race', 'application/merge-patch+json', { metadata: { labels: { [`l${i}`]: 'x' } } })));
      const got = await core.client.get(R.configmaps, 'default', 'race');
      assert.equal(Object.keys(got.metadata!.labels!).length, 30);
    });
  });

  it('generateName, missing namespace, terminating namespace, URL/body mismatches', async () => {
    await withCore(async (core) => {
      const p = await core.client.create<Pod>(R.pods, 'default', { ...pod(''), metadata: { generateName: 'web-' } });
      assert.match(p.metadata!.name!, /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      await rejects(core.client.create(R.pods, 'nope', pod('a')), 404, 'NotFound', 'namespaces "nope" not found');
      await rejects(core.client.create(R.pods, 'default', { ...pod('a'), metadata: { name: 'a', namespace: 'other' } }), 400, 'BadRequest',
        'the namespace of the provided object does not match the namespace sent on the request');
      await rejects(core.client.create(R.pods, 'default', { ...pod('a'), kind: 'Service' } as KubeObject), 400, 'BadRequest');
      await rejects(core.client.create(R.pods, 'default', { ...pod('a'), apiVersion: 'apps/v1' } as KubeObject), 400, 'BadRequest');
      await rejects(core.client.create(R.pods, 'default', { kind: 'Pod', apiVersion: 'v1', metadata: {} } as KubeObject), 422, 'Invalid');
      await core.client.create(R.namespaces, undefined, { metadata: { name: 'doomed' } } as Namespace);
      await core.client.create(R.configmaps, 'doomed', { metadata: { name: 'cm' }, data: { a: 'b' } } as KubeObject);
      const del = await core.client.delete<Namespace>(R.namespaces, undefined, 'doomed');
      assert.equal(del.status?.phase, 'Terminating');
      assert.ok(del.metadata?.deletionTimestamp);
      await rejects(core.client.create(R.configmaps, 'doomed', { metadata: { name: 'cm2' } } as KubeObject), 403, 'Forbidden',
        'configmaps "cm2" is forbidden: unable to create new content in namespace doomed because it is being terminated');
      // The namespace controller empties it and calls finalize; then the namespace is gone.
      await core.client.delete(R.configmaps, 'doomed', 'cm');
      const ns = await core.client.get<Namespace>(R.namespaces, undefined, 'doomed');
      await core.client.update(R.namespaces, undefined, { ...ns, spec: { finalizers: [] } }, { subresource: 'finalize' as 'status' });
      await rejects(core.client.get(R.namespaces, undefined, 'doomed'), 404, 'NotFound');
    });
  });

  it('finalizers hold deletion; clearing the last one removes the object; Foreground/Orphan add theirs', async () => {
    await withCore(async (core) => {
      await core.client.create(R.configmaps, 'default', { metadata: { name: 'f', finalizers: ['example.com/x'] } } as KubeObject);
      const marked = await core.client.delete(R.configmaps, 'default', 'f');
      assert.ok(marked.metadata?.deletionTimestamp);
      const still = await core.client.get(R.configmaps, 'default', 'f');
      await rejects(core.client.update(R.configmaps, 'default', { ...still, metadata: { ...still.metadata, finalizers: ['example.com/x', 'new'] } }), 422, 'Invalid');
      await core.client.update(R.configmaps, 'default', { ...still, metadata: { ...still.metadata, finalizers: [] } });
      await rejects(core.client.get(R.configmaps, 'default', 'f'), 404, 'NotFound');

      await core.client.create(R.deployments, 'default', deploy('fg'));
      const fg = await core.client.delete(R.deployments, 'default', 'fg', { propagationPolicy: 'Foreground' });
      assert.deepEqual(fg.metadata?.finalizers, ['foregroundDeletion']);
      await core.client.create(R.replicasets, 'default', { metadata: { name: 'rs' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: podSpec } } } as KubeObject);
      const or = await core.client.delete(R.replicasets, 'default', 'rs', { propagationPolicy: 'Orphan' });
      assert.deepEqual(or.metadata?.finalizers, ['orphan']);
      const bg = await core.client.create(R.configmaps, 'default', { metadata: { name: 'bg' } } as KubeObject);
      await rejects(core.client.delete(R.configmaps, 'default', 'bg', { preconditions: { uid: 'x' } }), 409, 'Conflict',
        `Operation cannot be fulfilled on configmaps "bg": Precondition failed: UID in precondition: x, UID in object meta: ${bg.metadata!.uid}`);
      await rejects(core.client.delete(R.configmaps, 'default', 'bg', { preconditions: { resourceVersion: '1' } }), 409, 'Conflict');
      await core.client.delete(R.configmaps, 'default', 'bg', { propagationPolicy: 'Background', preconditions: { uid: bg.metadata!.uid } });
      await rejects(core.client.get(R.configmaps, 'default', 'bg'), 404, 'NotFound');
    });
  });

  it('pods: binding, graceful deletion of bound pods, immediate deletion of unbound ones', async () => {
    await withCore(async (core) => {
      const p = await core.client.create<Pod>(R.pods, 'default', pod('p'));
      assert.equal(p.status?.phase, 'Pending');
      await core.client.create(R.pods, 'default', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p' }, target: { kind: 'Node', name: 'node-1' } } as KubeObject, { subresource: 'binding', name: 'p' });
      const bound = await core.client.get<Pod>(R.pods, 'default', 'p');
      assert.equal(bound.spec?.nodeName, 'node-1');
      await rejects(core.client.create(R.pods, 'default', { metadata: { name: 'p' }, target: { name: 'node-2' } } as KubeObject, { subresource: 'binding', name: 'p' }), 409, 'Conflict',
        'Operation cannot be fulfilled on pods/binding "p": pod p is already assigned to node "node-1"');
      const marked = await core.client.delete<Pod>(R.pods, 'default', 'p');
      assert.equal(marked.metadata?.deletionGracePeriodSeconds, 30);
      assert.equal(marked.metadata?.deletionTimestamp, '2026-01-02T03:04:35Z');
      await core.client.get(R.pods, 'default', 'p');
      await core.client.delete(R.pods, 'default', 'p', { gracePeriodSeconds: 0 });
      await rejects(core.client.get(R.pods, 'default', 'p'), 404, 'NotFound');
      await core.client.create(R.pods, 'default', pod('u'));
      await core.client.delete(R.pods, 'default', 'u');
      await rejects(core.client.get(R.pods, 'default', 'u'), 404, 'NotFound');
    });
  });

  it('scale subresource in and out', async () => {
    await withCore(async (core) => {
      await core.client.create(R.deployments, 'default', deploy('web'));
      const s = await core.client.get(R.deployments, 'default', 'web', 'scale');
      assert.deepEqual({ ...s, metadata: undefined }, { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: undefined, spec: { replicas: 2 }, status: { replicas: 0, selector: 'app=web' } });
      const s2 = await core.client.patch(R.deployments, 'default', 'web', 'application/merge-patch+json', { spec: { replicas: 5 } }, { subresource: 'scale' });
      assert.equal((s2 as { spec: { replicas: number } }).spec.replicas, 5);
      const d = await core.client.get<Deployment>(R.deployments, 'default', 'web');
      assert.equal(d.spec?.replicas, 5);
      assert.equal(d.metadata?.generation, 2);
      await rejects(core.client.update(R.deployments, 'default', { ...s2, spec: { replicas: -1 } } as KubeObject, { subresource: 'scale' }), 422, 'Invalid',
        'Scale.autoscaling "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0');
    });
  });

  it('patch: merge, JSON patch, dryRun, resourceVersion precondition', async () => {
    await withCore(async (core) => {
      await core.client.create(R.configmaps, 'default', { metadata: { name: 'cm', labels: { a: '1', b: '2' } }, data: { k: 'v' } } as KubeObject);
      const m = await core.client.patch(R.configmaps, 'default', 'cm', 'application/merge-patch+json', { metadata: { labels: { a: null, c: '3' } } });
      assert.deepEqual(m.metadata?.labels, { b: '2', c: '3' });
      const j = await core.client.patch<KubeObject & { data: Record<string, string> }>(R.configmaps, 'default', 'cm', 'application/json-patch+json', [{ op: 'add', path: '/data/x', value: 'y' }]);
      assert.deepEqual(j.data, { k: 'v', x: 'y' });
      await rejects(core.client.patch(R.configmaps, 'default', 'cm', 'application/json-patch+json', [{ op: 'test', path: '/data/x', value: 'nope' }]), 422, 'Invalid');
      await rejects(core.client.patch(R.configmaps, 'default', 'cm', 'application/merge-patch+json', { metadata: { resourceVersion: '1' } }), 409, 'Conflict');
      const dry = await core.client.patch<KubeObject & { data: Record<string, string> }>(R.configmaps, 'default', 'cm', 'application/merge-patch+json', { data: { k: 'dry' } }, { dryRun: 'All' });
      assert.equal(dry.data.k, 'dry');
      const after = await core.client.get<KubeObject & { data: Record<string, string> }>(R.configmaps, 'default', 'cm');
      assert.equal(after.data.k, 'v');
      await core.client.create(R.configmaps, 'default', { metadata: { name: 'dry' } } as KubeObject, { dryRun: 'All' });
      await rejects(core.client.get(R.configmaps, 'default', 'dry'), 404, 'NotFound');
      await rejects(core.client.patch(R.configmaps, 'default', 'missing', 'application/merge-patch+json', {}), 404, 'NotFound');
    });
  });

  it('list: label and field selectors, namespaces, limit/continue with remainingItemCount', async () => {
    await withCore(async (core) => {
      await core.client.create(R.namespaces, undefined, { metadata: { name: 'other' } } as KubeObject);
      for (let i = 0; i < 7; i++) await core.client.create(R.pods, i < 5 ? 'default' : 'other', pod(`p${i}`, { app: i % 2 ? 'odd' : 'even', ...(i === 3 ? { canary: 'true' } : {}) }));
      await core.client.create(R.pods, 'default', { metadata: { name: 'p1' }, target: { name: 'n1' } } as KubeObject, { subresource: 'binding', name: 'p1' });
      const names = async (ns: string | undefined, o: object) => (await core.client.list(R.pods, ns, o)).items.map((p) => p.metadata!.name).join(',');
      assert.equal(await names('default', {}), 'p0,p1,p2,p3,p4');
      assert.equal(await names(undefined, {}), 'p0,p1,p2,p3,p4,p5,p6');
      assert.equal(await names(undefined, { labelSelector: 'app=odd' }), 'p1,p3,p5');
      assert.equal(await names(undefined, { labelSelector: 'app==odd,!canary' }), 'p1,p5');
      assert.equal(await names(undefined, { labelSelector: 'app in (odd),canary' }), 'p3');
      assert.equal(await names(undefined, { labelSelector: 'app notin (odd)' }), 'p0,p2,p4,p6');
      assert.equal(await names(undefined, { labelSelector: 'app!=odd' }), 'p0,p2,p4,p6');
      assert.equal(await names(undefined, { fieldSelector: 'metadata.name=p2' }), 'p2');
      assert.equal(await names(undefined, { fieldSelector: 'metadata.namespace=other' }), 'p5,p6');
      assert.equal(await names(undefined, { fieldSelector: 'spec.nodeName=n1' }), 'p1');
      assert.equal(await names('default', { fieldSelector: 'spec.nodeName=,status.phase=Pending' }), 'p0,p2,p3,p4');
      await rejects(core.client.list(R.pods, undefined, { fieldSelector: 'spec.bogus=1' }), 400, 'BadRequest', 'field label not supported: spec.bogus');
      await rejects(core.client.list(R.pods, undefined, { labelSelector: 'a in b' }), 400, 'BadRequest', "found 'b', expected: '('");
      const pg1 = await core.client.list(R.pods, undefined, { limit: 3 });
      assert.equal(pg1.items.length, 3);
      assert.equal(pg1.metadata.remainingItemCount, 4);
      const pg2 = await core.client.list(R.pods, undefined, { limit: 3, continue: pg1.metadata.continue });
      const pg3 = await core.client.list(R.pods, undefined, { limit: 3, continue: pg2.metadata.continue });
      assert.equal(pg3.metadata.continue, undefined);
      assert.deepEqual([...pg1.items, ...pg2.items, ...pg3.items].map((p) => p.metadata!.name), ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
      await rejects(core.client.list(R.pods, undefined, { continue: 'garbage' }), 400, 'BadRequest');
    });
  });

  it('deletecollection with a selector', async () => {
    await withCore(async (core) => {
      for (let i = 0; i < 4; i++) await core.client.create(R.configmaps, 'default', { metadata: { name: `c${i}`, labels: { g: String(i % 2) } } } as KubeObject);
      const res = await core.client.deleteCollection(R.configmaps, 'default', { labelSelector: 'g=1' });
      assert.deepEqual(res.items.map((c) => c.metadata!.name), ['c1', 'c3']);
      assert.deepEqual((await core.client.list(R.configmaps, 'default')).items.map((c) => c.metadata!.name), ['c0', 'c2']);
    });
  });

  it('watch: events after an RV in order, selector transitions, initial state, 410, bookmarks, timeout', async () => {
    await withCore(async (core) => {
      const start = (await core.client.list(R.pods, 'default')).metadata.resourceVersion!;
      await core.client.create(R.pods, 'default', pod('a', { app: 'x' }));
      const all = collect(core, R.pods, 'default', { resourceVersion: start });
      const sel = collect(core, R.pods, 'default', { resourceVersion: start, labelSelector: 'app=x' });
      await core.client.patch(R.pods, 'default', 'a', 'application/merge-patch+json', { metadata: { labels: { app: 'y' } } });
      await core.client.patch(R.pods, 'default', 'a', 'application/merge-patch+json', { metadata: { labels: { app: 'x' } } });
      await core.client.delete(R.pods, 'default', 'a');
      await tick();
      assert.deepEqual(all.events.map((e) => e.type), ['ADDED', 'MODIFIED', 'MODIFIED', 'DELETED']);
      assert.deepEqual(sel.events.map((e) => e.type), ['ADDED', 'DELETED', 'ADDED', 'DELETED']);
      const rvs = all.events.map((e) => Number(e.object.metadata!.resourceVersion));
      assert.deepEqual(rvs, [...rvs].sort((a, b) => a - b));
      all.h.stop(); sel.h.stop();
      await all.h.done;

      await core.client.create(R.pods, 'default', pod('b'));
      const init = collect(core, R.pods, 'default', { resourceVersion: '0' });
      await tick();
      assert.deepEqual(init.events.map((e) => [e.type, e.object.metadata!.name]), [['ADDED', 'b']]);
      init.h.stop();
      const fromNow = collect(core, R.pods, 'default', {});
      await tick();
      assert.equal(fromNow.events.length, 0);
      fromNow.h.stop();
      assert.equal(core.registry.watchCount(), 0);
    });

    await withCore(async (core) => {
      const start = core.registry.revision();
      for (let i = 0; i < 20; i++) await core.client.create(R.configmaps, 'default', { metadata: { name: `c${i}` } } as KubeObject);
      const w = collect(core, R.configmaps, 'default', { resourceVersion: String(start) });
      await assert.rejects(w.h.done, (e: unknown) => e instanceof ApiError && e.code === 410 && /^too old resource version/.test(e.message));
      assert.equal(w.events[0]?.type, 'ERROR');
      assert.equal((w.events[0].object as unknown as { code: number }).code, 410);

      // Explicit compaction: a watch from before the compacted revision gets 410 too.
      const before = core.registry.revision();
      await core.client.create(R.configmaps, 'default', { metadata: { name: 'late' } } as KubeObject);
      const ok = collect(core, R.configmaps, 'default', { resourceVersion: String(before) });
      await tick();
      assert.deepEqual(ok.events.map((e) => e.object.metadata?.name), ['late']);
      ok.h.stop();
      await core.registry.compact(core.registry.revision());
      const old = collect(core, R.configmaps, 'default', { resourceVersion: String(before) });
      await assert.rejects(old.h.done, (e: unknown) => e instanceof ApiError && e.code === 410);

      const b = collect(core, R.configmaps, 'default', { resourceVersion: String(core.registry.revision()), allowWatchBookmarks: true, timeoutSeconds: 0.2 });
      await b.h.done;
      assert.ok(b.events.some((e) => e.type === 'BOOKMARK' && e.object.metadata?.resourceVersion === String(core.registry.revision())));
    }, { watchCacheSize: 8, bookmarkIntervalMs: 50 });
  });

  it('many concurrent watchers share one storage watch and all see every write', async () => {
    await withCore(async (core) => {
      const rv = String(core.registry.revision());
      const ws = Array.from({ length: 200 }, () => collect(core, R.services, undefined, { resourceVersion: rv }));
      for (let i = 0; i < 10; i++) await core.client.create(R.services, 'default', svc(`s${i}`));
      await tick();
      for (const w of ws) assert.equal(w.events.length, 10);
      for (const w of ws) w.h.stop();
    });
  });
});

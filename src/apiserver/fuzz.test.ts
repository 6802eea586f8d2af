/**
 * Property test: random and malformed objects and patches thrown at the create, update and patch
 * paths always end in either success or an ApiError carrying a Kubernetes Status — never another
 * exception type, never a crash, never a 500 (bad input is the client's error: 4xx) — and the
 * core keeps serving afterwards.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { ApiError } from '../api/errors.js';
import type { KubeObject } from '../api/object.js';
import { ALL_RESOURCES, R, type ResourceInfo } from '../api/resources.js';
import type { PatchType } from '../api/requests.js';
import { MemoryStorage } from '../storage/memory.js';
import { createApiCore } from './core.js';

const PATCH_TYPES: PatchType[] = ['application/merge-patch+json', 'application/json-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];

const seeds: Record<string, KubeObject> = {
  services: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc' }, spec: { selector: { app: 'a' }, ports: [{ port: 80 }] } } as KubeObject,
  pods: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'pod' }, spec: { containers: [{ name: 'c', image: 'busybox', ports: [{ containerPort: 80 }] }] } } as KubeObject,
  deployments: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'dep' }, spec: { replicas: 1, selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } } } as KubeObject,
  endpointslices: { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'es' }, addressType: 'IPv4', endpoints: [{ addresses: ['10.244.0.5'] }], ports: [{ port: 80 }] } as KubeObject,
};

/** Sets `value` at a random path of a deep copy of `obj`. */
function mutate(obj: unknown, path: string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const o = (obj !== null && typeof obj === 'object' ? structuredClone(obj) : {}) as Record<string, unknown>;
  const keys = Object.keys(o);
  const k = keys.length && path[0].startsWith('#') ? keys[path[0].length % keys.length] : path[0];
  o[k] = mutate(o[k], path.slice(1), value);
  return o;
}

it('random/malformed bodies at create, update and patch: success or ApiError with a Status, never a crash', async (t) => {
  const storage = new MemoryStorage();
  const core = await createApiCore({ storage });
  t.after(async () => { await core.close(); await storage.close(); });
  for (const [plural, seed] of Object.entries(seeds)) {
    const info = (R as Record<string, ResourceInfo>)[plural];
    try { await core.client.create(info, 'default', seed); } catch { /* validation may refuse a seed; fine */ }
  }
  const status = { ok: 0, errors: new Map<number, number>() };
  const check = async (p: Promise<unknown>) => {
    try {
      await p;
      status.ok++;
    } catch (e) {
      assert.ok(e instanceof ApiError, `not an ApiError: ${e instanceof Error ? e.stack : String(e)}`);
      const s = e.toStatus();
      assert.equal(s.kind, 'Status');
      assert.equal(s.status, 'Failure');
      assert.ok(s.code >= 400 && s.code < 500, `expected a client error, got ${s.code}: ${s.message}`);
      assert.equal(typeof s.message, 'string');
      JSON.stringify(s);
      status.errors.set(s.code, (status.errors.get(s.code) ?? 0) + 1);
    }
  };
  const resource = fc.constantFrom(...ALL_RESOURCES);
  const seedName = fc.constantFrom(...Object.keys(seeds));
  const path = fc.array(fc.oneof(fc.constantFrom('metadata', 'spec', 'status', 'name', 'labels', 'ports', 'containers', 'selector', 'apiVersion', 'kind', 'finalizers', '0'), fc.string({ maxLength: 3 }).map((s) => `#${s}`)), { maxLength: 5 });
  const value = fc.jsonValue({ maxDepth: 3 });

  await fc.assert(fc.asyncProperty(
    fc.oneof(
      // A completely random body at create/update.
      fc.record({ kind: fc.constant('raw' as const), res: resource, body: fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.anything({ maxDepth: 3 })), update: fc.boolean() }),
      // A valid object with one field replaced by a random value.
      fc.record({ kind: fc.constant('mutated' as const), seed: seedName, path, value, update: fc.boolean() }),
      // A random patch of a random type on an existing object.
      fc.record({ kind: fc.constant('patch' as const), seed: seedName, type: fc.constantFrom(...PATCH_TYPES), patch: fc.oneof(value, fc.array(fc.record({ op: fc.constantFrom('add', 'remove', 'replace', 'move', 'copy', 'test', 'bogus'), path: fc.constantFrom('/spec', '/metadata/name', '/spec/ports/0', '/x/y', '', '/status'), value, from: fc.constantFrom('/spec', '/metadata') }, { requiredKeys: ['op', 'path'] }), { maxLength: 3 }), fc.string()), sub: fc.constantFrom(undefined, 'status' as const, 'scale' as const) }),
    ),
    async (c) => {
      if (c.kind === 'raw') {
        await check(c.update ? core.client.update(c.res, 'default', c.body as KubeObject) : core.client.create(c.res, 'default', c.body as KubeObject));
      } else if (c.kind === 'mutated') {
        const info = (R as Record<string, ResourceInfo>)[c.seed];
        const body = mutate(seeds[c.seed], c.path, c.value) as KubeObject;
        await check(c.update ? core.client.update(info, 'default', body) : core.client.create(info, 'default', body, { dryRun: 'All' }));
      } else {
        const info = (R as Record<string, ResourceInfo>)[c.seed];
        const name = seeds[c.seed].metadata!.name!;
        await check(core.client.patch(info, 'default', name, c.type, c.patch, { subresource: c.sub, dryRun: 'All' }));
      }
    },
  ), { numRuns: 600 });
  // Still serving.
  const list = await core.client.list(R.namespaces, undefined);
  assert.equal(list.items.length, 4);
  t.diagnostic(`ok=${status.ok} errors=${JSON.stringify([...status.errors])}`);
});

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Event as KubeEvent, Service } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../../api/errors.js';
import { R } from '../../api/resources.js';
import { MemoryStorage } from '../../storage/memory.js';
import { SqliteStorage } from '../../storage/sqlite.js';
import { createApiCore } from '../core.js';
import { objectStorageKey } from '../registry/keys.js';

const svc = (name: string, ns = 'default', clusterIP?: string): Service => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns },
  spec: { selector: { app: name }, ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }], ...(clusterIP ? { clusterIP } : {}) },
});

async function err(p: Promise<unknown>): Promise<ApiError> {
  try { await p; } catch (e) { assert.ok(e instanceof ApiError); return e; }
  assert.fail('expected an error');
}

describe('ClusterIP allocation through the API', () => {
  it('allocates, mirrors clusterIPs, honours requests, rejects with Kubernetes wording, headless gets none', async (t) => {
    const storage = new MemoryStorage();
    const core = await createApiCore({ storage });
    t.after(async () => { await core.close(); await storage.close(); });
    const c = core.client;
    const s = await c.create<Service>(R.services, 'default', svc('web'));
    assert.match(s.spec!.clusterIP!, /^10\.(9[6-9]|10[0-9]|11[01])\.\d+\.\d+$/);
    assert.deepEqual(s.spec!.clusterIPs, [s.spec!.clusterIP]);
    assert.equal(core.allocator.has(s.spec!.clusterIP!), true);
    const fixed = await c.create<Service>(R.services, 'default', svc('fixed', 'default', '10.96.100.100'));
    assert.equal(fixed.spec!.clusterIP, '10.96.100.100');
    const dup = await err(c.create(R.services, 'default', svc('dup', 'default', '10.96.100.100')));
    assert.equal(dup.code, 422);
    assert.equal(dup.message, 'Service "dup" is invalid: spec.clusterIPs: Invalid value: ["10.96.100.100"]: failed to allocate IP 10.96.100.100: provided IP is already allocated');
    assert.equal(dup.details?.causes?.[0].field, 'spec.clusterIPs');
    const out = await err(c.create(R.services, 'default', svc('out', 'default', '1.1.1.1')));
    assert.equal(out.message, 'Service "out" is invalid: spec.clusterIPs: Invalid value: ["1.1.1.1"]: failed to allocate IP 1.1.1.1: the provided IP (1.1.1.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12');
    const headless = await c.create<Service>(R.services, 'default', svc('hl', 'default', 'None'));
    assert.equal(headless.spec!.clusterIP, 'None');
    assert.deepEqual(headless.spec!.clusterIPs, ['None']);
    // Reserved addresses.
    assert.equal((await err(c.create(R.services, 'default', svc('squat', 'default', '10.96.0.10')))).code, 422);
    const k = await c.create<Service>(R.services, 'default', svc('kubernetes', 'default', '10.96.0.1'));
    assert.equal(k.spec!.clusterIP, '10.96.0.1');
    const dns = await c.create<Service>(R.services, 'kube-system', svc('kube-dns', 'kube-system', '10.96.0.10'));
    assert.equal(dns.spec!.clusterIP, '10.96.0.10');
    // Update without clusterIP keeps it; failed create (already exists) releases its IP.
    const upd = await c.update<Service>(R.services, 'default', { ...s, spec: { ...s.spec!, clusterIP: undefined, clusterIPs: undefined } });
    assert.equal(upd.spec!.clusterIP, s.spec!.clusterIP);
    const moved = await err(c.update(R.services, 'default', { ...upd, spec: { ...upd.spec!, clusterIP: '10.96.200.200', clusterIPs: ['10.96.200.200'] } }));
    assert.equal(moved.code, 422);
    assert.equal(core.allocator.has('10.96.200.200'), false);
    const used = core.allocator.usedCount;
    assert.equal((await err(c.create(R.services, 'default', svc('web')))).reason, 'AlreadyExists');
    assert.equal(core.allocator.usedCount, used, 'a failed create leaks no IP');
    await c.create(R.services, 'default', svc('dry'), { dryRun: 'All' });
    assert.equal(core.allocator.usedCount, used, 'dry run leaks no IP');
    // Delete releases.
    await c.delete(R.services, 'default', 'fixed');
    assert.equal(core.allocator.has('10.96.100.100'), false);
    await c.create(R.services, 'default', svc('fixed2', 'default', '10.96.100.100'));
  });

  it('500 concurrent creates get 500 distinct IPs; delete/recreate cycles leak nothing', async (t) => {
    const storage = new MemoryStorage();
    const core = await createApiCore({ storage });
    t.after(async () => { await core.close(); await storage.close(); });
    const created = await Promise.all(Array.from({ length: 500 }, (_, i) => core.client.create<Service>(R.services, 'default', svc(`s${i}`))));
    const ips = new Set(created.map((s) => s.spec!.clusterIP));
    assert.equal(ips.size, 500);
    assert.equal(core.allocator.usedCount, 500);
    for (let round = 0; round < 3; round++) {
      await Promise.all(created.slice(0, 100).map((s) => core.client.delete(R.services, 'default', s.metadata!.name!)));
      assert.equal(core.allocator.usedCount, 400);
      await Promise.all(created.slice(0, 100).map((s) => core.client.create(R.services, 'default', svc(s.metadata!.name!))));
      assert.equal(core.allocator.usedCount, 500);
    }
    const list = await core.client.list<Service>(R.services, 'default');
    assert.equal(new Set(list.items.map((s) => s.spec!.clusterIP)).size, 500);
    for (const s of list.items) assert.ok(core.allocator.has(s.spec!.clusterIP!));
  });

  it('restart rebuilds the allocator from stored Services; duplicates become Warning events', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'cip-alloc-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'state.db');
    let storage = new SqliteStorage(path);
    let core = await createApiCore({ storage });
    const a = await core.client.create<Service>(R.services, 'default', svc('a'));
    await core.client.create<Service>(R.services, 'default', svc('b'));
    await core.close();
    // Simulate corruption: a second Service stored with a's IP (bypassing the allocator).
    const dupe = { ...svc('z-dupe'), metadata: { name: 'z-dupe', namespace: 'default', uid: 'u-dupe', creationTimestamp: '2999-01-01T00:00:00Z' }, spec: { ...svc('z').spec, clusterIP: a.spec!.clusterIP, clusterIPs: [a.spec!.clusterIP!] } };
    await storage.create(objectStorageKey(R.services, 'default', 'z-dupe'), JSON.stringify(dupe));
    await storage.close();

    storage = new SqliteStorage(path);
    core = await createApiCore({ storage });
    t.after(async () => { await core.close(); await storage.close(); });
    const list = await core.client.list<Service>(R.services, 'default');
    for (const s of list.items) assert.ok(core.allocator.has(s.spec!.clusterIP!), `${s.metadata!.name} IP tracked after restart`);
    assert.equal(core.allocator.usedCount, 2);
    const evs = await core.client.list<KubeEvent>(R.events, 'default', { fieldSelector: 'involvedObject.name=z-dupe' });
    assert.equal(evs.items.length, 1);
    assert.equal(evs.items[0].reason, 'ClusterIPAlreadyAllocated');
    assert.equal(evs.items[0].type, 'Warning');
    // New allocations never collide with the restored ones.
    const c = await core.client.create<Service>(R.services, 'default', svc('c'));
    assert.ok(!list.items.some((s) => s.spec!.clusterIP === c.spec!.clusterIP));
    // Deleting the duplicate must not free the IP its first owner still uses.
    await core.client.delete(R.services, 'default', 'z-dupe');
    assert.equal(core.allocator.ownerOf(a.spec!.clusterIP!), 'default/a');
  });
});

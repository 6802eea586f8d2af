import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Event as KubeEvent, Service } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../../api/errors.js';
import { R } from '../../api/resources.js';
import { MemoryStorage } from '../../storage/memory.js';
import { createApiCore } from '../core.js';
import { NODEPORT_PREFIX } from './claims.js';
import { objectStorageKey } from '../registry/keys.js';

type Spec = NonNullable<Service['spec']>;
const svc = (name: string, spec: Partial<Spec> = {}): Service => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' },
  spec: { type: 'NodePort', selector: { app: name }, ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }], ...spec },
});

async function err(p: Promise<unknown>): Promise<ApiError> {
  try { await p; } catch (e) { assert.ok(e instanceof ApiError, String(e)); return e; }
  assert.fail('expected an error');
}

async function core(t: { after(fn: () => Promise<void>): void }, storage = new MemoryStorage(), opts: { nodePortRange?: string } = {}) {
  const c = await createApiCore({ storage, ...opts });
  t.after(async () => { await c.close(); });
  return c;
}

describe('NodePort allocation through the API', () => {
  it('allocates from the range, refuses a taken port with Kubernetes\' 422 and frees ports on delete', async (t) => {
    const api = await core(t);
    const c = api.client;
    const a = await c.create<Service>(R.services, 'default', svc('a'));
    const np = a.spec!.ports![0]!.nodePort!;
    assert.ok(np >= 30000 && np <= 32767, String(np));
    assert.equal(api.nodePortAllocator.has(np), true);
    const fixed = await c.create<Service>(R.services, 'default', svc('fixed', { ports: [{ port: 80, protocol: 'TCP', targetPort: 80, nodePort: 30080 }] }));
    assert.equal(fixed.spec!.ports![0]!.nodePort, 30080);
    const dup = await err(c.create(R.services, 'default', svc('dup', { ports: [{ port: 80, protocol: 'TCP', targetPort: 80, nodePort: 30080 }] })));
    assert.equal(dup.code, 422);
    assert.equal(dup.message, 'Service "dup" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated');
    assert.equal(dup.details?.causes?.[0]?.field, 'spec.ports[0].nodePort');
    const out = await err(c.create(R.services, 'default', svc('out', { ports: [{ port: 80, protocol: 'TCP', targetPort: 80, nodePort: 8080 }] })));
    assert.equal(out.message, 'Service "out" is invalid: spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767');
    // A failed create (the name exists) gives back what it took.
    const used = api.nodePortAllocator.usedCount;
    assert.equal((await err(c.create(R.services, 'default', svc('a')))).reason, 'AlreadyExists');
    assert.equal(api.nodePortAllocator.usedCount, used);
    // A dry run claims nothing.
    await c.create(R.services, 'default', svc('dry', { ports: [{ port: 80, protocol: 'TCP', targetPort: 80, nodePort: 30090 }] }), { dryRun: 'All' });
    assert.equal(api.nodePortAllocator.has(30090), false);
    await c.delete(R.services, 'default', 'fixed');
    assert.equal(api.nodePortAllocator.has(30080), false);
    await c.create(R.services, 'default', svc('again', { ports: [{ port: 80, protocol: 'TCP', targetPort: 80, nodePort: 30080 }] }));
  });

  it('TCP and UDP of one port share a NodePort; two ports get two; ClusterIP Services get none', async (t) => {
    const api = await core(t);
    const s = await api.client.create<Service>(R.services, 'default', svc('dns', {
      ports: [{ name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 }, { name: 'dns-udp', port: 53, protocol: 'UDP', targetPort: 53 }, { name: 'm', port: 9153, protocol: 'TCP', targetPort: 9153 }],
    }));
    const [tcp, udp, m] = s.spec!.ports!.map((p) => p.nodePort!);
    assert.equal(tcp, udp);
    assert.notEqual(tcp, m);
    const plain = await api.client.create<Service>(R.services, 'default', svc('plain', { type: 'ClusterIP' }));
    assert.equal(plain.spec!.ports![0]!.nodePort, undefined);
    const bad = await err(api.client.create(R.services, 'default', svc('bad', { type: 'ClusterIP', ports: [{ port: 80, protocol: 'TCP', targetPort: 80, nodePort: 30100 }] })));
    assert.match(bad.message, /spec\.ports\[0\]\.nodePort: Forbidden: may not be used when `type` is 'ClusterIP'/);
  });

  it('updates keep omitted NodePorts, allocate new ports, release dropped ones; type ClusterIP drops them', async (t) => {
    const api = await core(t);
    const c = api.client;
    const s = await c.create<Service>(R.services, 'default', svc('web', { ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 80 }] }));
    const np = s.spec!.ports![0]!.nodePort!;
    // An apply of the manifest without nodePort keeps it.
    const kept = await c.update<Service>(R.services, 'default', { ...s, spec: { ...s.spec!, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 80 }, { name: 'https', port: 443, protocol: 'TCP', targetPort: 443 }] } });
    assert.equal(kept.spec!.ports![0]!.nodePort, np);
    const np2 = kept.spec!.ports![1]!.nodePort!;
    assert.ok(api.nodePortAllocator.has(np2));
    const fewer = await c.update<Service>(R.services, 'default', { ...kept, spec: { ...kept.spec!, ports: [kept.spec!.ports![1]!] } });
    assert.deepEqual(fewer.spec!.ports!.map((p) => p.nodePort), [np2]);
    assert.equal(api.nodePortAllocator.has(np), false, 'the dropped port is free again');
    // kubectl patch -p '{"spec":{"type":"ClusterIP"}}': the nodePorts go with the type.
    const patched = await c.patch<Service>(R.services, 'default', 'web', 'application/merge-patch+json', { spec: { type: 'ClusterIP' } });
    assert.equal(patched.spec!.ports![0]!.nodePort, undefined);
    assert.equal(patched.spec!.externalTrafficPolicy, undefined);
    assert.equal(api.nodePortAllocator.has(np2), false);
    // And back: a new one is allocated.
    const back = await c.patch<Service>(R.services, 'default', 'web', 'application/merge-patch+json', { spec: { type: 'NodePort' } });
    assert.ok(back.spec!.ports![0]!.nodePort! >= 30000);
    assert.equal(back.spec!.externalTrafficPolicy, 'Cluster');
  });

  it('LoadBalancer: NodePorts unless allocateLoadBalancerNodePorts is false; a healthCheckNodePort with externalTrafficPolicy Local', async (t) => {
    const api = await core(t);
    const c = api.client;
    const lb = await c.create<Service>(R.services, 'default', svc('lb', { type: 'LoadBalancer', externalTrafficPolicy: 'Local' }));
    assert.ok(lb.spec!.ports![0]!.nodePort);
    assert.equal(lb.spec!.allocateLoadBalancerNodePorts, true);
    const hc = lb.spec!.healthCheckNodePort!;
    assert.ok(hc >= 30000 && hc !== lb.spec!.ports![0]!.nodePort);
    assert.ok(api.nodePortAllocator.has(hc));
    const none = await c.create<Service>(R.services, 'default', svc('lb2', { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false }));
    assert.equal(none.spec!.ports![0]!.nodePort, undefined);
    assert.equal(none.spec!.healthCheckNodePort, undefined);
    // Back to Cluster policy: the health check port is released.
    const cl = await c.patch<Service>(R.services, 'default', 'lb', 'application/merge-patch+json', { spec: { externalTrafficPolicy: 'Cluster' } });
    assert.equal(cl.spec!.healthCheckNodePort, undefined);
    assert.equal(api.nodePortAllocator.has(hc), false);
    const wrong = await err(c.create(R.services, 'default', svc('np-hc', { healthCheckNodePort: 30500 })));
    assert.match(wrong.message, /spec\.healthCheckNodePort: Invalid value: 30500: may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'/);
    const ranges = await err(c.create(R.services, 'default', svc('np-r', { loadBalancerSourceRanges: ['10.0.0.0/8'] })));
    assert.match(ranges.message, /spec\.LoadBalancerSourceRanges: Forbidden: may only be used when `type` is 'LoadBalancer'/);
    const badRange = await err(c.create(R.services, 'default', svc('lb-r', { type: 'LoadBalancer', loadBalancerSourceRanges: ['10.0.0.0/33'] })));
    assert.match(badRange.message, /must be a list of IP ranges/);
    await c.delete(R.services, 'default', 'lb');
    assert.equal(api.nodePortAllocator.usedCount, 0);
  });

  it('a full range answers 500 "failed to allocate a nodePort: range is full"', async (t) => {
    const api = await core(t, new MemoryStorage(), { nodePortRange: '30000-30001' });
    await api.client.create(R.services, 'default', svc('a'));
    await api.client.create(R.services, 'default', svc('b'));
    const ips = api.allocator.usedCount;
    const full = await err(api.client.create(R.services, 'default', svc('c')));
    assert.equal(full.code, 500);
    assert.equal(full.message, 'Internal error occurred: failed to allocate a nodePort: range is full');
    assert.equal(api.allocator.usedCount, ips, 'the ClusterIP taken for the failed create is given back');
  });

  it('claims in storage: two API servers on one store never hand out one NodePort twice', async (t) => {
    const storage = new MemoryStorage();
    const one = await core(t, storage, { nodePortRange: '30000-30199' });
    const two = await core(t, storage, { nodePortRange: '30000-30199' });
    const made = await Promise.all(Array.from({ length: 150 }, (_, i) => (i % 2 ? one : two).client.create<Service>(R.services, 'default', svc(`s${i}`))));
    const ports = made.map((s) => s.spec!.ports![0]!.nodePort!);
    assert.equal(new Set(ports).size, 150);
    // A port one server allocated is refused by the other.
    const taken = ports[0]!;
    const e = await err(one.client.create(R.services, 'default', svc('x', { ports: [{ port: 80, protocol: 'TCP', targetPort: 80, nodePort: taken }] })));
    assert.equal(e.message, `Service "x" is invalid: spec.ports[0].nodePort: Invalid value: ${taken}: provided port is already allocated`);
    assert.equal((await storage.list(NODEPORT_PREFIX)).items.length, 150);
  });

  it('repair at start: claims come back from the stored Services; a duplicate is reported as an Event', async (t) => {
    const storage = new MemoryStorage();
    const first = await createApiCore({ storage });
    await first.client.create(R.services, 'default', svc('a', { ports: [{ port: 80, protocol: 'TCP', targetPort: 80, nodePort: 30123 }] }));
    await first.close();
    // A second Service with the same NodePort, written behind the API's back (a restored backup).
    const b = svc('b', { ports: [{ port: 80, protocol: 'TCP', targetPort: 80, nodePort: 30123 }] });
    b.metadata = { ...b.metadata, creationTimestamp: '2030-01-01T00:00:00Z' };
    b.spec!.clusterIP = '10.96.7.7';
    b.spec!.clusterIPs = ['10.96.7.7'];
    await storage.create(objectStorageKey(R.services, 'default', 'b'), JSON.stringify(b));
    for (const kv of (await storage.list(NODEPORT_PREFIX)).items) await storage.delete(kv.key);
    const api = await core(t, storage);
    assert.equal(api.nodePortAllocator.ownerOf(30123), 'default/a');
    const events = await api.client.list<KubeEvent>(R.events, 'default');
    const ev = events.items.find((x) => x.reason === 'PortAlreadyAllocated');
    assert.equal(ev?.involvedObject?.name, 'b');
    assert.equal(ev?.message, 'Port 30123 was assigned to multiple services; please recreate service');
  });
});

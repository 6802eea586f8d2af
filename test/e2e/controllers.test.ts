/**
 * Controllers against the real in-process API core (MemoryStorage): the test plays the node agent.
 * Asserts EndpointSlices, Endpoints, Deployment status and rolling update, StatefulSet order,
 * scheduling, garbage collection, namespace deletion and events.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoints, Event, Namespace, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Deployment, ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import { isNotFound } from '../../src/api/errors.js';
import { R } from '../../src/api/resources.js';
import { formatEndpoints } from '../../src/controllers/endpoints/reconcile.js';
import { setup } from './controllers-harness.js';

const ready = (e: { conditions?: { ready?: boolean } }) => e.conditions?.ready === true;

function podSpec(name: string, labels: Record<string, string>, ports = [{ name: 'http', containerPort: 8080 }]): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { containers: [{ name: 'c', image: 'nginx', ports }] } };
}

test('Service + Pods: scheduler binds, EndpointSlice and Endpoints follow readiness, deletes follow the Service', async (t) => {
  const h = await setup(t);
  const { client, ns } = h;
  await client.create<Service>(R.services, ns, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } });
  for (const n of ['a', 'b', 'c']) await client.create(R.pods, ns, podSpec(n, { app: 'web' }));
  await client.create(R.pods, ns, podSpec('other', { app: 'other' }));
  // Placeholder slice first (no endpoints yet); Endpoints <none>.
  await h.waitFor('placeholder slice', async () => {
    const s = await h.list<EndpointSlice>(R.endpointslices, 'kubernetes.io/service-name=web');
    return s.length === 1 && (s[0].endpoints ?? []).length === 0;
  });
  const bound = await h.waitFor('pods bound', async () => {
    const pods = await h.list<Pod>(R.pods);
    return pods.every((p) => p.spec?.nodeName === h.node) && pods;
  });
  assert.equal(bound.length, 4);
  const scheduled = await h.waitFor('Scheduled event', async () => (await h.list<Event>(R.events)).find((e) => e.reason === 'Scheduled' && e.involvedObject.name === 'a'));
  assert.equal(scheduled.message, `Successfully assigned ${ns}/a to ${h.node}`);
  assert.equal(scheduled.source?.component, 'default-scheduler');
  assert.equal(scheduled.involvedObject.kind, 'Pod');
  assert.equal(scheduled.involvedObject.apiVersion, 'v1');

  await h.setReady('a', true, '10.244.0.11');
  await h.setReady('b', true, '10.244.0.12');
  await h.setReady('c', false, '10.244.0.13');
  const slice = await h.waitFor('slice with 3 endpoints', async () => {
    const s = await h.list<EndpointSlice>(R.endpointslices, 'kubernetes.io/service-name=web');
    return s.length === 1 && s[0].endpoints?.length === 3 && s[0].endpoints.filter(ready).length === 2 && s[0];
  });
  assert.equal(slice.metadata?.labels?.['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
  assert.ok(slice.metadata?.name?.startsWith('web-'));
  assert.deepEqual(slice.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  assert.ok(slice.metadata?.annotations?.['endpoints.kubernetes.io/last-change-trigger-time']);
  assert.equal(slice.metadata?.ownerReferences?.[0].kind, 'Service');
  const ep = await h.waitFor('endpoints', async () => {
    const e = await client.get<Endpoints>(R.endpoints, ns, 'web');
    return e.subsets?.[0]?.addresses?.length === 2 && e;
  });
  assert.equal(formatEndpoints(ep), '10.244.0.11:8080,10.244.0.12:8080');
  assert.deepEqual(ep.subsets?.[0].notReadyAddresses?.map((a) => a.ip), ['10.244.0.13']);

  // Steady state: no extra writes to the slice.
  await h.controllers.idle();
  const before = (await client.get<EndpointSlice>(R.endpointslices, ns, slice.metadata!.name!)).metadata?.resourceVersion;
  await client.create(R.pods, ns, podSpec('other2', { app: 'other' }));
  await h.controllers.idle();
  assert.equal((await client.get<EndpointSlice>(R.endpointslices, ns, slice.metadata!.name!)).metadata?.resourceVersion, before);

  // Readiness change → the same slice updated.
  await h.setReady('c', true);
  await h.waitFor('c ready in slice', async () => {
    const s = await client.get<EndpointSlice>(R.endpointslices, ns, slice.metadata!.name!);
    return s.endpoints?.filter(ready).length === 3;
  });
  await client.delete(R.services, ns, 'web');
  await h.waitFor('slices and endpoints gone', async () => {
    const s = await h.list<EndpointSlice>(R.endpointslices, 'kubernetes.io/service-name=web');
    if (s.length) return false;
    try { await client.get(R.endpoints, ns, 'web'); return false; } catch (e) { return isNotFound(e); }
  });
});

test('Deployment: ReplicaSet + Pods, status and conditions, rolling update to a new template, GC on delete', async (t) => {
  const h = await setup(t);
  const { client, ns } = h;
  const autoReady = setInterval(async () => {
    try {
      for (const p of await h.list<Pod>(R.pods)) {
        if (p.spec?.nodeName && !p.metadata?.deletionTimestamp && p.status?.phase !== 'Running') await h.setReady(p.metadata!.name!, true);
      }
    } catch { /* the namespace may be going away */ }
  }, 20);
  t.after(() => clearInterval(autoReady));
  const tpl = (image: string) => ({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image }] } });
  await client.create<Deployment>(R.deployments, ns, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' },
    spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: tpl('nginx:1') } });
  const d1 = await h.waitFor('deployment available', async () => {
    const d = await client.get<Deployment>(R.deployments, ns, 'web');
    return d.status?.availableReplicas === 3 && d.status.readyReplicas === 3 && d.status.updatedReplicas === 3 &&
      d.status.conditions?.find((c) => c.type === 'Progressing')?.reason === 'NewReplicaSetAvailable' && d;
  });
  assert.equal(d1.status?.observedGeneration, d1.metadata?.generation);
  assert.equal(d1.status?.conditions?.find((c) => c.type === 'Available')?.status, 'True');
  assert.equal(d1.metadata?.annotations?.['deployment.kubernetes.io/revision'], '1');
  const rs1 = (await h.list<ReplicaSet>(R.replicasets))[0];
  const hash = rs1.metadata?.labels?.['pod-template-hash'];
  assert.equal(rs1.metadata?.name, `web-${hash}`);
  const pods = await h.list<Pod>(R.pods);
  assert.equal(pods.length, 3);
  for (const p of pods) {
    assert.match(p.metadata!.name!, new RegExp(`^web-${hash}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
    assert.equal(p.metadata?.ownerReferences?.[0].controller, true);
  }
  const evs = await h.waitFor('events', async () => {
    const e = await h.list<Event>(R.events);
    return e.some((x) => x.reason === 'ScalingReplicaSet') && e.filter((x) => x.reason === 'SuccessfulCreate').length === 3 && e;
  });
  assert.ok(evs.some((e) => e.message === `Scaled up replica set web-${hash} to 3`));

  // Rolling update.
  const cur = await client.get<Deployment>(R.deployments, ns, 'web');
  await client.update<Deployment>(R.deployments, ns, { ...cur, spec: { ...cur.spec!, template: tpl('nginx:2') } });
  const d2 = await h.waitFor('rollout complete', async () => {
    const d = await client.get<Deployment>(R.deployments, ns, 'web');
    return d.metadata?.annotations?.['deployment.kubernetes.io/revision'] === '2' && d.status?.updatedReplicas === 3 &&
      d.status.replicas === 3 && d.status.availableReplicas === 3 && d.status.observedGeneration === d.metadata?.generation && d;
  }, 10_000);
  assert.equal(d2.status?.conditions?.find((c) => c.type === 'Progressing')?.reason, 'NewReplicaSetAvailable');
  const rss = await h.list<ReplicaSet>(R.replicasets);
  assert.equal(rss.length, 2);
  assert.deepEqual(rss.map((r) => [r.spec?.template?.spec?.containers[0].image, r.spec?.replicas]).sort(), [['nginx:1', 0], ['nginx:2', 3]]);
  await h.waitFor('old pods gone', async () => (await h.list<Pod>(R.pods)).every((p) => p.spec?.containers[0].image === 'nginx:2'));

  // Scale through the deployment; then delete it: GC removes ReplicaSets and Pods.
  const cur2 = await client.get<Deployment>(R.deployments, ns, 'web');
  await client.update<Deployment>(R.deployments, ns, { ...cur2, spec: { ...cur2.spec!, replicas: 1 } });
  await h.waitFor('scaled to 1', async () => (await h.list<Pod>(R.pods)).filter((p) => !p.metadata?.deletionTimestamp).length === 1);
  await client.delete(R.deployments, ns, 'web', { propagationPolicy: 'Background' });
  await h.waitFor('dependents collected', async () => (await h.list(R.replicasets)).length === 0 && (await h.list(R.pods)).length === 0);
});

test('StatefulSet: web-0 before web-1, identity, scale down from the top', async (t) => {
  const h = await setup(t);
  const { client, ns } = h;
  await client.create<StatefulSet>(R.statefulsets, ns, { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'web' },
    spec: { replicas: 2, serviceName: 'nginx', selector: { matchLabels: { app: 'sts' } },
      template: { metadata: { labels: { app: 'sts' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } } });
  const p0 = await h.waitFor('web-0', async () => {
    const p = await client.get<Pod>(R.pods, ns, 'web-0');
    return p.spec?.nodeName ? p : undefined;
  });
  assert.equal(p0.spec?.hostname, 'web-0');
  assert.equal(p0.spec?.subdomain, 'nginx');
  assert.equal(p0.metadata?.labels?.['statefulset.kubernetes.io/pod-name'], 'web-0');
  await h.controllers.idle();
  assert.deepEqual((await h.list<Pod>(R.pods)).map((p) => p.metadata?.name), ['web-0'], 'web-1 must wait for web-0 to be Ready');
  await h.setReady('web-0', true);
  await h.waitFor('web-1', async () => (await client.get<Pod>(R.pods, ns, 'web-1')).spec?.nodeName);
  await h.setReady('web-1', true);
  await h.waitFor('status', async () => (await client.get<StatefulSet>(R.statefulsets, ns, 'web')).status?.readyReplicas === 2);
  const cur = await client.get<StatefulSet>(R.statefulsets, ns, 'web');
  await client.update<StatefulSet>(R.statefulsets, ns, { ...cur, spec: { ...cur.spec!, replicas: 1 } });
  await h.waitFor('web-1 removed', async () => {
    const names = (await h.list<Pod>(R.pods)).filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata?.name);
    return names.length === 1 && names[0] === 'web-0';
  });
  const evs = await h.waitFor('sts events', async () => {
    const e = await h.list<Event>(R.events);
    return e.some((x) => x.reason === 'SuccessfulDelete') && e;
  });
  assert.ok(evs.some((e) => e.message === 'create Pod web-0 in StatefulSet web successful'));
  assert.ok(evs.some((e) => e.message === 'delete Pod web-1 in StatefulSet web successful'));
});

test('scheduler: nodeSelector that fits nowhere → FailedScheduling; schedules once a node matches', async (t) => {
  const h = await setup(t);
  const { client, ns } = h;
  const p = podSpec('picky', { app: 'x' });
  p.spec!.nodeSelector = { disk: 'ssd' };
  await client.create(R.pods, ns, p);
  const ev = await h.waitFor('FailedScheduling', async () => (await h.list<Event>(R.events)).find((e) => e.reason === 'FailedScheduling'));
  assert.equal(ev.type, 'Warning');
  assert.match(ev.message ?? '', /^0\/1 nodes are available: 1 node\(s\) didn't match Pod's node affinity\/selector\./);
  const node = await client.get(R.nodes, undefined, h.node);
  await client.update(R.nodes, undefined, { ...node, metadata: { ...node.metadata, labels: { ...node.metadata?.labels, disk: 'ssd' } } });
  await h.waitFor('bound', async () => (await client.get<Pod>(R.pods, ns, 'picky')).spec?.nodeName === h.node);
});

test('garbage collector: orphan keeps dependents (refs removed), foreground waits for dependents', async (t) => {
  const h = await setup(t, { enable: ['replicaset', 'garbagecollector', 'scheduler'] });
  const { client, ns } = h;
  const rs = (name: string): ReplicaSet => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name },
    spec: { replicas: 2, selector: { matchLabels: { rs: name } }, template: { metadata: { labels: { rs: name } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } } });
  await client.create(R.replicasets, ns, rs('orph'));
  await h.waitFor('2 pods', async () => (await h.list(R.pods, 'rs=orph')).length === 2);
  await client.delete(R.replicasets, ns, 'orph', { propagationPolicy: 'Orphan' });
  await h.waitFor('rs gone', async () => { try { await client.get(R.replicasets, ns, 'orph'); return false; } catch (e) { return isNotFound(e); } });
  const orphans = await h.waitFor('orphans', async () => {
    const p = await h.list<Pod>(R.pods, 'rs=orph');
    return p.every((x) => !(x.metadata?.ownerReferences ?? []).length) && p;
  });
  assert.equal(orphans.length, 2);

  await client.create(R.replicasets, ns, rs('fg'));
  await h.waitFor('2 fg pods', async () => (await h.list(R.pods, 'rs=fg')).length === 2);
  await client.delete(R.replicasets, ns, 'fg', { propagationPolicy: 'Foreground' });
  await h.waitFor('fg rs and pods gone', async () => {
    const pods = await h.list(R.pods, 'rs=fg');
    try { await client.get(R.replicasets, ns, 'fg'); return false; } catch (e) { return isNotFound(e) && pods.length === 0; }
  });
});

test('namespace deletion empties the namespace and finalizes it', async (t) => {
  const h = await setup(t, { enable: ['namespace', 'endpointslice', 'endpoints'] });
  const { client, ns } = h;
  await client.create<Service>(R.services, ns, { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { selector: { a: 'b' }, ports: [{ port: 80 }] } });
  await client.create(R.configmaps, ns, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' } } as never);
  await h.waitFor('slice', async () => (await h.list(R.endpointslices)).length === 1);
  await client.delete(R.namespaces, undefined, ns);
  await h.waitFor('namespace gone', async () => {
    try { await client.get<Namespace>(R.namespaces, undefined, ns); return false; } catch (e) { return isNotFound(e); }
  }, 10_000);
});

test('restart: new controllers over existing slices, endpoints and deployments write nothing', async (t) => {
  const h = await setup(t);
  const { client, ns } = h;
  await client.create<Service>(R.services, ns, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'r' },
    spec: { selector: { app: 'r' }, ports: [{ port: 80, targetPort: 8080 }] } });
  await client.create<Deployment>(R.deployments, ns, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'r' },
    spec: { replicas: 2, selector: { matchLabels: { app: 'r' } }, template: { metadata: { labels: { app: 'r' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } } });
  const pods = await h.waitFor('2 bound pods', async () => {
    const p = (await h.list<Pod>(R.pods)).filter((x) => x.spec?.nodeName);
    return p.length === 2 && p;
  });
  for (const p of pods) await h.setReady(p.metadata!.name!, true);
  await h.waitFor('deployment ready', async () => (await client.get<Deployment>(R.deployments, ns, 'r')).status?.availableReplicas === 2);
  await h.controllers.idle();
  const snapshot = async () => {
    const out: string[] = [];
    for (const res of [R.endpointslices, R.endpoints, R.deployments, R.replicasets, R.pods]) {
      for (const o of await h.list(res)) out.push(`${res.plural}/${o.metadata?.name}@${o.metadata?.resourceVersion}`);
    }
    return out.sort();
  };
  const before = await snapshot();
  await h.controllers.stop();
  const { startControllers } = await import('../../src/controllers/manager.js');
  const again = await startControllers(client);
  t.after(() => again.stop());
  await again.idle();
  assert.deepEqual(await snapshot(), before);
});

test('EndpointSlice mirroring: a selectorless Service with hand-written Endpoints gets a mirrored slice that follows them', async (t) => {
  const h = await setup(t);
  const { client, ns } = h;
  const managed = 'endpointslice.kubernetes.io/managed-by=endpointslicemirroring-controller.k8s.io';
  const mirrored = async () => h.list<EndpointSlice>(R.endpointslices, `kubernetes.io/service-name=db,${managed}`);
  await client.create<Service>(R.services, ns, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db' }, spec: { ports: [{ port: 5432 }] } });
  await client.create<Endpoints>(R.endpoints, ns, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'db', labels: { tier: 'db' } },
    subsets: [{ addresses: [{ ip: '192.168.1.10' }], notReadyAddresses: [{ ip: '192.168.1.11' }], ports: [{ name: 'pg', port: 5432 }] }] });
  const s = await h.waitFor('mirrored slice', async () => { const l = await mirrored(); return l.length === 1 && l[0]; });
  assert.equal(s.addressType, 'IPv4');
  assert.deepEqual(s.ports, [{ name: 'pg', port: 5432, protocol: 'TCP' }]);
  assert.deepEqual(s.endpoints, [{ addresses: ['192.168.1.10'], conditions: { ready: true } }, { addresses: ['192.168.1.11'], conditions: { ready: false } }]);
  assert.equal(s.metadata?.labels?.tier, 'db');
  assert.equal(s.metadata?.ownerReferences?.[0]?.kind, 'Endpoints');

  // Steady state writes nothing; an edit of the Endpoints updates the same slice.
  await h.controllers.idle();
  const rv = (await client.get<EndpointSlice>(R.endpointslices, ns, s.metadata!.name!)).metadata?.resourceVersion;
  await h.controllers.idle();
  assert.equal((await client.get<EndpointSlice>(R.endpointslices, ns, s.metadata!.name!)).metadata?.resourceVersion, rv);
  const ep = await client.get<Endpoints>(R.endpoints, ns, 'db');
  await client.update<Endpoints>(R.endpoints, ns, { ...ep, subsets: [{ addresses: [{ ip: '192.168.1.12' }], ports: [{ name: 'pg', port: 5432 }] }] });
  await h.waitFor('slice follows the edit', async () => {
    const l = await mirrored();
    return l.length === 1 && l[0].metadata?.name === s.metadata?.name && l[0].endpoints?.[0]?.addresses[0] === '192.168.1.12';
  });

  // A user deleting the mirrored slice gets it back.
  await client.delete(R.endpointslices, ns, s.metadata!.name!);
  await h.waitFor('slice re-created', async () => (await mirrored()).length === 1);

  // The Endpoints controller's own Endpoints (a selector Service) are never mirrored.
  await client.create<Service>(R.services, ns, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } });
  await h.waitFor('controller Endpoints of web', async () => {
    try { return (await client.get<Endpoints>(R.endpoints, ns, 'web')).metadata?.labels?.['endpointslice.kubernetes.io/skip-mirror'] === 'true'; } catch { return false; }
  });
  await h.controllers.idle();
  assert.deepEqual(await h.list<EndpointSlice>(R.endpointslices, `kubernetes.io/service-name=web,${managed}`), []);

  // The Service gets a selector: the mirrored slices go.
  const svc = await client.get<Service>(R.services, ns, 'db');
  await client.update<Service>(R.services, ns, { ...svc, spec: { ...svc.spec, selector: { app: 'db' } } });
  await h.waitFor('mirrored slices removed', async () => (await mirrored()).length === 0);
});

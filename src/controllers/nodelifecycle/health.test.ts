import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { createApiCore } from '../../apiserver/core.js';
import { MemoryStorage } from '../../storage/memory.js';
import { R } from '../../api/resources.js';
import { startControllers } from '../manager.js';
import { NodeLifecycleController } from './controller.js';
import { lifecycleTaints, podsToEvict, silentConditions, toleratedMs } from './health.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000);
const iso = (s: number) => at(s).toISOString().replace(/\.\d+Z$/, 'Z');

function readyNode(name: string, heartbeat: number): Node {
  return {
    apiVersion: 'v1', kind: 'Node', metadata: { name, creationTimestamp: iso(-100) }, spec: {},
    status: { conditions: ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'].map((type) => ({
      type, status: type === 'Ready' ? 'True' : 'False', reason: 'KubeletReady', lastHeartbeatTime: iso(heartbeat), lastTransitionTime: iso(-100),
    })) },
  };
}
const lease = (name: string, renew: number): Lease => ({ metadata: { name, namespace: 'kube-node-lease' }, spec: { renewTime: at(renew).toISOString() } });

test('silent node: conditions Unknown with Kubernetes\' reason and message after the grace period, counted from the newer of heartbeat, lease and first observation', () => {
  const n = readyNode('a', -100);
  assert.equal(silentConditions(n, lease('a', -30), at(0), 40_000, T0 - 200_000), undefined, 'the lease is fresh');
  assert.equal(silentConditions(n, lease('a', -50), at(0), 40_000, T0 - 10_000), undefined, 'first seen 10 s ago');
  const c = silentConditions(n, lease('a', -50), at(0), 40_000, T0 - 200_000)!;
  const ready = c.find((x) => x.type === 'Ready')!;
  assert.deepEqual([ready.status, ready.reason, ready.message, ready.lastTransitionTime], ['Unknown', 'NodeStatusUnknown', 'Kubelet stopped posting node status.', iso(0)]);
  assert.equal(ready.lastHeartbeatTime, iso(-100), 'the heartbeat is the agent\'s, never rewritten');
  assert.deepEqual(c.map((x) => x.status), ['Unknown', 'Unknown', 'Unknown', 'Unknown']);
  const unknown: Node = { ...n, status: { conditions: c } };
  assert.equal(silentConditions(unknown, undefined, at(10), 40_000, 0), undefined, 'already Unknown: nothing to write');
});

test('lifecycle taints follow Ready; evictions follow tolerations and the eviction timeout', () => {
  const n = readyNode('a', 0);
  assert.deepEqual(lifecycleTaints(n, at(0)), []);
  const unknown: Node = { ...n, spec: { taints: [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }] }, status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } };
  const tainted = lifecycleTaints(unknown, at(5));
  assert.deepEqual(tainted, [
    { key: 'dedicated', value: 'x', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: iso(5) },
  ]);
  assert.deepEqual(lifecycleTaints({ ...unknown, spec: { taints: tainted } }, at(60)), tainted, 'timeAdded kept');
  assert.deepEqual(lifecycleTaints({ ...unknown, spec: { taints: tainted }, status: { conditions: [{ type: 'Ready', status: 'True' }] } }, at(60)), [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }]);
  const pod = (name: string, tolerationSeconds?: number | null, phase = 'Running'): Pod => ({
    metadata: { name, namespace: 'd' }, status: { phase },
    spec: { containers: [], ...(tolerationSeconds !== undefined ? { tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', ...(tolerationSeconds === null ? {} : { tolerationSeconds }) }] } : {}) },
  });
  const taint = tainted[2]!;
  assert.equal(toleratedMs(pod('p'), taint, 300_000), 300_000);
  assert.equal(toleratedMs(pod('p', 10), taint, 300_000), 10_000);
  assert.equal(toleratedMs(pod('p', null), taint, 300_000), Infinity);
  const pods = [pod('default'), pod('short', 10), pod('forever', null), pod('done', undefined, 'Succeeded')];
  assert.deepEqual(podsToEvict(pods, tainted, at(16), 20_000).map((p) => p.metadata!.name), ['short']);
  assert.deepEqual(podsToEvict(pods, tainted, at(26), 20_000).map((p) => p.metadata!.name), ['default', 'short']);
  assert.deepEqual(podsToEvict(pods, [], at(1000), 20_000), []);
});

test('controller: a node that stops renewing its Lease goes Unknown, its Pods\' endpoints turn not ready at once, and after the eviction timeout its Pods are deleted; it returns Ready and loses its taints', async (t) => {
  const core = await createApiCore({ storage: new MemoryStorage() });
  t.after(() => core.close());
  const c = core.client;
  let now = at(0);
  await c.create(R.nodes, undefined, readyNode('a', 0));
  const setReady = async (s: number) => {
    const n = await c.get<Node>(R.nodes, undefined, 'a');
    await c.update(R.nodes, undefined, { ...n, status: readyNode('a', s).status }, { subresource: 'status' });
  };
  await setReady(0);
  await c.create(R.leases, 'kube-node-lease', lease('a', 0));
  await c.create(R.services, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } });
  const pod = await c.create<Pod>(R.pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', labels: { app: 'web' } }, spec: { nodeName: 'a', containers: [{ name: 'c', image: 'nginx' }] } });
  await c.update(R.pods, 'default', { ...pod, status: { phase: 'Running', podIP: '10.244.5.7', conditions: [{ type: 'Ready', status: 'True' }] } }, { subresource: 'status' });
  const ctrl = await startControllers(c, {
    enable: ['endpointslice', 'nodelifecycle'], now: () => now,
    nodeLifecycle: { gracePeriodMs: 40_000, podEvictionTimeoutMs: 60_000, monitorPeriodMs: 3_600_000 },
  });
  t.after(() => ctrl.stop());
  const lc = ctrl.controllers.find((x) => x instanceof NodeLifecycleController) as NodeLifecycleController;
  const endpointReady = async () => {
    await ctrl.idle();
    const s = (await c.list<EndpointSlice>(R.endpointslices, 'default', { labelSelector: 'kubernetes.io/service-name=web' })).items[0];
    return s?.endpoints.map((e) => e.conditions?.ready);
  };
  await lc.monitor();
  assert.deepEqual(await endpointReady(), [true]);
  now = at(30);
  await lc.monitor();
  assert.equal((await c.get<Node>(R.nodes, undefined, 'a')).status?.conditions?.find((x) => x.type === 'Ready')?.status, 'True');
  now = at(41);
  await lc.monitor();
  const n = await c.get<Node>(R.nodes, undefined, 'a');
  assert.equal(n.status?.conditions?.find((x) => x.type === 'Ready')?.status, 'Unknown');
  assert.deepEqual(n.spec?.taints?.map((x) => `${x.key}:${x.effect}`), ['node.kubernetes.io/unreachable:NoSchedule', 'node.kubernetes.io/unreachable:NoExecute']);
  assert.deepEqual(await endpointReady(), [false], 'the endpoint is not ready as soon as the node is declared unreachable');
  assert.equal((await c.get<Pod>(R.pods, 'default', 'web-1')).metadata?.deletionTimestamp, undefined);
  now = at(41 + 61);
  await lc.monitor();
  assert.ok((await c.get<Pod>(R.pods, 'default', 'web-1')).metadata?.deletionTimestamp, 'evicted after the timeout');
  // The agent comes back: Ready again, taints gone.
  await setReady(110);
  now = at(111);
  await lc.monitor();
  assert.deepEqual((await c.get<Node>(R.nodes, undefined, 'a')).spec?.taints ?? [], []);
});

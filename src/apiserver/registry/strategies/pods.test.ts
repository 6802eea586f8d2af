// pods/NAME/ephemeralcontainers through the real API core: what `kubectl debug` sends (a strategic
// merge patch adding one ephemeral container), kube-apiserver's rules (only additions; no ports,
// probes, resources; names unique across all containers; a target that exists) with its wording,
// and that nothing but spec.ephemeralContainers is taken from the request.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { EphemeralContainer, Pod } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../../../api/errors.js';
import { R } from '../../../api/resources.js';
import { MemoryStorage } from '../../../storage/memory.js';
import { createApiCore, type ApiCore } from '../../core.js';

let core: ApiCore;
before(async () => { core = await createApiCore({ storage: new MemoryStorage() }); });
after(async () => { await core.close(); });

let n = 0;
async function newPod(): Promise<Pod> {
  return core.client.create<Pod>(R.pods, 'default', {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: `web-${++n}`, labels: { app: 'web' } },
    spec: { containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80 }] }], initContainers: [{ name: 'init', image: 'busybox' }] },
  });
}

/** kubectl debug's patch: the new container appended (merge key `name`). */
const debugger_ = (name: string, extra: Partial<EphemeralContainer> = {}): EphemeralContainer => ({
  name, image: 'busybox', stdin: true, tty: true, terminationMessagePolicy: 'File', resources: {}, ...extra,
});
const addPatch = (ec: EphemeralContainer) => ({ spec: { ephemeralContainers: [ec] } });

async function rejects(p: Promise<unknown>, code: number, reason: string, message: string | RegExp): Promise<void> {
  let err: unknown;
  try { await p; } catch (e) { err = e; }
  assert.ok(err instanceof ApiError, `expected ApiError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  assert.equal(err.reason, reason);
  if (typeof message === 'string') assert.equal(err.message, message); else assert.match(err.message, message);
}

test('kubectl debug\'s strategic merge patch adds an ephemeral container, defaulted; GET of the subresource answers the Pod', async () => {
  const pod = await newPod();
  const out = await core.client.patch<Pod>(R.pods, 'default', pod.metadata!.name!, 'application/strategic-merge-patch+json', addPatch(debugger_('debugger-abcde', { targetContainerName: 'web', command: ['sh'] })), { subresource: 'ephemeralcontainers' });
  const ec = out.spec?.ephemeralContainers?.[0];
  assert.equal(ec?.name, 'debugger-abcde');
  assert.equal(ec?.targetContainerName, 'web');
  assert.equal(ec?.imagePullPolicy, 'Always', 'defaulted (busybox = :latest)');
  assert.equal(ec?.terminationMessagePath, '/dev/termination-log');
  assert.equal(out.metadata?.generation, 2, 'a spec change bumps generation');
  const got = await core.client.get<Pod>(R.pods, 'default', pod.metadata!.name!, 'ephemeralcontainers');
  assert.equal(got.kind, 'Pod');
  assert.deepEqual(got.spec?.ephemeralContainers, out.spec?.ephemeralContainers);
  // A second one is added beside it: the patch names only the new one (merge by name), with the
  // order kubectl's CreateTwoWayMergePatch sends when the list was not empty.
  const second = { spec: { '$setElementOrder/ephemeralContainers': [{ name: 'debugger-abcde' }, { name: 'debugger-fghij' }], ephemeralContainers: [debugger_('debugger-fghij')] } };
  const two = await core.client.patch<Pod>(R.pods, 'default', pod.metadata!.name!, 'application/strategic-merge-patch+json', second, { subresource: 'ephemeralcontainers' });
  assert.deepEqual(two.spec?.ephemeralContainers?.map((c) => c.name), ['debugger-abcde', 'debugger-fghij']);
});

test('only spec.ephemeralContainers is taken: labels, other spec fields and status in the request are ignored', async () => {
  const pod = await newPod();
  const input: Pod = { ...pod, metadata: { ...pod.metadata, labels: { app: 'hijacked' } },
    spec: { ...pod.spec!, containers: [{ name: 'web', image: 'evil' }], ephemeralContainers: [debugger_('dbg')] }, status: { phase: 'Failed' } };
  const out = await core.client.update<Pod>(R.pods, 'default', input, { subresource: 'ephemeralcontainers' });
  assert.deepEqual(out.metadata?.labels, { app: 'web' });
  assert.equal(out.spec?.containers[0]?.image, 'nginx');
  assert.equal(out.status?.phase, 'Pending');
  assert.deepEqual(out.spec?.ephemeralContainers?.map((c) => c.name), ['dbg']);
});

test('existing ephemeral containers may not be removed or changed', async () => {
  const pod = await newPod();
  const name = pod.metadata!.name!;
  const withOne = await core.client.patch<Pod>(R.pods, 'default', name, 'application/strategic-merge-patch+json', addPatch(debugger_('dbg')), { subresource: 'ephemeralcontainers' });
  await rejects(core.client.update<Pod>(R.pods, 'default', { ...withOne, spec: { ...withOne.spec!, ephemeralContainers: [] } }, { subresource: 'ephemeralcontainers' }),
    422, 'Invalid', `Pod "${name}" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral containers "dbg" may not be removed\n`);
  const changed = { ...withOne.spec!.ephemeralContainers![0]!, image: 'alpine' };
  await rejects(core.client.update<Pod>(R.pods, 'default', { ...withOne, spec: { ...withOne.spec!, ephemeralContainers: [changed] } }, { subresource: 'ephemeralcontainers' }),
    422, 'Invalid', new RegExp(`^Pod "${name}" is invalid: spec\\.ephemeralContainers: Forbidden: existing ephemeral containers "dbg" may not be changed\\n[\\s\\S]*alpine`));
  // A stale resourceVersion is a conflict, as for any update.
  await rejects(core.client.update<Pod>(R.pods, 'default', { ...pod, spec: { ...pod.spec!, ephemeralContainers: [debugger_('dbg'), debugger_('x')] } }, { subresource: 'ephemeralcontainers' }),
    409, 'Conflict', /the object has been modified/);
});

const invalidCases: { name: string; ec: EphemeralContainer; message: RegExp }[] = [
  { name: 'ports', ec: debugger_('d1', { ports: [{ containerPort: 8080 }] }), message: /spec\.ephemeralContainers\[0\]\.ports: Forbidden: cannot be set for an Ephemeral Container/ },
  { name: 'a readiness probe', ec: debugger_('d2', { readinessProbe: { tcpSocket: { port: 80 } } }), message: /spec\.ephemeralContainers\[0\]\.readinessProbe: Forbidden: cannot be set for an Ephemeral Container/ },
  { name: 'resources', ec: debugger_('d3', { resources: { limits: { cpu: '1' } } }), message: /spec\.ephemeralContainers\[0\]\.resources: Forbidden: cannot be set for an Ephemeral Container/ },
  { name: 'lifecycle', ec: debugger_('d4', { lifecycle: { preStop: { exec: { command: ['true'] } } } }), message: /spec\.ephemeralContainers\[0\]\.lifecycle: Forbidden: cannot be set for an Ephemeral Container/ },
  { name: 'the name of a container', ec: debugger_('web'), message: /spec\.ephemeralContainers\[0\]\.name: Duplicate value: "web"/ },
  { name: 'the name of an init container', ec: debugger_('init'), message: /spec\.ephemeralContainers\[0\]\.name: Duplicate value: "init"/ },
  { name: 'a target that does not exist', ec: debugger_('d5', { targetContainerName: 'nope' }), message: /spec\.ephemeralContainers\[0\]\.targetContainerName: Not found: "nope"/ },
  { name: 'no image', ec: { name: 'd6', terminationMessagePolicy: 'File' }, message: /spec\.ephemeralContainers\[0\]\.image: Required value/ },
  { name: 'an invalid name', ec: debugger_('Debug_1'), message: /spec\.ephemeralContainers\[0\]\.name: Invalid value: "Debug_1"/ },
];
for (const c of invalidCases) {
  test(`an ephemeral container with ${c.name} is refused (422, Kubernetes' wording); the Pod is unchanged`, async () => {
    const pod = await newPod();
    await rejects(core.client.patch(R.pods, 'default', pod.metadata!.name!, 'application/strategic-merge-patch+json', addPatch(c.ec), { subresource: 'ephemeralcontainers' }), 422, 'Invalid', c.message);
    const now = await core.client.get<Pod>(R.pods, 'default', pod.metadata!.name!);
    assert.equal(now.metadata?.resourceVersion, pod.metadata?.resourceVersion);
    assert.equal(now.spec?.ephemeralContainers, undefined);
  });
}

test('ephemeral containers cannot be set on create, nor added by a plain update of the Pod', async () => {
  await rejects(core.client.create(R.pods, 'default', {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'direct' }, spec: { containers: [{ name: 'c', image: 'busybox' }], ephemeralContainers: [debugger_('d')] },
  } as Pod), 422, 'Invalid', /spec\.ephemeralContainers: Forbidden: cannot be set on create/);
  const pod = await newPod();
  await rejects(core.client.update(R.pods, 'default', { ...pod, spec: { ...pod.spec!, ephemeralContainers: [debugger_('d')] } }), 422, 'Invalid', /pod updates may not change fields other than/);
});

test('other resources have no ephemeralcontainers subresource (404)', async () => {
  await core.client.create(R.services, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ port: 80 }] } });
  await rejects(core.client.patch(R.services, 'default', 's', 'application/merge-patch+json', {}, { subresource: 'ephemeralcontainers' }), 404, 'NotFound', /not found/);
});

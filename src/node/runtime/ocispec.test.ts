import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { capabilities, cgroupResources, DEFAULT_CAPS, ociSpec, oomScoreAdj, parseQuantity, processArgs, qosClass, resolveUser } from './ocispec.js';

test('command/args over Entrypoint/Cmd as the kubelet merges them', () => {
  const img = { Entrypoint: ['/ep'], Cmd: ['--default'] };
  assert.deepEqual(processArgs(img), ['/ep', '--default']);
  assert.deepEqual(processArgs(img, undefined, ['--mine']), ['/ep', '--mine']);
  assert.deepEqual(processArgs(img, ['/bin/app']), ['/bin/app'], 'command alone drops Cmd');
  assert.deepEqual(processArgs(img, ['/bin/app'], ['x']), ['/bin/app', 'x']);
  assert.deepEqual(processArgs({ Cmd: ['sh'] }), ['sh']);
  assert.deepEqual(processArgs({ Entrypoint: null, Cmd: null }), []);
});

test('users: image User by name or id, runAsUser/runAsGroup, groups, runAsNonRoot', () => {
  const passwd = 'root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n';
  const group = 'root:x:0:\napp:x:1000:\nextra:x:2000:app,other\n';
  assert.deepEqual(resolveUser(undefined, undefined, undefined, passwd, group), { uid: 0, gid: 0, additionalGids: [0] });
  assert.deepEqual(resolveUser('app', undefined, undefined, passwd, group), { uid: 1000, gid: 1000, additionalGids: [1000, 2000] });
  assert.deepEqual(resolveUser('1000:2000', undefined, undefined, passwd, group), { uid: 1000, gid: 2000, additionalGids: [2000] });
  assert.deepEqual(resolveUser('app:extra', undefined, undefined, passwd, group), { uid: 1000, gid: 2000, additionalGids: [2000] });
  assert.deepEqual(resolveUser('4242', undefined, undefined, passwd, group), { uid: 4242, gid: 0, additionalGids: [0] }, 'unknown uid: gid 0');
  assert.deepEqual(resolveUser('app', { runAsUser: 5000, runAsGroup: 6000, supplementalGroups: [7], fsGroup: 8 }, { runAsUser: 1000 }, passwd, group),
    { uid: 1000, gid: 6000, additionalGids: [7, 8, 2000, 6000] }, 'container over pod; groups of the user, supplemental and fsGroup');
  assert.throws(() => resolveUser('nobody', undefined, undefined, passwd, group), /unable to find user nobody: no matching entries in passwd file/);
  assert.throws(() => resolveUser(undefined, { runAsNonRoot: true }, undefined, passwd, group), /container has runAsNonRoot and image will run as root/);
  assert.throws(() => resolveUser('app', { runAsNonRoot: true }, { runAsUser: 0 }, passwd, group), /runAsUser breaks non-root policy/);
  assert.equal(resolveUser('app', { runAsNonRoot: true }, undefined, passwd, group).uid, 1000);
});

test('capabilities: containerd defaults, drop then add, ALL, privileged', () => {
  assert.deepEqual(capabilities(undefined), DEFAULT_CAPS);
  assert.deepEqual(capabilities({ capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } }), ['CAP_NET_BIND_SERVICE']);
  const c = capabilities({ capabilities: { drop: ['NET_RAW'], add: ['CAP_NET_ADMIN'] } });
  assert.ok(!c.includes('CAP_NET_RAW') && c.includes('CAP_NET_ADMIN') && c.includes('CAP_CHOWN'));
  assert.ok(capabilities({ privileged: true }).includes('CAP_SYS_ADMIN'));
  assert.throws(() => capabilities({ capabilities: { add: ['FLY'] } }), /unknown capability "CAP_FLY"/);
});

test('resources: quantities, CFS quota and shares, pids; QoS and oom_score_adj', () => {
  assert.equal(parseQuantity('64Mi'), 64 * 2 ** 20);
  assert.equal(parseQuantity('1G'), 1e9);
  assert.equal(parseQuantity('500m'), 0.5);
  assert.throws(() => parseQuantity('lots'), /quantities must match/);
  assert.deepEqual(cgroupResources({ name: 'c', resources: { limits: { memory: '32Mi', cpu: '500m' } } }, 100),
    { memory: { limit: 32 * 2 ** 20 }, cpu: { shares: 512, period: 100_000, quota: 50_000 }, pids: { limit: 100 } });
  assert.deepEqual(cgroupResources({ name: 'c', resources: { requests: { cpu: '250m' } } }), { cpu: { shares: 256 } });
  assert.deepEqual(cgroupResources({ name: 'c' }), { cpu: { shares: 2 } }, 'BestEffort: MinShares');
  const pod = (resources: object): Pod => ({ spec: { containers: [{ name: 'c', resources }] } });
  assert.equal(qosClass(pod({})), 'BestEffort');
  assert.equal(qosClass(pod({ limits: { cpu: '1', memory: '1Gi' } })), 'Guaranteed', 'requests default to limits');
  assert.equal(qosClass(pod({ requests: { memory: '1Gi' } })), 'Burstable');
  const node = 8 * 2 ** 30;
  assert.equal(oomScoreAdj(pod({}), { name: 'c' }, node), 1000);
  assert.equal(oomScoreAdj(pod({ limits: { cpu: '1', memory: '1Gi' } }), { name: 'c' }, node), -997);
  assert.equal(oomScoreAdj(pod({ requests: { memory: '1Gi' } }), { name: 'c', resources: { requests: { memory: '1Gi' } } }, node), 875);
});

test('namespaces: the Pod network namespace joined; a new PID namespace, or the target\'s for a debug container', () => {
  const input = {
    args: ['sh'], env: {}, cwd: '/', user: { uid: 0, gid: 0, additionalGids: [] }, hostname: 'p', netnsPath: '/proc/10/ns/net',
    rootfs: '/r', readonlyRootfs: false, mounts: [], resources: {}, cgroupsPath: '/x', capabilities: [], noNewPrivileges: false,
  };
  const ns = (s: Record<string, unknown>): unknown => (s.linux as { namespaces: unknown }).namespaces;
  assert.deepEqual(ns(ociSpec(input)), [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network', path: '/proc/10/ns/net' }]);
  assert.deepEqual((ns(ociSpec({ ...input, pidnsPath: '/proc/42/ns/pid' })) as unknown[])[0], { type: 'pid', path: '/proc/42/ns/pid' });
});

test('tty: true asks runc for a terminal and sets TERM=xterm (as containerd and CRI-O) unless the container sets it', () => {
  const input = {
    args: ['sh'], env: {}, cwd: '/', user: { uid: 0, gid: 0, additionalGids: [] }, hostname: 'p', netnsPath: '/proc/10/ns/net',
    rootfs: '/r', readonlyRootfs: false, mounts: [], resources: {}, cgroupsPath: '/x', capabilities: [], noNewPrivileges: false,
  };
  const proc = (s: Record<string, unknown>): { terminal: boolean; env: string[] } => s.process as { terminal: boolean; env: string[] };
  assert.equal(proc(ociSpec(input)).terminal, false);
  assert.ok(!proc(ociSpec(input)).env.some((e) => e.startsWith('TERM=')));
  assert.equal(proc(ociSpec({ ...input, terminal: true })).terminal, true);
  assert.ok(proc(ociSpec({ ...input, terminal: true })).env.includes('TERM=xterm'));
  assert.ok(proc(ociSpec({ ...input, env: { TERM: 'vt100' }, terminal: true })).env.includes('TERM=vt100'));
});

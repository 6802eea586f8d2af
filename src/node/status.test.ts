import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { podStatus, type ContainerView, type PodView } from './status.js';

const T0 = '2026-01-01T00:00:00Z';
const pod = (restartPolicy: 'Always' | 'Never' | 'OnFailure' = 'Always'): Pod =>
  ({ metadata: { name: 'p', namespace: 'd' }, spec: { restartPolicy, containers: [{ name: 'c' }] } });
const view = (c: Partial<ContainerView>): PodView => ({
  podIP: '10.244.0.2', hostIP: '10.244.0.1', startTime: T0, sandboxReady: true, initialized: true, initContainers: [],
  containers: [{ name: 'c', image: 'busybox', imageID: 'x', restartCount: 0, ready: false, started: false, ...c }],
});
const term = (exitCode: number) => ({ exitCode, reason: exitCode ? 'Error' : 'Completed', startedAt: T0, finishedAt: T0, containerID: 'clusterip://1' });

test('running but not ready: phase Running, Ready False with the kubelet message', () => {
  const s = podStatus(pod(), view({ running: { startedAt: T0, containerID: 'clusterip://1' }, started: true }), T0);
  assert.equal(s.phase, 'Running');
  const ready = s.conditions!.find((c) => c.type === 'Ready')!;
  assert.equal(ready.status, 'False');
  assert.equal(ready.message, 'containers with unready status: [c]');
  assert.equal(s.podIP, '10.244.0.2');
  assert.deepEqual(s.containerStatuses![0]!.state, { running: { startedAt: T0 } });
});

test('CrashLoopBackOff keeps the last termination in lastState', () => {
  const s = podStatus(pod(), view({ restartCount: 2, waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s' }, last: term(1) }), T0);
  assert.equal(s.phase, 'Running');
  assert.equal(s.containerStatuses![0]!.state!.waiting!.reason, 'CrashLoopBackOff');
  assert.equal(s.containerStatuses![0]!.lastState!.terminated!.exitCode, 1);
});

test('Never: exit 0 → Succeeded, exit 1 → Failed; unknown image → Pending', () => {
  assert.equal(podStatus(pod('Never'), view({ last: term(0) }), T0).phase, 'Succeeded');
  assert.equal(podStatus(pod('Never'), view({ last: term(1) }), T0).phase, 'Failed');
  assert.equal(podStatus(pod('OnFailure'), view({ waiting: { reason: 'ImagePullBackOff' } }), T0).phase, 'Pending');
});

test('lastTransitionTime is kept while a condition does not change', () => {
  const v = view({ running: { startedAt: T0, containerID: 'i' }, ready: true, started: true });
  const p: Pod = { ...pod(), status: podStatus(pod(), v, T0) };
  const later = podStatus(p, v, '2026-01-01T00:05:00Z');
  assert.equal(later.conditions!.find((c) => c.type === 'Ready')!.lastTransitionTime, T0);
});

test('ephemeral containers: in ephemeralContainerStatuses (never ready, no `started`), not in phase or readiness', () => {
  const dbg: ContainerView = { name: 'debugger-x', image: 'busybox', imageID: 'b', restartCount: 0, ready: true, started: true, running: { startedAt: T0, containerID: 'clusterip://d' } };
  const ready = podStatus(pod(), { ...view({ running: { startedAt: T0, containerID: 'i' }, ready: true, started: true }), ephemeralContainers: [dbg] }, T0);
  assert.deepEqual(ready.ephemeralContainerStatuses, [{
    name: 'debugger-x', image: 'busybox', imageID: 'b', ready: false, restartCount: 0, state: { running: { startedAt: T0 } }, lastState: {}, containerID: 'clusterip://d',
  }]);
  assert.equal(ready.conditions!.find((c) => c.type === 'Ready')!.status, 'True', 'a running (never ready) debug container does not make the Pod unready');
  assert.deepEqual(ready.containerStatuses!.map((c) => c.name), ['c']);
  // A debug container that exited does not end the Pod either.
  const exited = podStatus(pod('Never'), { ...view({ running: { startedAt: T0, containerID: 'i' }, ready: true, started: true }), ephemeralContainers: [{ ...dbg, running: undefined, last: term(1) }] }, T0);
  assert.equal(exited.phase, 'Running');
  assert.equal(exited.ephemeralContainerStatuses![0]!.state!.terminated!.exitCode, 1);
});

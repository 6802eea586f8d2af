/**
 * Table test of the Pod worker's decisions (computePodActions): each row is a Pod, what the worker
 * observed and the time, and the actions expected — written as the kubelet would describe them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { computePodActions, formatBackoff, nextBackoff, type ObservedContainer, type ObservedPod, type PodActions } from './podactions.js';

const T = 1_000_000; // "now" in every row, epoch ms
const policy = { baseMs: 10_000, maxMs: 300_000 };

function pod(over: { restartPolicy?: 'Always' | 'OnFailure' | 'Never'; inits?: string[]; containers?: string[]; deleting?: number; grace?: number } = {}): Pod {
  return {
    metadata: {
      name: 'p', namespace: 'ns', uid: 'u1',
      ...(over.deleting !== undefined ? { deletionTimestamp: '2026-01-01T00:00:00Z', deletionGracePeriodSeconds: over.deleting } : {}),
    },
    spec: {
      restartPolicy: over.restartPolicy ?? 'Always',
      ...(over.grace !== undefined ? { terminationGracePeriodSeconds: over.grace } : {}),
      initContainers: (over.inits ?? []).map((name) => ({ name, image: 'busybox' })),
      containers: (over.containers ?? ['c']).map((name) => ({ name, image: 'nginx' })),
    },
  };
}

function c(name: string, over: Partial<ObservedContainer> = {}): ObservedContainer {
  return { name, init: false, running: false, killing: false, restartCount: 0, backoffMs: 0, pullRetryAt: 0, ...over };
}
const ran = (exitCode: number, finishedAgoMs: number, ranMs = 1000): ObservedContainer['last'] =>
  ({ exitCode, startedAtMs: T - finishedAgoMs - ranMs, finishedAtMs: T - finishedAgoMs });

function observed(over: Partial<ObservedPod> = {}): ObservedPod {
  return { sandbox: 'ready', sandboxRetryAt: 0, initialized: true, containers: [c('c')], ...over };
}

const none = { killPod: false, createSandbox: false, initialized: true, containers: [] };

interface Row { name: string; pod: Pod; observed: ObservedPod; want: PodActions }

const rows: Row[] = [
  // Deletion
  { name: 'being deleted: terminate with the deletion grace period, nothing else',
    pod: pod({ deleting: 5 }), observed: observed({ containers: [c('c', { running: true })] }),
    want: { ...none, terminate: { graceSeconds: 5 } } },
  // Sandbox
  { name: 'new Pod: create the sandbox first',
    pod: pod(), observed: observed({ sandbox: 'none' }), want: { ...none, createSandbox: true } },
  { name: 'sandbox creation failed: wait for its backoff',
    pod: pod(), observed: observed({ sandbox: 'none', sandboxRetryAt: T + 5000 }),
    want: { ...none, sandboxWaitUntil: T + 5000, requeueAt: T + 5000 } },
  { name: 'sandbox backoff over: create again',
    pod: pod(), observed: observed({ sandbox: 'none', sandboxRetryAt: T }), want: { ...none, createSandbox: true } },
  { name: 'sandbox died (holder gone): kill the Pod; containers are decided after the new sandbox',
    pod: pod(), observed: observed({ sandbox: 'dead', containers: [c('c', { running: true })] }), want: { ...none, killPod: true } },
  { name: 'restartPolicy Never, already ran, sandbox gone: no new sandbox',
    pod: pod({ restartPolicy: 'Never' }), observed: observed({ sandbox: 'none', containers: [c('c', { last: ran(137, 100) })] }), want: none },
  { name: 'restartPolicy OnFailure, ran, sandbox gone: a new sandbox',
    pod: pod({ restartPolicy: 'OnFailure' }), observed: observed({ sandbox: 'none', containers: [c('c', { last: ran(137, 100) })] }),
    want: { ...none, createSandbox: true } },
  // First start
  { name: 'sandbox ready, container never ran: start it',
    pod: pod(), observed: observed(), want: { ...none, containers: [{ kind: 'start', name: 'c', restart: false, backoffMs: 0 }] } },
  { name: 'running and healthy: nothing to do',
    pod: pod(), observed: observed({ containers: [c('c', { running: true })] }), want: none },
  // Crash loop
  { name: 'first crash: restart at once, next backoff 10 s',
    pod: pod(), observed: observed({ containers: [c('c', { last: ran(1, 0) })] }),
    want: { ...none, containers: [{ kind: 'start', name: 'c', restart: true, backoffMs: 10_000 }] } },
  { name: 'second crash 3 s ago with backoff 10 s: CrashLoopBackOff until 10 s after the exit',
    pod: pod(), observed: observed({ containers: [c('c', { last: ran(1, 3000), backoffMs: 10_000, restartCount: 1 })] }),
    want: { ...none, requeueAt: T + 7000, containers: [{ kind: 'wait', name: 'c', until: T + 7000, reason: 'CrashLoopBackOff',
      message: 'back-off 10s restarting failed container=c pod=p_ns(u1)' }] } },
  { name: 'backoff over: restart, doubling the backoff',
    pod: pod(), observed: observed({ containers: [c('c', { last: ran(1, 10_000), backoffMs: 10_000, restartCount: 1 })] }),
    want: { ...none, containers: [{ kind: 'start', name: 'c', restart: true, backoffMs: 20_000 }] } },
  { name: 'backoff is capped at max',
    pod: pod(), observed: observed({ containers: [c('c', { last: ran(1, 300_000), backoffMs: 300_000 })] }),
    want: { ...none, containers: [{ kind: 'start', name: 'c', restart: true, backoffMs: 300_000 }] } },
  { name: 'ran longer than twice the cap: backoff resets (restart at once, next 10 s)',
    pod: pod(), observed: observed({ containers: [c('c', { last: ran(1, 1000, 600_001), backoffMs: 160_000 })] }),
    want: { ...none, containers: [{ kind: 'start', name: 'c', restart: true, backoffMs: 10_000 }] } },
  // Restart policies
  { name: 'OnFailure, exit 0: finished',
    pod: pod({ restartPolicy: 'OnFailure' }), observed: observed({ containers: [c('c', { last: ran(0, 5) })] }),
    want: { ...none, containers: [{ kind: 'finished', name: 'c' }] } },
  { name: 'OnFailure, exit 2: restart',
    pod: pod({ restartPolicy: 'OnFailure' }), observed: observed({ containers: [c('c', { last: ran(2, 5) })] }),
    want: { ...none, containers: [{ kind: 'start', name: 'c', restart: true, backoffMs: 10_000 }] } },
  { name: 'Never, exit 1: finished',
    pod: pod({ restartPolicy: 'Never' }), observed: observed({ containers: [c('c', { last: ran(1, 5) })] }),
    want: { ...none, containers: [{ kind: 'finished', name: 'c' }] } },
  { name: 'Always, exit 0: restarted too',
    pod: pod(), observed: observed({ containers: [c('c', { last: ran(0, 5) })] }),
    want: { ...none, containers: [{ kind: 'start', name: 'c', restart: true, backoffMs: 10_000 }] } },
  // Image pull backoff
  { name: 'image pull failed, retry later: ImagePullBackOff until then',
    pod: pod(), observed: observed({ containers: [c('c', { pullRetryAt: T + 20_000 })] }),
    want: { ...none, requeueAt: T + 20_000, containers: [{ kind: 'wait', name: 'c', until: T + 20_000, reason: 'ImagePullBackOff', message: 'Back-off pulling image "nginx"' }] } },
  { name: 'image pull retry due: start (pull again)',
    pod: pod(), observed: observed({ containers: [c('c', { pullRetryAt: T })] }),
    want: { ...none, containers: [{ kind: 'start', name: 'c', restart: false, backoffMs: 0 }] } },
  // Probes
  { name: 'liveness failed: kill, to be restarted',
    pod: pod(), observed: observed({ containers: [c('c', { running: true, probeFailure: 'liveness' })] }),
    want: { ...none, containers: [{ kind: 'kill', name: 'c', message: 'Container c failed liveness probe, will be restarted' }] } },
  { name: 'startup failed, restartPolicy Never: kill, not restarted',
    pod: pod({ restartPolicy: 'Never' }), observed: observed({ containers: [c('c', { running: true, probeFailure: 'startup' })] }),
    want: { ...none, containers: [{ kind: 'kill', name: 'c', message: 'Container c failed startup probe' }] } },
  { name: 'kill already under way: not killed twice',
    pod: pod(), observed: observed({ containers: [c('c', { running: true, probeFailure: 'liveness', killing: true })] }), want: none },
  // Init containers
  { name: 'init containers run first, one at a time',
    pod: pod({ inits: ['i1', 'i2'] }), observed: observed({ initialized: false, containers: [c('i1', { init: true }), c('i2', { init: true }), c('c')] }),
    want: { ...none, initialized: false, containers: [{ kind: 'start', name: 'i1', restart: false, backoffMs: 0 }] } },
  { name: 'init running: wait for it',
    pod: pod({ inits: ['i1'] }), observed: observed({ initialized: false, containers: [c('i1', { init: true, running: true }), c('c')] }),
    want: { ...none, initialized: false } },
  { name: 'first init done: the second one',
    pod: pod({ inits: ['i1', 'i2'] }), observed: observed({ initialized: false, containers: [c('i1', { init: true, last: ran(0, 1) }), c('i2', { init: true }), c('c')] }),
    want: { ...none, initialized: false, containers: [{ kind: 'start', name: 'i2', restart: false, backoffMs: 0 }] } },
  { name: 'every init succeeded: initialized, regular containers start',
    pod: pod({ inits: ['i1'], containers: ['a', 'b'] }),
    observed: observed({ initialized: false, containers: [c('i1', { init: true, last: ran(0, 1) }), c('a'), c('b')] }),
    want: { ...none, initialized: true, containers: [{ kind: 'start', name: 'a', restart: false, backoffMs: 0 }, { kind: 'start', name: 'b', restart: false, backoffMs: 0 }] } },
  { name: 'failed init, Always: restarted under the crash-loop backoff',
    pod: pod({ inits: ['i1'] }), observed: observed({ initialized: false, containers: [c('i1', { init: true, last: ran(1, 1000), backoffMs: 10_000 }), c('c')] }),
    want: { ...none, initialized: false, requeueAt: T + 9000, containers: [{ kind: 'wait', name: 'i1', until: T + 9000, reason: 'CrashLoopBackOff',
      message: 'back-off 10s restarting failed container=i1 pod=p_ns(u1)' }] } },
  { name: 'failed init, Never: finished (the Pod fails)',
    pod: pod({ restartPolicy: 'Never', inits: ['i1'] }), observed: observed({ initialized: false, containers: [c('i1', { init: true, last: ran(1, 1) }), c('c')] }),
    want: { ...none, initialized: false, containers: [{ kind: 'finished', name: 'i1' }] } },
  // Several containers at once
  { name: 'one running, one in backoff, one to start: each decided, earliest requeue',
    pod: pod({ containers: ['a', 'b', 'd'] }),
    observed: observed({ containers: [c('a', { running: true }), c('b', { last: ran(1, 2000), backoffMs: 20_000 }), c('d')] }),
    want: { ...none, requeueAt: T + 18_000, containers: [
      { kind: 'wait', name: 'b', until: T + 18_000, reason: 'CrashLoopBackOff', message: 'back-off 20s restarting failed container=b pod=p_ns(u1)' },
      { kind: 'start', name: 'd', restart: false, backoffMs: 0 }] } },
  // Ephemeral containers (kubectl debug)
  { name: 'ephemeral container added to a running Pod: started',
    pod: pod(), observed: observed({ containers: [c('c', { running: true }), c('dbg', { ephemeral: true })] }),
    want: { ...none, containers: [{ kind: 'start', name: 'dbg', restart: false, backoffMs: 0 }] } },
  { name: 'ephemeral container starts before the init containers are done',
    pod: pod({ inits: ['i1'] }), observed: observed({ initialized: false, containers: [c('i1', { init: true, running: true }), c('c'), c('dbg', { ephemeral: true })] }),
    want: { ...none, initialized: false, containers: [{ kind: 'start', name: 'dbg', restart: false, backoffMs: 0 }] } },
  { name: 'ephemeral container exited (even with an error, policy Always): never restarted',
    pod: pod(), observed: observed({ containers: [c('c', { running: true }), c('dbg', { ephemeral: true, last: ran(1, 5) })] }),
    want: { ...none, containers: [{ kind: 'finished', name: 'dbg' }] } },
  { name: 'running ephemeral container: nothing to do (no probes)',
    pod: pod(), observed: observed({ containers: [c('c', { running: true }), c('dbg', { ephemeral: true, running: true })] }), want: none },
  { name: 'ephemeral image not pulled yet: ImagePullBackOff, pulled again later',
    pod: pod(), observed: observed({ containers: [c('c', { running: true }), c('dbg', { ephemeral: true, pullRetryAt: T + 20_000 })] }),
    want: { ...none, requeueAt: T + 20_000, containers: [{ kind: 'wait', name: 'dbg', until: T + 20_000, reason: 'ImagePullBackOff', message: 'Back-off pulling image ""' }] } },
  { name: 'no sandbox yet: the ephemeral container waits for it',
    pod: pod(), observed: observed({ sandbox: 'none', containers: [c('c'), c('dbg', { ephemeral: true })] }), want: { ...none, createSandbox: true } },
  { name: 'restartPolicy Never Pod whose only ephemeral container ran and whose sandbox is gone: still a sandbox (the app never ran)',
    pod: pod({ restartPolicy: 'Never' }), observed: observed({ sandbox: 'none', containers: [c('c'), c('dbg', { ephemeral: true, last: ran(0, 5) })] }),
    want: { ...none, createSandbox: true } },
  { name: 'finished Pod (restartPolicy Never, app done): an ephemeral container added now does not start',
    pod: pod({ restartPolicy: 'Never' }), observed: observed({ containers: [c('c', { last: ran(0, 5) }), c('dbg', { ephemeral: true })] }),
    want: { ...none, containers: [{ kind: 'finished', name: 'dbg' }, { kind: 'finished', name: 'c' }] } },
];

for (const r of rows) {
  test(`computePodActions: ${r.name}`, () => {
    assert.deepEqual(computePodActions(r.pod, r.observed, T, policy), r.want);
  });
}

test('backoff steps and their printed form', () => {
  assert.deepEqual([0, 10_000, 160_000, 300_000].map((x) => nextBackoff(x, policy)), [10_000, 20_000, 300_000, 300_000]);
  assert.deepEqual([2_500, 10_000, 80_000, 300_000].map(formatBackoff), ['2.5s', '10s', '1m20s', '5m0s']);
});

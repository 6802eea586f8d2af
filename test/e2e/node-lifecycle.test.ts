/**
 * End-to-end (root, real kernel): readiness gating, liveness restart with crash-loop backoff, unknown
 * images, restart policies, env, graceful termination with preStop, deletion. Leak-checked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Event, Pod } from 'kubernetes-types/core/v1.js';
import { R } from '../../src/api/resources.js';
import { cstatus, isReady, startTestNode } from '../../src/node/testing/harness.js';

test('readiness gates Ready; liveness failure restarts the container; crash loop backs off', async (t) => {
  const n = await startTestNode(t);
  // Ready only while /tmp/ready exists (exec probe inside the Pod); tcp + http probes run from the node netns.
  await n.createPod('gated', { containers: [{
    name: 'c', image: 'busybox', command: ['sh', '-c', 'httpd -p 8080 -h /etc; sleep 3600'], ports: [{ name: 'http', containerPort: 8080 }],
    readinessProbe: { exec: { command: ['test', '-e', `${n.opts.stateDir}/ready-gated`] }, periodSeconds: 1, failureThreshold: 1 },
    livenessProbe: { httpGet: { path: '/hosts', port: 'http' }, periodSeconds: 1, failureThreshold: 2 },
    startupProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1, failureThreshold: 10 },
  }] });
  let p = await n.waitPod('gated', (x) => cstatus(x, 'c')?.started === true);
  assert.equal(isReady(p), false);
  assert.equal(p.status?.conditions?.find((c) => c.type === 'ContainersReady')?.status, 'False');
  await n.exec('gated', ['touch', `${n.opts.stateDir}/ready-gated`]);
  p = await n.waitPod('gated', isReady);
  assert.equal(cstatus(p, 'c')?.restartCount, 0);

  // Liveness: an httpGet probe from the node namespace; break it and the container restarts.
  await n.createPod('live', { restartPolicy: 'Always', containers: [{
    name: 'c', image: 'busybox', command: ['sh', '-c', 'mkdir -p $M/www && touch $M/www/ok && httpd -f -p 8080 -h $M/www'], env: [{ name: 'M', value: `${n.opts.stateDir}/m` }],
    // initialDelaySeconds: the first probe must not race httpd's start (it would restart a healthy container).
    livenessProbe: { httpGet: { path: '/ok', port: 8080 }, initialDelaySeconds: 1, periodSeconds: 1, failureThreshold: 1 },
  }] });
  await n.waitPod('live', isReady);
  // Ready (no readiness probe) as soon as the shell starts, maybe before it touched the file: wait for it.
  let rm = await n.exec('live', ['rm', `${n.opts.stateDir}/m/www/ok`]);
  for (let i = 0; i < 50 && rm.code !== 0 && /No such file/.test(rm.stderr); i++) {
    await new Promise((r) => setTimeout(r, 100));
    rm = await n.exec('live', ['rm', `${n.opts.stateDir}/m/www/ok`]);
  }
  assert.equal(rm.code, 0, `rm in the container: ${rm.stdout}${rm.stderr}`);
  p = await n.waitPod('live', (x) => (cstatus(x, 'c')?.restartCount ?? 0) >= 1, 10_000);
  assert.equal(cstatus(p, 'c')?.lastState?.terminated?.reason, 'Error');

  // Crash loop: exit 1 → restarted at once, then CrashLoopBackOff with the kubelet's message.
  await n.createPod('crash', { containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'echo boom; exit 1'] }] });
  p = await n.waitPod('crash', (x) => cstatus(x, 'c')?.state?.waiting?.reason === 'CrashLoopBackOff');
  const cs = cstatus(p, 'c')!;
  assert.ok(cs.restartCount >= 1);
  assert.match(cs.state!.waiting!.message!, /^back-off \d+s restarting failed container=c pod=crash_default\(/);
  assert.equal(cs.lastState?.terminated?.exitCode, 1);
  p = await n.waitPod('crash', (x) => cstatus(x, 'c')!.restartCount >= 3, 15_000);
  assert.match(cstatus(p, 'c')!.state!.waiting?.message ?? 'back-off 4s', /back-off (2|4|8)s/);
  // logs --previous shows the previous instance's output.
  const prev: Buffer[] = [];
  for await (const c of await n.agent.logs('default', 'crash', { previous: true }, new AbortController().signal)) prev.push(Buffer.from(c));
  assert.equal(Buffer.concat(prev).toString(), 'boom\n');
});

test('every failed probe is a Warning Unhealthy Event with the kubelet message; repeats raise its count', async (t) => {
  const n = await startTestNode(t);
  // nginx answers 404 for /nope: the readiness probe fails at every attempt (periodSeconds 1 = 200 ms here).
  await n.createPod('notready', { containers: [{
    name: 'web', image: 'nginx', ports: [{ containerPort: 80 }],
    readinessProbe: { httpGet: { path: '/nope', port: 80 }, periodSeconds: 1, failureThreshold: 3 },
  }] });
  await n.waitPod('notready', (x) => x.status?.phase === 'Running');
  // (A first attempt may race nginx's start and fail with "connection refused": its own Event.)
  const msg = 'Readiness probe failed: HTTP probe failed with statuscode: 404';
  const unhealthy = async () => (await n.client.list<Event>(R.events, 'default')).items.filter((e) => e.involvedObject?.name === 'notready' && e.reason === 'Unhealthy' && e.message === msg);
  const deadline = Date.now() + 15_000;
  let evs = await unhealthy();
  while (!(evs.length === 1 && (evs[0]!.count ?? 0) >= 4) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    evs = await unhealthy();
  }
  assert.equal(evs.length, 1, `one aggregated event per message, got ${JSON.stringify(evs.map((e) => [e.message, e.count]))}`);
  const ev = evs[0]!;
  assert.equal(ev.type, 'Warning');
  assert.ok((ev.count ?? 0) >= 4, `count grows with every failed attempt (got ${ev.count})`);
  assert.equal(ev.involvedObject.fieldPath, 'spec.containers{web}');
  assert.equal(ev.source?.component, 'kubelet');
  assert.ok(ev.firstTimestamp && ev.lastTimestamp && ev.lastTimestamp >= ev.firstTimestamp);
  assert.equal(isReady(await n.waitPod('notready', () => true)), false);
});

test('unknown image: ErrImagePull then ImagePullBackOff, with an Event saying how to add it', async (t) => {
  const n = await startTestNode(t);
  await n.createPod('nope', { containers: [{ name: 'c', image: 'hotel-app:1.0.0' }] });
  const p = await n.waitPod('nope', (x) => cstatus(x, 'c')?.state?.waiting?.reason === 'ImagePullBackOff');
  assert.equal(p.status?.phase, 'Pending');
  const evs = await n.client.list<Event>(R.events, 'default');
  const ev = evs.items.find((e) => e.involvedObject?.name === 'nope' && e.message?.includes('images.json'));
  assert.ok(ev, 'an Event tells how to add the image');
  assert.match(ev!.message!, /Failed to pull image "hotel-app:1\.0\.0"/);
});

test('restartPolicy Never: Succeeded / Failed; env with fieldRef and Service links', async (t) => {
  const n = await startTestNode(t);
  await n.client.create(R.services, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web-svc', namespace: 'default' },
    spec: { clusterIP: '10.96.0.50', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } });
  await n.createPod('ok', { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', workingDir: '/tmp',
    command: ['sh', '-c', 'echo "$POD_NAME $POD_IP $WEB_SVC_SERVICE_HOST $WEB_SVC_PORT_80_TCP $(pwd)"'],
    env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }] }] });
  await n.createPod('bad', { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['false'] }] });
  const ok = await n.waitPod('ok', (x) => x.status?.phase === 'Succeeded');
  const bad = await n.waitPod('bad', (x) => x.status?.phase === 'Failed');
  assert.equal(cstatus(ok, 'c')?.state?.terminated?.reason, 'Completed');
  assert.equal(cstatus(bad, 'c')?.state?.terminated?.exitCode, 1);
  const out: Buffer[] = [];
  for await (const c of await n.agent.logs('default', 'ok', {}, new AbortController().signal)) out.push(Buffer.from(c));
  assert.equal(Buffer.concat(out).toString(), `ok ${ok.status!.podIP} 10.96.0.50 tcp://10.96.0.50:80 /tmp\n`);

  // Init containers run to completion, in order, before the containers start.
  const M = `${n.opts.stateDir}/init-marker`;
  await n.createPod('withinit', { restartPolicy: 'Never',
    initContainers: [{ name: 'i1', image: 'busybox', command: ['sh', '-c', `echo one > ${M}`] },
      { name: 'i2', image: 'busybox', command: ['sh', '-c', `sleep 0.2; echo two >> ${M}`] }],
    containers: [{ name: 'main', image: 'busybox', command: ['cat', M] }] });
  const wi = await n.waitPod('withinit', (x) => x.status?.phase === 'Succeeded');
  assert.equal(wi.status?.conditions?.find((c) => c.type === 'Initialized')?.status, 'True');
  assert.deepEqual(wi.status?.initContainerStatuses?.map((c) => c.state?.terminated?.reason), ['Completed', 'Completed']);
  let mainOut = '';
  for await (const c of await n.agent.logs('default', 'withinit', { container: 'main' }, new AbortController().signal)) mainOut += c.toString();
  assert.equal(mainOut, 'one\ntwo\n');
});

test('graceful termination: preStop runs, SIGTERM, then the Pod is removed with everything it had', async (t) => {
  const n = await startTestNode(t);
  await n.createPod('g', { terminationGracePeriodSeconds: 5, containers: [{
    name: 'c', image: 'busybox',
    env: [{ name: 'M', value: n.opts.stateDir }],
    command: ['sh', '-c', 'trap "echo got-TERM >> $M/term; exit 0" TERM; while true; do sleep 0.1; done'],
    lifecycle: { preStop: { exec: { command: ['sh', '-c', `echo prestop > ${n.opts.stateDir}/prestop`] } } },
  }] });
  const p = await n.waitPod('g', isReady);
  const w = n.agent.worker('default', 'g')!;
  const holder = w.sandbox!.holderPid;
  const logDir = w.dir;
  // Graceful delete: the API server marks the Pod (deletionTimestamp + grace); the agent stops it and
  // deletes the object with grace 0.
  const t0 = Date.now();
  const marked = await n.client.delete<Pod>(R.pods, 'default', 'g', { gracePeriodSeconds: 5 });
  assert.ok(marked.metadata?.deletionTimestamp, 'graceful delete marks the Pod');
  const deadline = Date.now() + 8000;
  let gone = false;
  while (Date.now() < deadline && !gone) {
    try { await n.client.get(R.pods, 'default', 'g'); await new Promise((r) => setTimeout(r, 50)); } catch { gone = true; }
  }
  assert.ok(gone, 'the agent removes the Pod object after stopping it');
  assert.ok(Date.now() - t0 < 4000, 'a Pod that exits on SIGTERM does not wait out the grace period');
  assert.throws(() => process.kill(holder, 0));
  assert.equal((await import('node:fs')).existsSync(logDir), false);
  assert.ok(p.status?.podIP);
  const fs = await import('node:fs');
  assert.equal(fs.readFileSync(`${n.opts.stateDir}/prestop`, 'utf8'), 'prestop\n');
  assert.equal(fs.readFileSync(`${n.opts.stateDir}/term`, 'utf8'), 'got-TERM\n');
});

/**
 * End-to-end (root, real kernel): the PodStreamProvider side of logs/exec/attach/port-forward, and
 * Node registration with its Lease. Leak-checked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import type { Node } from 'kubernetes-types/core/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { R } from '../../src/api/resources.js';
import { cstatus, isReady, startTestNode } from '../../src/node/testing/harness.js';

async function readUntil(r: Readable, pred: (s: string) => boolean, ms = 5000): Promise<string> {
  let buf = '';
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out; got ${JSON.stringify(buf)}`)), ms);
    r.on('data', (d: Buffer) => { buf += d.toString(); if (pred(buf)) { clearTimeout(t); resolve(buf); } });
  });
}

test('exec with a TTY, attach to a stdin+tty container, port-forward, logs follow/tail', async (t) => {
  const n = await startTestNode(t);
  await n.createPod('web', { containers: [{ name: 'nginx', image: 'nginx' }] });
  await n.createPod('shell', { restartPolicy: 'Never', containers: [{ name: 'sh', image: 'busybox', stdin: true, tty: true }] });
  await n.createPod('ticker', { containers: [{ name: 't', image: 'busybox', command: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo line-$i; sleep 0.1; done'] }] });
  await n.waitPod('web', isReady);
  await n.waitPod('shell', isReady);
  await n.waitPod('ticker', isReady);

  // exec -t: a real pseudo-terminal, exit code passed through.
  const s = await n.agent.exec('default', 'shell', { command: ['sh', '-c', 'tty; exit 7'], stdin: true, stdout: true, stderr: true, tty: true });
  assert.equal(s.stderr, undefined);
  const out = readUntil(s.stdout!, (x) => x.includes('/dev/pts/'));
  s.resize?.(100, 30);
  assert.match(await out, /\/dev\/pts\/\d+/);
  assert.deepEqual(await s.result, { exitCode: 7 });

  // attach (kubectl run -it): type into the container's shell, see its terminal output.
  const a = await n.agent.attach('default', 'shell', { stdin: true, stdout: true, stderr: false, tty: true });
  const seen = readUntil(a.stdout!, (x) => x.includes('attached-3'));
  a.stdin!.write('echo attached-$((1+2))\n');
  await seen;
  a.stdin!.write('exit 5\n');
  assert.deepEqual(await a.result, { exitCode: 5 });
  const done = await n.waitPod('shell', (p) => p.status?.phase === 'Failed');
  assert.equal(cstatus(done, 'sh')?.state?.terminated?.exitCode, 5);

  // port-forward: bytes to port 80 inside the Pod's namespace.
  const pf = await n.agent.portForward('default', 'web', 80);
  const page = readUntil(pf, (x) => x.includes('</html>'));
  pf.write('GET / HTTP/1.0\r\nHost: x\r\n\r\n');
  assert.match(await page, /Welcome to nginx!/);
  pf.destroy();

  // logs: tail and follow (new lines keep arriving), timestamps.
  const ac = new AbortController();
  const tail = await n.agent.logs('default', 'ticker', { tailLines: 2, timestamps: true }, ac.signal);
  let text = '';
  for await (const c of tail) text += c.toString();
  const lines = text.trim().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line-\d+$/);
  const follow = await n.agent.logs('default', 'ticker', { follow: true, tailLines: 1 }, ac.signal);
  const last = Number(/line-(\d+)/.exec(lines[1]!)![1]);
  await readUntil(follow, (x) => x.includes(`line-${last + 3}\n`));
  ac.abort();
});

test('Node registered with podCIDR, Ready, capacity, v1.32.0; Lease renewed; NotReady after stop', async (t) => {
  const n = await startTestNode(t);
  const node = await n.client.get<Node>(R.nodes, undefined, n.opts.nodeName);
  assert.equal(node.spec?.podCIDR, '10.244.0.0/24');
  assert.equal(node.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  assert.equal(node.status?.nodeInfo?.kubeletVersion, 'v1.32.0');
  assert.deepEqual(node.status?.addresses?.[0], { type: 'InternalIP', address: '10.244.0.1' });
  assert.ok(Number(node.status?.capacity?.pods) > 0 && node.status?.allocatable?.cpu);
  const l1 = await n.client.get<Lease>(R.leases, 'kube-node-lease', n.opts.nodeName);
  assert.equal(l1.spec?.holderIdentity, n.opts.nodeName);
  await new Promise((r) => setTimeout(r, 1500));
  const l2 = await n.client.get<Lease>(R.leases, 'kube-node-lease', n.opts.nodeName);
  assert.notEqual(l2.spec?.renewTime, l1.spec?.renewTime);
  await n.agent.stop();
  const after = await n.client.get<Node>(R.nodes, undefined, n.opts.nodeName);
  assert.equal(after.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
  await n.shutdown();
});

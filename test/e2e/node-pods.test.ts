/**
 * End-to-end (root, real kernel): Pods as processes in their own network namespaces, run by the
 * node agent against the API. Every test ends with a leak check (no netns, veth or process left).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isReady, startTestNode } from '../../src/node/testing/harness.js';

test('nginx Pod serves the welcome page to a busybox Pod over the bridge; hostname and resolv.conf', async (t) => {
  const n = await startTestNode(t);
  await n.createPod('web', { containers: [{ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] });
  await n.createPod('client', { containers: [{ name: 'bb', image: 'busybox', command: ['sleep', '3600'] }] });
  const web = await n.waitPod('web', isReady);
  await n.waitPod('client', isReady);
  assert.equal(web.status?.phase, 'Running');
  assert.match(web.status?.podIP ?? '', /^10\.244\.0\.\d+$/);
  // From inside the client Pod's namespaces to the nginx Pod's IP.
  let page = '';
  for (let i = 0; i < 20 && !page.includes('Welcome to nginx!'); i++) {
    page = (await n.exec('client', ['wget', '-qO-', `http://${web.status!.podIP}/`])).stdout;
    if (!page.includes('Welcome')) await new Promise((r) => setTimeout(r, 100));
  }
  assert.match(page, /Welcome to nginx!/);
  assert.equal((await n.exec('client', ['hostname'])).stdout.trim(), 'client');
  assert.equal((await n.exec('client', ['cat', '/etc/resolv.conf'])).stdout,
    'search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n');
  const r = await n.exec('client', ['sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.deepEqual(r, { code: 3, stdout: 'out\n', stderr: 'err\n' });
  // nginx's access log reaches the container log (pods/log).
  const chunks: Buffer[] = [];
  for await (const c of await n.agent.logs('default', 'web', {}, new AbortController().signal)) chunks.push(Buffer.from(c));
  assert.match(Buffer.concat(chunks).toString(), /GET \/ HTTP\/1\.1" 200/);
});

test('agnhost netexec, curlimages/curl entrypoint semantics, a user image from images.json', async (t) => {
  const n = await startTestNode(t);
  const fs = await import('node:fs');
  fs.writeFileSync(`${n.opts.stateDir}/images.json`, JSON.stringify({ 'hotel-app:1.0.0': { command: ['busybox', 'httpd', '-f', '-p', '8080', '-h', '/etc'] } }));
  await n.createPod('agn', { containers: [{ name: 'a', image: 'registry.k8s.io/e2e-test-images/agnhost:2.52', args: ['netexec', '--http-port=8080'],
    readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 } }] });
  await n.createPod('hotel', { containers: [{ name: 'h', image: 'hotel-app:1.0.0' }] });
  const agn = await n.waitPod('agn', isReady);
  const hotel = await n.waitPod('hotel', isReady);
  await n.createPod('curl', { restartPolicy: 'Never', containers: [{ name: 'c', image: 'curlimages/curl',
    args: ['-s', `http://${agn.status!.podIP}:8080/hostname`, `http://${agn.status!.podIP}:8080/clientip`, '-o', '/dev/stdout', `http://${hotel.status!.podIP}:8080/hostname`] }] });
  const curl = await n.waitPod('curl', (p) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed');
  assert.equal(curl.status?.phase, 'Succeeded');
  let out = '';
  for await (const c of await n.agent.logs('default', 'curl', {}, new AbortController().signal)) out += c.toString();
  // agnhost's /hostname and /clientip (the curl Pod's own IP), then the user image's httpd serving
  // the Pod's own /etc/hostname (bind-mounted in the Pod's mount namespace).
  assert.match(out, new RegExp(`^agn${curl.status!.podIP!.replace(/\./g, '\\.')}:\\d+hotel\n$`));
  await assert.rejects(n.exec('curl', ['true']), 'no exec into a finished container');
});

/**
 * pods/exec and pods/attach over SPDY/3.1 with the REAL kubectl (KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false
 * makes it speak only SPDY, as kubectl < 1.30 and client-go's SPDY executor do), and the answer to
 * an exec into a container that is not running: the kubelet's words, before any upgrade, so kubectl
 * — WebSocket first, then its SPDY fallback — prints `unable to upgrade connection: container not
 * found ("bad")`. The Pod side is the harness's fake stream provider (no processes).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../src/api/resources.js';
import { StreamRefusal, type PodStreamProvider } from '../../src/api/streams.js';
import { startTestCluster, type TestCluster } from '../harness/cluster.js';
import { fakeStreams } from '../harness/fake-streams.js';

/** The fake provider, except that container "bad" is not running (what the node agent says then). */
const streams: PodStreamProvider = {
  ...fakeStreams,
  async exec(ns, pod, opts) {
    if (opts.container === 'bad') throw new StreamRefusal(500, 'container not found ("bad")');
    return fakeStreams.exec(ns, pod, opts);
  },
  async attach(ns, pod, opts) {
    if (opts.container === 'bad') throw new StreamRefusal(500, 'container not found ("bad")');
    return fakeStreams.attach(ns, pod, opts);
  },
};

let c: TestCluster;
before(async () => {
  c = await startTestCluster(undefined, { streams });
  await c.core.create(R.pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'box' }, spec: { containers: [{ name: 'main', image: 'busybox' }, { name: 'bad', image: 'missing' }] } } as never);
});
after(() => c?.close());

const SPDY = { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' };

test('exec over SPDY: output, stdin, stderr and exit codes', async () => {
  let r = await c.kubectl(['exec', 'box', '-c', 'main', '--', 'echo', 'hello', 'spdy'], { env: SPDY });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'hello spdy\n');
  r = await c.kubectl(['exec', '-i', 'box', '-c', 'main', '--', 'cat'], { env: SPDY, input: 'one\ntwo\n' });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'one\ntwo\n');
  r = await c.kubectl(['exec', 'box', '-c', 'main', '--', 'exit', '3'], { env: SPDY });
  assert.equal(r.code, 3);
  assert.equal(r.stderr, 'bye\ncommand terminated with exit code 3\n');
  r = await c.kubectl(['attach', '-i', 'box', '-c', 'main'], { env: SPDY, input: 'attached over spdy\n' });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /attached over spdy\n$/);
});

test('exec into a container that is not running prints the kubelet\'s reason, over WebSocket-then-SPDY and SPDY alone', async () => {
  for (const env of [{}, SPDY]) {
    const r = await c.kubectl(['exec', 'box', '-c', 'bad', '--', 'echo', 'x'], { env });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'error: unable to upgrade connection: container not found ("bad")\n', JSON.stringify(env));
    assert.doesNotMatch(r.stderr, /subprotocol/);
  }
  const a = await c.kubectl(['attach', 'box', '-c', 'bad'], { env: SPDY });
  assert.match(a.stderr, /unable to upgrade connection: container not found \("bad"\)/);
  const missing = await c.kubectl(['exec', 'nope', '--', 'echo'], { env: SPDY });
  assert.equal(missing.stderr, 'Error from server (NotFound): pods "nope" not found\n');
});

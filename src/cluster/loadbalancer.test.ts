import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect, createServer, type Server } from 'node:net';
import { startLoadBalancer } from './loadbalancer.js';

async function named(name: string): Promise<{ server: Server; url: string }> {
  const server = createServer((s) => { s.end(name); s.on('error', () => undefined); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `https://127.0.0.1:${(server.address() as { port: number }).port}` };
}

function ask(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    let got = '';
    s.on('data', (d) => { got += d; });
    s.on('close', () => resolve(got));
    s.on('error', () => resolve('ERROR'));
  });
}

test('the load balancer skips an unreachable server, sticks to the one that answers, fails over when it dies, and learns new servers', async (t) => {
  const a = await named('A');
  const b = await named('B');
  const dead = await named('dead');
  await new Promise<void>((r) => dead.server.close(() => r()));
  const lb = await startLoadBalancer({ servers: [dead.url, a.url, b.url], connectTimeoutMs: 500 });
  t.after(async () => { await lb.close(); a.server.close(); b.server.close(); });
  assert.match(lb.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(await ask(lb.port), 'A');
  assert.deepEqual(lb.servers(), [a.url, dead.url, b.url], 'the server that answered is preferred');
  assert.equal(await ask(lb.port), 'A');
  await new Promise<void>((r) => a.server.close(() => r()));
  assert.equal(await ask(lb.port), 'B', 'A is gone: the next connection reaches B');
  assert.equal(lb.servers()[0], b.url);
  const c = await named('C');
  t.after(() => c.server.close());
  lb.setServers([c.url, b.url]);
  assert.deepEqual(lb.servers(), [b.url, c.url], 'the preferred server stays first while it is listed');
  lb.setServers([c.url]);
  assert.equal(await ask(lb.port), 'C');
  await new Promise<void>((r) => b.server.close(() => r()));
  await new Promise<void>((r) => c.server.close(() => r()));
  assert.equal(await ask(lb.port), '', 'no server left: the connection is closed');
});

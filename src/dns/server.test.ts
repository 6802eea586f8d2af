// Wire-level tests of the DNS server with real packets: the server listens on 127.0.0.1 (loopback
// only) and is queried with dig (bind9-dnsutils) over UDP and TCP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import dgram from 'node:dgram';
import { FakeClient } from '../client/testing/fake.js';
import { R } from '../api/resources.js';
import { startDnsServer } from './server.js';
import { slice, svc } from './testing.js';

const run = promisify(execFile);

async function dig(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(port), '+time=2', '+tries=1', ...args]);
  return stdout;
}

test('answers over UDP and TCP, NXDOMAIN with SOA, REFUSED outside the zone, changes within 50 ms', async (t) => {
  const client = new FakeClient();
  await client.create(R.services, 'default', svc('default', 'nginx-service', { clusterIP: '10.96.7.7', clusterIPs: ['10.96.7.7'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }));
  const server = await startDnsServer({ client, listen: { address: '127.0.0.1', port: 0 } });
  t.after(() => server.stop());
  await server.synced;

  assert.equal((await dig(server.port, '+short', 'nginx-service.default.svc.cluster.local')).trim(), '10.96.7.7');
  assert.equal((await dig(server.port, '+short', '+tcp', 'nginx-service.default.svc.cluster.local')).trim(), '10.96.7.7');
  assert.equal((await dig(server.port, '+short', 'SRV', '_http._tcp.nginx-service.default.svc.cluster.local')).trim(),
    '0 100 80 nginx-service.default.svc.cluster.local.');
  const nx = await dig(server.port, 'nope.default.svc.cluster.local');
  assert.match(nx, /status: NXDOMAIN/);
  assert.match(nx, /AUTHORITY: 1/);
  assert.match(nx, /flags: qr aa rd ra/);
  assert.match(await dig(server.port, 'AAAA', 'nginx-service.default.svc.cluster.local'), /status: NOERROR.*\n.*ANSWER: 0, AUTHORITY: 1/);
  const refused = await dig(server.port, 'example.com');
  assert.match(refused, /status: REFUSED/);

  // A change is answered within 50 ms of reaching the server.
  await client.create(R.services, 'default', svc('default', 'late', { clusterIP: '10.96.8.8', ports: [{ port: 80 }] }));
  const t0 = Date.now();
  let answer = '';
  while (Date.now() - t0 < 50 && answer !== '10.96.8.8') answer = (await dig(server.port, '+short', 'late.default.svc.cluster.local')).trim();
  assert.equal(answer, '10.96.8.8');
});

test('replies are compressed; a truncated UDP reply carries the whole answers that fit, TCP the rest', async (t) => {
  const client = new FakeClient();
  await client.create(R.services, 'big', svc('big', 'many', { clusterIP: 'None' }));
  await client.create(R.services, 'big', svc('big', 'few', { clusterIP: 'None' }));
  const pods = (n: number, base: number) => Array.from({ length: n }, (_, i) => ({ addresses: [`10.244.${base}.${i + 2}`], conditions: { ready: true } }));
  await client.create(R.endpointslices, 'big', slice('big', 'many', 'many-1', pods(60, 1)));
  await client.create(R.endpointslices, 'big', slice('big', 'few', 'few-1', pods(10, 2)));
  const server = await startDnsServer({ client, listen: { address: '127.0.0.1', port: 0 } });
  t.after(() => server.stop());
  await server.synced;
  const size = (out: string) => Number(/MSG SIZE\s+rcvd: (\d+)/.exec(out)?.[1]);
  const answers = (out: string) => Number(/ANSWER: (\d+)/.exec(out)?.[1]);

  // "few.big.svc.cluster.local" is 27 bytes on the wire: header 12 + question 31 = 43, then each
  // A answer is a 2-byte pointer to the question's name + 10 + 4 = 16 bytes (29 uncompressed).
  const few = await dig(server.port, '+noedns', 'few.big.svc.cluster.local');
  assert.equal(answers(few), 10);
  assert.equal(size(few), 43 + 10 * 16);

  // "many..." is one byte longer (question ends at 44); 512 bytes hold 44 + 29 × 16: 29 whole answers, TC set (dig +ignore: do not retry over TCP).
  const udp = await dig(server.port, '+noedns', '+ignore', 'many.big.svc.cluster.local');
  assert.match(udp, /flags: qr aa tc rd ra;/);
  assert.equal(answers(udp), 29);
  assert.equal(size(udp), 44 + 29 * 16);
  const shown = [...udp.matchAll(/^\S+\s+\d+\s+IN\s+A\s+(\S+)$/gm)].map((m) => m[1]);
  assert.deepEqual(shown, pods(29, 1).map((p) => p.addresses[0]));
  // Without +ignore dig sees TC and asks again over TCP, as a resolver does: all 60.
  const retried = await dig(server.port, '+noedns', 'many.big.svc.cluster.local');
  assert.equal(answers(retried), 60);
  assert.doesNotMatch(retried, /flags:[^;]* tc/);
  assert.equal((await dig(server.port, '+tcp', '+short', 'many.big.svc.cluster.local')).trim().split('\n').length, 60);
  // EDNS 1232 (dig's default): everything fits in one UDP reply, which carries an OPT record.
  const edns = await dig(server.port, '+notcp', 'many.big.svc.cluster.local');
  assert.equal(answers(edns), 60);
  assert.match(edns, /EDNS: version: 0, flags:; udp: 1232/);
});

test('SERVFAIL before the informers have synced', async (t) => {
  const client = new FakeClient();
  // A list that never returns keeps the feed unsynced.
  client.list = () => new Promise(() => {});
  const server = await startDnsServer({ client, listen: { address: '127.0.0.1', port: 0 } });
  t.after(() => server.stop());
  assert.match(await dig(server.port, 'anything.default.svc.cluster.local'), /status: SERVFAIL/);
});

test('forwards names outside the zone to the upstream', async (t) => {
  // A stub upstream on loopback that answers every query with one fixed A record.
  const upstream = dgram.createSocket('udp4');
  upstream.on('message', async (msg, rinfo) => {
    const packet = await import('dns-packet');
    const q = packet.decode(msg);
    upstream.send(packet.encode({ id: q.id, type: 'response', flags: packet.RECURSION_AVAILABLE, questions: q.questions,
      answers: [{ name: q.questions![0].name, type: 'A', ttl: 60, class: 'IN', data: '192.0.2.1' }] }), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => upstream.bind(0, '127.0.0.1', () => r()));
  t.after(() => upstream.close());
  const client = new FakeClient();
  const server = await startDnsServer({ client, listen: { address: '127.0.0.1', port: 0 }, upstream: `127.0.0.1:${upstream.address().port}` });
  t.after(() => server.stop());
  await server.synced;
  assert.equal((await dig(server.port, '+short', 'example.org')).trim(), '192.0.2.1');
});

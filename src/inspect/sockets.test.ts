import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listeningOn, parseSs } from './sockets.js';

const SS = `tcp LISTEN 0      511    0.0.0.0:80 0.0.0.0:* users:(("nginx",pid=32122,fd=4),("nginx",pid=32121,fd=4))
udp UNCONN 0      0      0.0.0.0:53 0.0.0.0:* users:(("node",pid=31971,fd=19))
tcp LISTEN 0      4096   127.0.0.1:8080 0.0.0.0:* users:(("busybox",pid=7,fd=3))
tcp LISTEN 0      4096   [::]:9090 [::]:*
tcp LISTEN 0      4096   *:7070 *:*
`;

test('ss lines: protocol, address, port, process and pids', () => {
  const l = parseSs(SS);
  assert.deepEqual(l[0], { protocol: 'TCP', address: '0.0.0.0', port: 80, process: 'nginx', pids: [32122, 32121] });
  assert.deepEqual(l[1], { protocol: 'UDP', address: '0.0.0.0', port: 53, process: 'node', pids: [31971] });
  assert.deepEqual(l.slice(3).map((x) => [x.address, x.port]), [['::', 9090], ['0.0.0.0', 7070]]);
});

test('listening: on any address, only on loopback, not at all, or another protocol', () => {
  const l = parseSs(SS);
  assert.equal(listeningOn(l, 80, 'TCP').state, 'yes');
  assert.equal(listeningOn(l, 8080, 'TCP').state, 'loopback');
  assert.equal(listeningOn(l, 81, 'TCP').state, 'no');
  assert.equal(listeningOn(l, 53, 'TCP').state, 'no', 'only UDP on 53');
  assert.equal(listeningOn(l, 9090, 'TCP').state, 'yes');
});

test('reading a namespace that does not exist is an error for it alone', async () => {
  const { readListeners } = await import('./sockets.js');
  const m = await readListeners(['cip-nonexistent-s16test']);
  const v = m.get('cip-nonexistent-s16test');
  assert.ok(v instanceof Error && /cannot read sockets in network namespace cip-nonexistent-s16test/.test(v.message), String(v));
});

test('ss -e: the socket inode (the owner is looked up among the namespace\'s processes, not with -p)', () => {
  const l = parseSs('tcp LISTEN 0      511    0.0.0.0:80 0.0.0.0:* ino:695064 sk:31 cgroup:unreachable:1 <->\n');
  assert.deepEqual(l, [{ protocol: 'TCP', address: '0.0.0.0', port: 80, pids: [], inode: 695064 }]);
});


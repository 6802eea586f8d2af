import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listeningOn, parseProcNetUdp, parseSs } from './sockets.js';

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


test('ss with one protocol and one state leaves out Netid and State: the protocol is given', () => {
  const tcp = parseSs('0      511    0.0.0.0:80 0.0.0.0:* ino:695064 sk:31 cgroup:unreachable:1 <->\n0 4096 [::]:9090 [::]:* ino:7 sk:2 <->\n', 'TCP');
  assert.deepEqual(tcp, [{ protocol: 'TCP', address: '0.0.0.0', port: 80, pids: [], inode: 695064 }, { protocol: 'TCP', address: '::', port: 9090, pids: [], inode: 7 }]);
  const udp = parseSs('UNCONN 0      0      0.0.0.0:53 0.0.0.0:* ino:9639685 sk:1219 cgroup:unreachable:1 <->\n', 'UDP');
  assert.deepEqual(udp, [{ protocol: 'UDP', address: '0.0.0.0', port: 53, pids: [], inode: 9639685 }]);
  assert.deepEqual(parseSs('0 511 0.0.0.0:80 0.0.0.0:*\n'), [], 'no protocol column and none given: nothing guessed');
});

test('/proc/<pid>/net/udp[6]: unconnected sockets only, addresses as ss prints them, the inode', () => {
  const udp = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
13287: 0100007F:14EC 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 9845465 2 0000000033ccbfc6 0
13290: 0100007F:14EF 0100007F:14EC 01 00000000:00000000 00:00000000 00000000     0        0 9845468 2 00000000c2321210 0
  201: 00000000:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 9639685 2 0000000033ccbfc6 0
`;
  assert.deepEqual(parseProcNetUdp(udp), [
    { protocol: 'UDP', address: '127.0.0.1', port: 5356, pids: [], inode: 9845465 },
    { protocol: 'UDP', address: '0.0.0.0', port: 53, pids: [], inode: 9639685 },
  ], 'the connected socket (state 01) is not listening');
  const udp6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
13284: 00000000000000000000000000000000:14E9 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 9845462 2 00000000f4d75255 0
13286: 00000000000000000000000001000000:14EB 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 9845464 2 00000000894aa230 0
13288: 0000000000000000FFFF00000100007F:14ED 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 9845466 2 00000000986bdea6 0
13289: 000080FE000000000000000001000000:0035 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1 2 00000000986bdea6 0
`;
  assert.deepEqual(parseProcNetUdp(udp6).map((l) => [l.address, l.port]), [['::', 5353], ['::1', 5355], ['::ffff:127.0.0.1', 5357], ['fe80::1', 53]]);
  assert.equal(listeningOn(parseProcNetUdp(udp6), 5355, 'UDP').state, 'loopback');
});

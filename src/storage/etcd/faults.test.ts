/**
 * The etcd backend against real etcd faults: TLS client certificates, etcd killed and restarted,
 * a watch cut off while another client writes and compacts (the watch must report Compacted, never
 * skip), consistent list snapshots at a revision.
 */
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { it } from 'node:test';
import { isStorageError, type StorageEvent } from '../storage.js';
import { startTestEtcd, uniquePrefix } from '../testing/etcd.js';
import { parseEndpoint } from './client.js';
import { EtcdStorage, prefixRangeEnd } from './storage.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A TCP forwarder on loopback that the test can cut (drop every connection, refuse new ones) and restore. */
async function cuttableProxy(target: string): Promise<{ url: string; cut(): void; restore(): void; close(): Promise<void> }> {
  const { target: hostPort } = parseEndpoint(target);
  const [host, port] = [hostPort.slice(0, hostPort.lastIndexOf(':')), Number(hostPort.slice(hostPort.lastIndexOf(':') + 1))];
  const sockets = new Set<Socket>();
  let open = true;
  const server: Server = createServer((c) => {
    if (!open) { c.destroy(); return; }
    const u = connect(port, host);
    sockets.add(c); sockets.add(u);
    c.pipe(u); u.pipe(c);
    const done = (): void => { c.destroy(); u.destroy(); sockets.delete(c); sockets.delete(u); };
    c.on('error', done); u.on('error', done); c.on('close', done); u.on('close', done);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const p = (server.address() as { port: number }).port;
  return {
    url: `${target.startsWith('https') ? 'https' : 'http'}://127.0.0.1:${p}`,
    cut: () => { open = false; for (const s of sockets) s.destroy(); sockets.clear(); },
    restore: () => { open = true; },
    close: () => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

it('prefixRangeEnd and endpoint parsing follow etcd', () => {
  assert.deepEqual(prefixRangeEnd(Buffer.from('/a/')), Buffer.from('/a0'));
  assert.deepEqual(prefixRangeEnd(Buffer.from([0x61, 0xff])), Buffer.from([0x62]));
  assert.deepEqual(prefixRangeEnd(Buffer.from('')), Buffer.from([0]));
  assert.deepEqual(parseEndpoint('https://h1:2379'), { target: 'h1:2379', secure: true });
  assert.deepEqual(parseEndpoint('127.0.0.1:2379'), { target: '127.0.0.1:2379', secure: false });
  assert.throws(() => parseEndpoint('https://h1'), /port is required/);
});

it('etcd with client-certificate TLS: works with the client certificate, refused without it', async (t) => {
  const etcd = await startTestEtcd(t, { tls: true });
  assert.match(etcd.endpoints[0], /^https:\/\/127\.0\.0\.1:\d+$/);
  const s = await EtcdStorage.open({ ...etcd.clientOptions, prefix: uniquePrefix() });
  t.after(() => s.close());
  const a = await s.create('/k', 'v');
  assert.equal((await s.get('/k'))?.modRevision, a.modRevision);
  // Same CA, no client certificate: etcd's --client-cert-auth refuses the handshake.
  await assert.rejects(
    EtcdStorage.open({ endpoints: etcd.endpoints, caFile: etcd.clientOptions.caFile, requestTimeoutMs: 2000 }),
    (e: unknown) => isStorageError(e, 'Unavailable'),
  );
});

it('etcd killed and restarted: operations fail Unavailable meanwhile, then the watch resumes without loss', async (t) => {
  const etcd = await startTestEtcd(t);
  const s = await EtcdStorage.open({ ...etcd.clientOptions, prefix: uniquePrefix(), requestTimeoutMs: 1500 });
  t.after(() => s.close());
  const seen: string[] = [];
  s.watch('/w/', s.revision(), (ev) => seen.push(`${ev.type} ${ev.kv.key} ${ev.kv.value}`));
  await s.create('/w/a', '1');
  const m = etcd.members[0];
  await m.crash();
  await until(() => s.unavailable() !== undefined, 5000, 'the storage to notice');
  assert.match(s.unavailable()!, /etcd watch disconnected/);
  await assert.rejects(s.create('/w/b', '2'), (e: unknown) => isStorageError(e, 'Unavailable') && /etcd is unavailable/.test(e.message));
  await assert.rejects(s.get('/w/a'), (e: unknown) => isStorageError(e, 'Unavailable'));
  m.spawn(); // same data dir and ports
  await until(() => s.unavailable() === undefined, 15_000, 'the watch to reconnect');
  await s.update('/w/a', '3');
  await s.create('/w/c', '4');
  assert.deepEqual(seen, ['put /w/a 1', 'put /w/a 3', 'put /w/c 4']);
});

it('a watch cut off while others write and compact reports Compacted (never skips), then re-anchors', async (t) => {
  const etcd = await startTestEtcd(t);
  const proxy = await cuttableProxy(etcd.endpoints[0]);
  t.after(() => proxy.close());
  const prefix = uniquePrefix();
  const cut = await EtcdStorage.open({ endpoints: [proxy.url], prefix, requestTimeoutMs: 1500 });
  t.after(() => cut.close());
  const direct = await EtcdStorage.open({ ...etcd.clientOptions, prefix });
  t.after(() => direct.close());

  const seen: StorageEvent[] = [];
  let ended: unknown;
  cut.watch('/x/', cut.revision(), (ev) => seen.push(ev), (err) => { ended = err; });
  await cut.create('/x/a', '0');
  proxy.cut();
  await until(() => cut.unavailable() !== undefined, 5000, 'the cut watch to notice');
  for (let i = 1; i <= 5; i++) await direct.update('/x/a', String(i));
  await direct.compact(direct.revision());
  proxy.restore();
  await until(() => ended !== undefined, 15_000, 'the watch to end with Compacted');
  assert.ok(isStorageError(ended, 'Compacted'), `ended with ${String(ended)}`);
  assert.deepEqual(seen.map((e) => e.kv.value), ['0'], 'no event after the cut was delivered out of order or invented');
  // Re-anchored: a new watch from the current revision sees new writes; old revisions are Compacted.
  await until(() => cut.unavailable() === undefined, 10_000, 're-anchoring');
  assert.ok(cut.revision() >= direct.revision());
  assert.throws(() => cut.watch('/x/', seen[0].revision, () => {}), (e: unknown) => isStorageError(e, 'Compacted'));
  const after: string[] = [];
  cut.watch('/x/', cut.revision(), (ev) => after.push(ev.kv.value));
  await direct.update('/x/a', 'fresh');
  await until(() => after.length === 1, 5000, 'the new watch to see a write');
  assert.deepEqual(after, ['fresh']);
});

it('list pages at one revision are one snapshot; a compacted revision is Compacted', async (t) => {
  const etcd = await startTestEtcd(t);
  const s = await EtcdStorage.open({ ...etcd.clientOptions, prefix: uniquePrefix(), listPageSize: 2 });
  t.after(() => s.close());
  for (const k of ['a', 'b', 'c', 'd', 'e']) await s.create(`/l/${k}`, k);
  const p1 = await s.list('/l/', { limit: 2 });
  await s.delete('/l/c');
  await s.create('/l/cc', 'cc');
  const p2 = await s.list('/l/', { limit: 2, continueAfter: p1.continueAfter, revision: p1.revision });
  assert.deepEqual(p2.items.map((i) => i.value), ['c', 'd'], 'page 2 comes from the snapshot of page 1');
  assert.equal(p2.revision, p1.revision);
  const now = await s.list('/l/'); // unlimited: internal pages of 2, one snapshot
  assert.deepEqual(now.items.map((i) => i.value), ['a', 'b', 'cc', 'd', 'e']);
  await s.compact(s.revision());
  await assert.rejects(s.list('/l/', { limit: 2, continueAfter: p1.continueAfter, revision: p1.revision }), (e: unknown) => isStorageError(e, 'Compacted'));
});

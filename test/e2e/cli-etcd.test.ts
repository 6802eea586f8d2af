/**
 * The real CLI on etcd:
 * - `clusterip up --embedded-etcd` starts Debian's etcd as a supervised child (loopback,
 *   client-certificate TLS, data in <state-dir>/etcd), stores objects there, restarts etcd when it
 *   dies, keeps objects across `down`/`up`, and `down --purge` leaves no etcd process (the harness
 *   checks for leftovers mentioning the state dir);
 * - `clusterip up --store etcd --etcd-endpoints ... --etcd-cafile/--etcd-certfile/--etcd-keyfile
 *   --etcd-prefix` stores in an external etcd under the prefix.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { EtcdStorage } from '../../src/storage/etcd/storage.js';
import { startTestEtcd, uniquePrefix } from '../../src/storage/testing/etcd.js';
import { upCluster } from '../harness/up.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

it('clusterip up --embedded-etcd: objects live in a supervised etcd and survive its crash and a restart', { timeout: 240_000 }, async (t) => {
  const c = await upCluster(t, { extraArgs: ['--embedded-etcd'] });
  const etcdDir = join(c.stateDir, 'etcd');
  const r1 = await c.kubectl(['create', 'service', 'clusterip', 'web', '--tcp=80:8080']);
  assert.equal(r1.code, 0, r1.stderr);
  const ip = (await c.kubectl(['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
  assert.match(ip, /^10\.\d+\.\d+\.\d+$/);

  // The Service and its IPAddress claim are in etcd, reachable only with the client certificate.
  const ports = JSON.parse(readFileSync(join(etcdDir, 'ports.json'), 'utf8')) as { client: number };
  const pki = join(etcdDir, 'pki');
  const s = await EtcdStorage.open({
    endpoints: [`https://127.0.0.1:${ports.client}`], caFile: join(pki, 'ca.crt'),
    certFile: join(pki, 'apiserver-etcd-client.crt'), keyFile: join(pki, 'apiserver-etcd-client.key'),
  });
  t.after(() => s.close());
  const stored = await s.get('/registry/core/services/default/web');
  assert.equal((JSON.parse(stored!.value) as { spec: { clusterIP: string } }).spec.clusterIP, ip);
  assert.ok(await s.get(`/registry/networking.k8s.io/ipaddresses/${ip}`), 'the ClusterIP is claimed in etcd');

  // Kill etcd: the daemon restarts it and the API serves again.
  const pid = Number(readFileSync(join(etcdDir, 'etcd.pid'), 'utf8'));
  process.kill(pid, 'SIGKILL');
  let ok = false;
  for (let i = 0; i < 120 && !ok; i++) {
    await sleep(250);
    const r = await c.kubectl(['create', 'configmap', `after-crash-${i}`, '--from-literal=k=v']);
    ok = r.code === 0;
  }
  assert.ok(ok, 'the API writes again after etcd was killed');
  const newPid = Number(readFileSync(join(etcdDir, 'etcd.pid'), 'utf8'));
  assert.notEqual(newPid, pid, 'a new etcd process was started');
  assert.match(readFileSync(join(etcdDir, 'etcd.log'), 'utf8'), /clusterip: etcd exited .* restarting/);

  // down + up with the same state dir: the objects are still there.
  await c.restart();
  const again = await c.kubectl(['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, ip);
});

it('clusterip up --store etcd --etcd-endpoints with client certificates stores under --etcd-prefix', { timeout: 180_000 }, async (t) => {
  const etcd = await startTestEtcd(t, { tls: true });
  const o = etcd.clientOptions;
  const prefix = uniquePrefix();
  const c = await upCluster(t, {
    extraArgs: ['--store', 'etcd', '--etcd-endpoints', o.endpoints.join(','), '--etcd-cafile', o.caFile!,
      '--etcd-certfile', o.certFile!, '--etcd-keyfile', o.keyFile!, '--etcd-prefix', prefix, '--etcd-compaction-interval', '60'],
  });
  const r = await c.kubectl(['create', 'configmap', 'external', '--from-literal=k=v']);
  assert.equal(r.code, 0, r.stderr);
  const s = await EtcdStorage.open({ ...o, prefix });
  t.after(() => s.close());
  const kv = await s.get('/registry/core/configmaps/default/external');
  assert.equal((JSON.parse(kv!.value) as { data: { k: string } }).data.k, 'v');
  const outside = await EtcdStorage.open({ ...o });
  t.after(() => outside.close());
  assert.equal(await outside.get('/registry/core/configmaps/default/external'), undefined, 'nothing outside the prefix');
});

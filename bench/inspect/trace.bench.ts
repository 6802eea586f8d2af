/**
 * What tracing costs network programming (issue 17: p99 with tracing on within 1.1× of off, 1k
 * Services). Arranged as in the daemon: the API server (in-process core, served over HTTP on a
 * unix socket) with the trace recorder as its write observer, and the proxy in the same process
 * with the recorder on its `onSync`. An endpoint change is an EndpointSlice update over HTTP (as a
 * client writes it); its latency runs from just before the write to the proxy's report that the
 * kernel accepted the transaction with the new endpoint. Tracing is switched on and off in
 * alternating blocks of 25 changes (8 blocks each), so both see the same machine load; with it on,
 * every change becomes a recorded slice step plus a proxy-sync step whose rule lines are found in
 * the transaction text.
 */
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { R } from '../../src/api/resources.js';
import { startApiServer } from '../../src/apiserver/http/server.js';
import { ensurePki } from '../../src/apiserver/pki/pki.js';
import { HttpClient } from '../../src/client/http.js';
import { startProxy, type SyncReport } from '../../src/proxy/proxy.js';
import { TraceRecorder } from '../../src/inspect/tracerecorder.js';
import { epIp, makeTestApi, percentile, scratchNetns, sliceObj, svcIp, svcObj } from '../proxy/common.js';
import { report } from '../report.js';

const SERVICES = Number(process.env.BENCH_SERVICES ?? 1000);
const BLOCK = 25;
const BLOCKS = Number(process.env.BENCH_BLOCKS ?? 8);

const tmp = mkdtempSync(join(tmpdir(), 'cip-tracebench-'));
process.once('exit', () => rmSync(tmp, { recursive: true, force: true }));
const api = await makeTestApi();
const recorder = new TraceRecorder();
// As the daemon's flow name index does: the ClusterIP of each Service, created before tracing began.
recorder.setClusterIPSource((key) => { const m = /^default\/s(\d+)$/.exec(key); return m ? svcIp(Number(m[1])) : undefined; });
let tracing = false;
const pki = await ensurePki(join(tmp, 'pki'));
const socket = join(tmp, 'api.sock');
const server = await startApiServer({ client: api.client, pki, listen: null, unixSocket: socket, log: () => {}, onWrite: (w) => { if (tracing) recorder.apiWrite(w); } });
const { ns, remove } = scratchNetns();
const client = new HttpClient({ socketPath: socket });
const waiters: ((r: SyncReport) => void)[] = [];
try {
  for (let i = 0; i < SERVICES; i++) {
    await api.client.create(R.services, 'default', svcObj('default', `s${i}`, svcIp(i)));
    await api.client.create(R.endpointslices, 'default', sliceObj('default', `s${i}`, Array.from({ length: 10 }, (_, j) => epIp(i, j))));
  }
  const proxy = await startProxy({
    client: api.client, nodeName: 'bench', netns: ns, mode: 'nftables', serviceCIDR: '10.96.0.0/12', podCIDR: '10.244.0.0/16',
    onSync: (r) => {
      if (tracing) recorder.proxySync('bench', 'nftables', r);
      for (const w of waiters.splice(0)) w(r);
    },
  });
  await proxy.whenIdle();
  const lat = { off: [] as number[], on: [] as number[] };
  let k = 0;
  for (let b = 0; b < 2 * BLOCKS; b++) {
    tracing = b % 2 === 1;
    for (let n = 0; n < BLOCK; n++, k++) {
      const i = Math.floor(Math.random() * SERVICES);
      const ips = Array.from({ length: 10 }, (_, j) => epIp(i, j));
      const ip = `10.250.${(k >> 8) & 255}.${k & 255}`;
      ips[0] = ip;
      const cur = await client.get(R.endpointslices, 'default', `s${i}-s`);
      const fresh = sliceObj('default', `s${i}`, ips, k);
      const done = new Promise<void>((resolve) => {
        const wait = (r: SyncReport) => { if (r.transaction.includes(`${ip} . 8080`)) resolve(); else waiters.push(wait); };
        waiters.push(wait);
      });
      const t = performance.now();
      await client.update(R.endpointslices, 'default', { ...fresh, metadata: { ...fresh.metadata, resourceVersion: cur.metadata?.resourceVersion } });
      await done;
      (tracing ? lat.on : lat.off).push(performance.now() - t);
      // Let the recorder's settle timer run between changes, as it would between user changes.
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  const stats = recorder.stats();
  if (stats.changes === 0) throw new Error('tracing recorded nothing: the bench measures nothing');
  // Every traced change should carry its proxy-sync step (with the rule lines found): else the
  // "on" figure would not include the work it claims to.
  const all = Array.from({ length: SERVICES }, (_, i) => recorder.list(`default/s${i}`)).flat();
  const withSync = all.filter((c) => c.steps.some((s) => s.kind === 'proxy-sync' && s.added > 0)).length;
  if (withSync < all.length * 0.9) throw new Error(`only ${withSync} of ${all.length} traced changes have a proxy-sync step`);
  const p99on = percentile(lat.on, 99); const p99off = percentile(lat.off, 99);
  report({ figure: `network programming p99 with tracing on, ${SERVICES / 1000}k Services (nftables, ${lat.on.length} changes in ${BLOCKS} blocks interleaved with tracing off)`, value: p99on, unit: 'ms', baseline: { name: 'tracing off, same run, p99 ms', value: Number(p99off.toFixed(2)) }, target: `<= 1.1 × off (${(1.1 * p99off).toFixed(2)} ms)` });
  report({ figure: `network programming p99, tracing on / off, ${SERVICES / 1000}k Services`, value: p99on / p99off, unit: 'ratio', target: '<= 1.10' });
  report({ figure: `network programming p50 with tracing on, ${SERVICES / 1000}k Services`, value: percentile(lat.on, 50), unit: 'ms', baseline: { name: 'tracing off, p50 ms', value: Number(percentile(lat.off, 50).toFixed(2)) } });
  console.error(`tracing off: p50 ${percentile(lat.off, 50).toFixed(2)} p99 ${p99off.toFixed(2)} ms; on: p50 ${percentile(lat.on, 50).toFixed(2)} p99 ${p99on.toFixed(2)} ms; recorded ${stats.changes} changes (${withSync} with their proxy-sync step), ${(stats.bytes / 1024).toFixed(0)} KiB`);
  await proxy.stop({ flush: true });
} finally {
  client.close();
  await server.close();
  await api.close();
  remove();
}

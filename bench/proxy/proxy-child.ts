/**
 * The proxy under test, in its own process, reading the API over HTTP on the API server's unix
 * socket (as the cluster DNS process does): /proc/<pid>/status then shows the proxy's own memory,
 * and an endpoint change travels the whole way — HTTP write, watch event over HTTP, informer,
 * trackers, runner, sync, kernel.
 *
 * Usage (spawned by programming.bench.ts with an IPC channel):
 *   node <proxy-child bundled to .cjs | --import tsx bench/proxy/proxy-child.ts> <api socket> <netns> <nftables|iptables> [full-sync text file]
 * Messages: sends {phase:'loaded'} once imported (baseline memory); on 'start' starts the proxy and
 * sends {phase:'synced', fullMs, fullSyncMs} after the first (full) sync and a GC (writing that sync's
 * transaction to the optional file first); on {changes, services, run,
 * budgetMs, from?} replaces one endpoint of a random Service (s<from>..s<from+services-1>) per change through the API and sends
 * {phase:'changed', latencies, syncMs, lastSvc, lastIp}; on 'stop' stops the proxy (rules stay) and exits.
 */
import { writeFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { HttpClient } from '../../src/client/http.js';
import { R } from '../../src/api/resources.js';
import { startProxy, type ProxyMode, type SyncReport } from '../../src/proxy/proxy.js';
import { epIp, sliceObj } from './common.js';

/** `run` numbers the change loops against one API (one per backend), so their new addresses differ. */
interface ChangeRequest { changes: number; services: number; budgetMs: number; run: number; from?: number }

/** The syncs the proxy reported, with the time each was reported; `next` waits for the next one. */
class SyncLog {
  readonly entries: { report: SyncReport; at: number }[] = [];
  private wake?: () => void;
  push(report: SyncReport): void {
    this.entries.push({ report, at: performance.now() });
    this.wake?.();
  }
  next(): Promise<void> {
    return new Promise((r) => { this.wake = () => { this.wake = undefined; r(); }; });
  }
}

async function main(): Promise<void> {
  const [socketPath, netns, mode, fullTextFile] = process.argv.slice(2) as [string, string, ProxyMode, string | undefined];
  const send = (m: unknown): void => { process.send?.(m); };
  if (!process.send) throw new Error('proxy-child must be spawned with an IPC channel');
  const client = new HttpClient({ socketPath });
  const gc = (globalThis as { gc?: () => void }).gc;
  const log = new SyncLog();
  let proxy: Awaited<ReturnType<typeof startProxy>> | undefined;
  send({ phase: 'loaded' });

  process.on('message', (m: 'start' | 'stop' | ChangeRequest) => {
    void (async () => {
      if (m === 'start') {
        const t0 = performance.now();
        proxy = await startProxy({
          client, nodeName: 'bench', netns, mode, serviceCIDR: '10.96.0.0/12', podCIDR: '10.244.0.0/16', nodeIPs: ['172.31.255.10'],
          onSync: (report) => log.push(report),
          onError: (e) => console.error('proxy-child: sync failed:', e),
        });
        while (log.entries.length === 0) await log.next();
        const fullMs = log.entries[0]!.at - t0;
        const fullSyncMs = log.entries[0]!.report.durationMs;
        // The parent replays it alone to split its cost between the tool and the kernel.
        if (fullTextFile) writeFileSync(fullTextFile, log.entries[0]!.report.transaction);
        log.entries.length = 0;
        // Settle the heap so the RSS the parent reads is what a running proxy keeps.
        if (gc) { gc(); await new Promise((r) => setTimeout(r, 100)); gc(); }
        send({ phase: 'synced', fullMs, fullSyncMs });
      } else if (m === 'stop') {
        await proxy?.stop({ flush: false });
        client.close();
        process.exit(0);
      } else {
        send({ phase: 'changed', ...await changeLoop(client, m, log) });
      }
    })().catch((err) => { console.error('proxy-child:', err); process.exit(1); });
  });
  // The parent going away ends the child: nothing outlives the bench.
  process.on('disconnect', () => process.exit(0));
}

/**
 * Replaces the first endpoint of a random Service with a fresh address, `changes` times (or until
 * the budget is spent), one at a time; each latency runs from just before the API write to the
 * moment the proxy reported the kernel transaction containing the new endpoint as accepted.
 */
async function changeLoop(client: HttpClient, req: ChangeRequest, log: SyncLog) {
  const latencies: number[] = [];
  const syncMs: number[] = [];
  /** Garbage-collection pauses of this process during the loop (ms): where a slow change's time may go. */
  const gcMs: number[] = [];
  const gcs = new PerformanceObserver((list) => { for (const e of list.getEntries()) gcMs.push(e.duration); });
  gcs.observe({ entryTypes: ['gc'] });
  const deadline = performance.now() + req.budgetMs;
  let lastSvc = -1;
  let lastIp = '';
  for (let k = 0; k < req.changes && performance.now() < deadline; k++) {
    const i = (req.from ?? 0) + Math.floor(Math.random() * req.services);
    const ips = Array.from({ length: 10 }, (_, j) => epIp(i, j));
    // Unique per change and per run: a loop against an API an earlier loop changed must never
    // write an address the slice already has (no change, no sync, a loop waiting for ever).
    lastIp = `10.250.${req.run * 4 + ((k >> 8) & 3)}.${k & 255}`;
    lastSvc = i;
    ips[0] = lastIp;
    const cur = await client.get(R.endpointslices, 'default', `s${i}-s`);
    const fresh = sliceObj('default', `s${i}`, ips, k);
    const obj = { ...fresh, metadata: { ...fresh.metadata, resourceVersion: cur.metadata?.resourceVersion } };
    log.entries.length = 0;
    const nft = `${lastIp} . 8080`;
    const ipt = `${lastIp}:8080`;
    const has = (e: { report: SyncReport }): boolean => e.report.transaction.includes(nft) || e.report.transaction.includes(ipt);
    const w = performance.now();
    await client.update(R.endpointslices, 'default', obj);
    let hit = log.entries.find(has);
    while (!hit) {
      await log.next();
      hit = log.entries.find(has);
    }

    latencies.push(hit.at - w);
    syncMs.push(hit.report.durationMs);
  }
  gcs.disconnect();
  return { latencies, syncMs, gcMs, lastSvc, lastIp };
}

main().catch((err) => {
  console.error('proxy-child:', err);
  process.exit(1);
});

/**
 * The DNS server under test, in its own process (so dnsperf, the bench driver and the server never
 * share an event loop, and /proc/<pid>/status shows the server's own memory).
 *
 * Usage (spawned by dns.bench.ts with an IPC channel):
 *   node --expose-gc <server-child bundled to .cjs | --import tsx bench/dns/server-child.ts> <qps|rss> <fake|list> [nometrics]
 * `fake`: objects are created in a FakeClient in this process (its store stays in memory too).
 * `list`: a client that builds the objects on each list call and keeps nothing, as the API server
 * over a socket would; only the server's own informer caches and record index stay in memory.
 * `nometrics`: the server counts no queries (to measure what counting costs, bench/inspect/dns-metrics).
 * Sends `{ port, loadMs, memory }` once the informers have synced and a GC has run; exits on disconnect.
 */
import type { KubeList, KubeObject } from '../../src/api/object.js';
import type { ResourceInfo } from '../../src/api/resources.js';
import { R } from '../../src/api/resources.js';
import type { Client, WatchHandle } from '../../src/client/client.js';
import { FakeClient } from '../../src/client/testing/fake.js';
import { startDnsServer } from '../../src/dns/server.js';
import { QPS_FIXTURE, RSS_FIXTURE, TTL, ZONE, endpointSlices, services, type FixtureSpec } from './fixtures.js';

/** Lists freshly built objects, never emits watch events, holds no reference to what it returned. */
class ListOnlyClient implements Client {
  constructor(private readonly spec: FixtureSpec) {}
  async list<T extends KubeObject>(res: ResourceInfo): Promise<KubeList<T>> {
    const items = res.plural === R.services.plural ? services(this.spec) : res.plural === R.endpointslices.plural ? endpointSlices(this.spec) : [];
    return { apiVersion: 'v1', kind: `${res.kind}List`, metadata: { resourceVersion: '1' }, items: items as unknown as T[] };
  }
  watch(): WatchHandle {
    let end!: () => void;
    const done = new Promise<void>((r) => { end = r; });
    return { done, stop: () => end() };
  }
  get(): never { throw new Error('ListOnlyClient: get is not supported'); }
  create(): never { throw new Error('ListOnlyClient: create is not supported'); }
  update(): never { throw new Error('ListOnlyClient: update is not supported'); }
  patch(): never { throw new Error('ListOnlyClient: patch is not supported'); }
  delete(): never { throw new Error('ListOnlyClient: delete is not supported'); }
  deleteCollection(): never { throw new Error('ListOnlyClient: deleteCollection is not supported'); }
}

async function fakeClient(spec: FixtureSpec): Promise<Client> {
  const client = new FakeClient();
  for (const s of services(spec)) await client.create(R.services, s.metadata!.namespace, s);
  for (const s of endpointSlices(spec)) await client.create(R.endpointslices, s.metadata!.namespace, s);
  return client;
}

async function main(): Promise<void> {
  const [mode, kind, metrics] = process.argv.slice(2);
  const spec = mode === 'rss' ? RSS_FIXTURE : QPS_FIXTURE;
  if (!process.send) throw new Error('server-child must be spawned with an IPC channel');
  const t0 = performance.now();
  const client = kind === 'list' ? new ListOnlyClient(spec) : await fakeClient(spec);
  const server = await startDnsServer({ client, listen: { address: '127.0.0.1', port: 0 }, zone: ZONE, ttl: TTL, metrics: metrics !== 'nometrics' });
  await server.synced;
  const loadMs = performance.now() - t0;
  // Settle the heap so RSS reflects what stays, not the garbage of the initial list.
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) { gc(); await new Promise((r) => setTimeout(r, 100)); gc(); }
  process.send({ port: server.port, loadMs, memory: process.memoryUsage() });
  // 'mem' asks for the V8 view of memory (heap vs. Buffers) next to the RSS the parent reads.
  process.on('message', (m) => {
    if (m === 'mem') { gc?.(); process.send?.({ memory: process.memoryUsage() }); }
  });
  // The parent going away (or disconnecting) ends the server: nothing outlives the bench.
  process.on('disconnect', () => { void server.stop().finally(() => process.exit(0)); });
}

main().catch((err) => {
  console.error('dns bench child:', err);
  process.exit(1);
});

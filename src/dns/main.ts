#!/usr/bin/env node
/**
 * The cluster DNS process: what the kube-dns Pod (image `clusterip/dns`) runs. It reads Services and
 * EndpointSlices from the API server over its unix socket (or a kubeconfig) and serves DNS on UDP and
 * TCP. Flags: see DNS_USAGE (options.ts); a bad one exits with code 2.
 *
 * Without --upstream, names outside the cluster zone are answered REFUSED at once.
 */
import { HttpClient, clientFromKubeconfig } from '../client/http.js';
import type { Client } from '../client/client.js';
import { DNS_USAGE, DnsUsageError, parseDnsOptions } from './options.js';
import { startDnsServer } from './server.js';

async function main(): Promise<void> {
  const o = parseDnsOptions(process.argv.slice(2));
  if (o.help) { console.log(DNS_USAGE); return; }
  const client: Client & { close(): void } = o.apiSocket ? new HttpClient({ socketPath: o.apiSocket }) : await clientFromKubeconfig(o.kubeconfig!);
  const server = await startDnsServer({ client, listen: o.listen, zone: o.zone, ttl: o.ttl, upstream: o.upstream });
  console.log(`dns: listening on ${o.listen.address}:${server.port} (udp+tcp), zone ${o.zone}`);
  server.synced.then(() => console.log('dns: informers synced, answering'), () => undefined);
  const stop = () => {
    console.log('dns: stopping');
    void server.stop().finally(() => { client.close(); process.exit(0); });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  console.error(`dns: ${(err as Error).message}`);
  if (err instanceof DnsUsageError) console.error(DNS_USAGE);
  process.exit(err instanceof DnsUsageError ? 2 : 1);
});

#!/usr/bin/env node
/**
 * The cluster DNS process: what the kube-dns Pod (image `clusterip/dns`) runs. It reads Services and
 * EndpointSlices from the API server over its unix socket (or a kubeconfig) and serves DNS on UDP and
 * TCP. Flags: see DNS_USAGE (options.ts); a bad one exits with code 2.
 *
 * Without --upstream, names outside the cluster zone are answered REFUSED at once. With
 * --metrics-listen, Prometheus metrics (CoreDNS' names, metrics.ts) are served at /metrics there, plain
 * HTTP like CoreDNS' prometheus plugin (reachable only inside the cluster network). With
 * --api-socket, each change of a Service's records is reported to the trace recorder (livereport.ts).
 */
import { createServer } from 'node:http';
import { HttpClient, clientFromKubeconfig } from '../client/http.js';
import type { Client } from '../client/client.js';
import { DNS_USAGE, DnsUsageError, parseDnsOptions } from './options.js';
import { startDnsServer } from './server.js';
import { LiveReporter } from './livereport.js';
import type { RecordIndex } from './records.js';

async function main(): Promise<void> {
  const o = parseDnsOptions(process.argv.slice(2));
  if (o.help) { console.log(DNS_USAGE); return; }
  const client: Client & { close(): void } = o.apiSocket ? new HttpClient({ socketPath: o.apiSocket }) : await clientFromKubeconfig(o.kubeconfig!);
  let reporter: LiveReporter | undefined;
  let index: RecordIndex | undefined;
  const socket = o.apiSocket;
  const server = await startDnsServer({
    client, listen: o.listen, zone: o.zone, ttl: o.ttl, upstream: o.upstream,
    onRecordsChanged: (key, rv) => {
      if (!socket || !index) return;
      reporter ??= new LiveReporter({ socketPath: socket, index, zone: o.zone });
      reporter.changed(key, rv);
    },
  });
  index = server.index;
  if (o.metricsListen && server.metrics) {
    const metrics = server.metrics;
    const http = createServer((req, res) => {
      if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') { res.writeHead(404).end('404 page not found\n'); return; }
      metrics.text().then((text) => { res.writeHead(200, { 'Content-Type': metrics.contentType }).end(text); }, () => res.writeHead(500).end());
    });
    http.listen(o.metricsListen.port, o.metricsListen.address);
    http.on('error', (e) => console.error(`dns: metrics listener: ${e.message}`));
    console.log(`dns: metrics on http://${o.metricsListen.address}:${o.metricsListen.port}/metrics`);
  }
  console.log(`dns: listening on ${o.listen.address}:${server.port} (udp+tcp), zone ${o.zone}`);
  server.synced.then(() => console.log('dns: informers synced, answering'), () => undefined);
  const stop = () => {
    console.log('dns: stopping');
    reporter?.stop();
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

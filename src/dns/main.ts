#!/usr/bin/env node
/**
 * The cluster DNS process: what the kube-dns Pod (image `clusterip/dns`) runs. It reads Services and
 * EndpointSlices from the API server over its unix socket (or a kubeconfig) and serves DNS on UDP and
 * TCP. Usage:
 *
 *   main.js --api-socket <path> | --kubeconfig <file>  [--listen 0.0.0.0:53] [--zone cluster.local]
 *           [--ttl 30] [--upstream ip[:port]] [--metrics-listen 0.0.0.0:9153]
 *
 * Without --upstream, names outside the cluster zone are answered REFUSED at once. With
 * --metrics-listen, Prometheus metrics (CoreDNS' names, metrics.ts) are served at /metrics there, plain
 * HTTP like CoreDNS' prometheus plugin (reachable only inside the cluster network). With
 * --api-socket, each change of a Service's records is reported to the trace recorder (live-report.ts).
 */
import { createServer } from 'node:http';
import { HttpClient, clientFromKubeconfig } from '../client/http.js';
import type { Client } from '../client/client.js';
import { startDnsServer } from './server.js';
import { LiveReporter } from './live-report.js';
import type { RecordIndex } from './records.js';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const socket = flag('api-socket');
  const kubeconfig = flag('kubeconfig');
  let client: Client & { close(): void };
  if (socket) client = new HttpClient({ socketPath: socket });
  else if (kubeconfig) client = await clientFromKubeconfig(kubeconfig);
  else throw new Error('one of --api-socket or --kubeconfig is required');
  const listen = flag('listen') ?? '0.0.0.0:53';
  const i = listen.lastIndexOf(':');
  const zone = flag('zone') ?? 'cluster.local';
  let reporter: LiveReporter | undefined;
  let index: RecordIndex | undefined;
  const server = await startDnsServer({
    client,
    listen: { address: listen.slice(0, i), port: Number(listen.slice(i + 1)) },
    zone,
    ttl: flag('ttl') ? Number(flag('ttl')) : 30,
    upstream: flag('upstream'),
    onRecordsChanged: (key, rv) => {
      if (!socket || !index) return;
      reporter ??= new LiveReporter({ socketPath: socket, index, zone });
      reporter.changed(key, rv);
    },
  });
  index = server.index;
  const metricsListen = flag('metrics-listen');
  if (metricsListen && server.metrics) {
    const metrics = server.metrics;
    const j = metricsListen.lastIndexOf(':');
    const http = createServer((req, res) => {
      if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') { res.writeHead(404).end('404 page not found\n'); return; }
      metrics.text().then((text) => { res.writeHead(200, { 'Content-Type': metrics.contentType }).end(text); }, () => res.writeHead(500).end());
    });
    http.listen(Number(metricsListen.slice(j + 1)), metricsListen.slice(0, j));
    http.on('error', (e) => console.error(`dns: metrics listener: ${e.message}`));
    console.log(`dns: metrics on http://${metricsListen}/metrics`);
  }
  console.log(`dns: listening on ${listen.slice(0, i)}:${server.port} (udp+tcp), zone ${flag('zone') ?? 'cluster.local'}`);
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
  process.exit(1);
});

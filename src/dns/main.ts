#!/usr/bin/env node
/**
 * The cluster DNS process: what the kube-dns Pod (image `clusterip/dns`) runs. It reads Services and
 * EndpointSlices from the API server over its unix socket (or a kubeconfig) and serves DNS on UDP and
 * TCP. Usage:
 *
 *   main.js --api-socket <path> | --kubeconfig <file>  [--listen 0.0.0.0:53] [--zone cluster.local]
 *           [--ttl 30] [--upstream ip[:port]]
 *
 * Without --upstream, names outside the cluster zone are answered REFUSED at once.
 */
import { HttpClient, clientFromKubeconfig } from '../client/http.js';
import type { Client } from '../client/client.js';
import { startDnsServer } from './server.js';

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
  const server = await startDnsServer({
    client,
    listen: { address: listen.slice(0, i), port: Number(listen.slice(i + 1)) },
    zone: flag('zone') ?? 'cluster.local',
    ttl: flag('ttl') ? Number(flag('ttl')) : 30,
    upstream: flag('upstream'),
  });
  console.log(`dns: listening on ${listen.slice(0, i)}:${server.port} (udp+tcp), zone ${flag('zone') ?? 'cluster.local'}`);
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
  process.exit(1);
});

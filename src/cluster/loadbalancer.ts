/**
 * The node-local API load balancer of a joined machine (k3s's agent load balancer,
 * pkg/agent/loadbalancer): a TCP listener on 127.0.0.1 of the machine that forwards each connection
 * to one of the cluster's API servers, so the node agent and the proxy keep working when an API
 * server dies. TLS passes through untouched (the components verify the API server's certificate
 * against the cluster CA; every API server's certificate names 127.0.0.1).
 *
 * Each new connection goes to the server that last worked; when it cannot be reached within
 * `connectTimeoutMs` the next one is tried, and the one that answers becomes the preferred one.
 * Connections to a server that dies break; their clients (informers) reconnect and land on a live
 * server. The server list is the `--server` URLs plus what the API servers' Leases announce
 * (`setServers`), so a node joined through one server learns every other.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

/** Options of {@link startLoadBalancer}. */
export interface LoadBalancerOptions {
  /** https URLs of the API servers. */
  servers: string[];
  /** Per-attempt connect timeout (ms). Default 2 000. */
  connectTimeoutMs?: number;
  /** Port on 127.0.0.1 (default 0: any free port). */
  port?: number;
  log?: (line: string) => void;
}

/** A running load balancer. */
export interface LoadBalancer {
  /** https://127.0.0.1:<port> — what the node's components use as their API server. */
  readonly url: string;
  readonly port: number;
  /** The servers in the order they are tried (the preferred one first). */
  servers(): string[];
  /** Replaces the server list (the current preferred server stays first when it is still listed). */
  setServers(urls: readonly string[]): void;
  close(): Promise<void>;
}

interface Target { url: string; host: string; port: number }

function target(url: string): Target {
  const u = new URL(url);
  if (u.protocol !== 'https:') throw new TypeError(`API server URL ${JSON.stringify(url)} is not https://`);
  return { url: u.origin, host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 443) };
}

/** Starts the load balancer on 127.0.0.1. */
export async function startLoadBalancer(o: LoadBalancerOptions): Promise<LoadBalancer> {
  let targets: Target[] = dedupe(o.servers.map(target));
  if (targets.length === 0) throw new TypeError('the load balancer needs at least one API server');
  const timeout = o.connectTimeoutMs ?? 2000;
  const open = new Set<Socket>();

  const dial = (t: Target): Promise<Socket> => new Promise((resolve, reject) => {
    const s = connect({ host: t.host, port: t.port });
    const timer = setTimeout(() => s.destroy(new Error(`connect to ${t.url} timed out after ${timeout} ms`)), timeout);
    s.once('connect', () => { clearTimeout(timer); resolve(s); });
    s.once('error', (e) => { clearTimeout(timer); reject(e); });
  });

  const onConnection = async (client: Socket): Promise<void> => {
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => client.destroy());
    client.pause();
    const order = [...targets];
    for (const t of order) {
      let upstream: Socket;
      try {
        upstream = await dial(t);
      } catch (e) {
        o.log?.(`api load balancer: ${t.url} unreachable (${(e as Error).message}), trying the next server`);
        continue;
      }
      if (client.destroyed) { upstream.destroy(); return; }
      if (targets[0]?.url !== t.url && targets.some((x) => x.url === t.url)) {
        // The one that answered is preferred from now on.
        targets = [t, ...targets.filter((x) => x.url !== t.url)];
        o.log?.(`api load balancer: now using ${t.url}`);
      }
      open.add(upstream);
      upstream.on('close', () => { open.delete(upstream); client.destroy(); });
      upstream.on('error', () => upstream.destroy());
      client.on('close', () => upstream.destroy());
      upstream.pipe(client);
      client.pipe(upstream);
      client.resume();
      return;
    }
    client.destroy();
  };

  const server: Server = createServer((c) => { void onConnection(c); });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    servers: () => targets.map((t) => t.url),
    setServers(urls) {
      const next = dedupe(urls.map(target));
      if (next.length === 0) return;
      const preferred = targets[0];
      targets = preferred && next.some((t) => t.url === preferred.url) ? [preferred, ...next.filter((t) => t.url !== preferred.url)] : next;
    },
    close: () => new Promise<void>((resolve) => {
      for (const s of open) s.destroy();
      server.close(() => resolve());
    }),
  };
}

function dedupe(ts: Target[]): Target[] {
  const seen = new Set<string>();
  return ts.filter((t) => (seen.has(t.url) ? false : (seen.add(t.url), true)));
}

/**
 * The API server's listener on the cluster network: how Pods reach the `kubernetes` Service.
 *
 * `default/kubernetes` (10.96.0.1:443) has one endpoint per live API server (the lease reconciler,
 * src/controllers/kubernetesservice): `<gateway of the API server's node>:6443`, e.g. 10.244.0.1:6443
 * — the address of the node namespace's Pod bridge, which every Pod of the cluster can route to
 * (on its own node it is its gateway; from other nodes and machines it is inside that node's Pod
 * CIDR, routed over the underlay or the VXLAN overlay). The host's own namespace gets nothing.
 *
 * A TCP socket listening on that address must live in the node's network namespace, which a Node.js
 * process cannot enter. So a short-lived helper is started inside it (`ip netns exec <node> node
 * -e ...`): it opens the listening socket there, hands it to this process over Node's IPC channel
 * (the file descriptor travels; the socket stays in the node namespace) and exits. The API server
 * then serves the connections it accepts with its own HTTPS server (`RunningApiServer.serveOn`):
 * TLS ends in the API server with its serving certificate (SAN 10.96.0.1, kubernetes.default.svc,
 * ...), and every request is authenticated like one on the machine's port — no unauthenticated path
 * into the API, no copy through an extra process. k3s's agent proxies Pods' API traffic to its
 * server in the same spirit; here the "proxy" is only the hand-over of a socket.
 *
 * Must not: listen anywhere but inside a namespace the cluster created.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { Server } from 'node:net';
import { hostname } from 'node:os';
import type { RunningApiServer } from '../apiserver/http/server.js';
import type { Client } from '../client/client.js';
import { KubernetesServiceReconciler } from '../controllers/kubernetesservice/reconciler.js';

/** Port of the API server inside node namespaces: the `kubernetes` Service's targetPort, as kube-apiserver's default. */
export const IN_CLUSTER_API_PORT = 6443;

/**
 * The helper's program: listen, send the server handle to the parent, exit once it is sent. Inline
 * (`node -e`) so it needs no file next to the bundle.
 */
const HELPER = `
const net = require('node:net');
const [host, port] = process.argv.slice(-2);
const s = net.createServer();
s.on('error', (e) => { process.send({ error: e.message }, () => process.exit(1)); });
s.listen({ host, port: Number(port), exclusive: true }, () => {
  process.send({ listening: true }, s, () => { s.close(); process.disconnect(); });
});`;

/** Options of {@link listenInNetns}. */
export interface ListenInNetnsOptions {
  /** How long to wait for the helper (ms). Default 10 000. */
  timeoutMs?: number;
}

/**
 * A TCP listener on `host:port` inside network namespace `netns` (which must exist and own
 * `host`), owned by this process. Closing it frees the port; it does not keep `netns` from being
 * deleted (the namespace then lives on until the socket closes).
 */
export function listenInNetns(netns: string, host: string, port: number, opts: ListenInNetnsOptions = {}): Promise<Server> {
  if (!/^[A-Za-z0-9_.-]+$/.test(netns)) return Promise.reject(new TypeError(`invalid network namespace name ${JSON.stringify(netns)}`));
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', HELPER, '--', host, String(port)], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    let settled = false;
    const finish = (err?: Error, server?: Server): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) { child.kill('SIGKILL'); reject(err); } else resolve(server!);
    };
    const timer = setTimeout(() => finish(new Error(`no listener in ${netns} on ${host}:${port} after ${opts.timeoutMs ?? 10_000} ms`)), opts.timeoutMs ?? 10_000);
    child.stderr?.on('data', (d: Buffer) => { stderr += d; });
    child.on('message', (m: { listening?: boolean; error?: string }, handle: unknown) => {
      if (m?.listening && handle) finish(undefined, handle as Server);
      else finish(new Error(`cannot listen on ${host}:${port} in ${netns}: ${m?.error ?? 'no socket received'}`));
    });
    child.on('error', (e) => finish(e));
    // 'close' comes after the IPC channel closed, so a handed-over socket has been received by then.
    child.on('close', (code) => finish(new Error(`the listener helper in ${netns} exited (${code}) before handing over its socket${stderr ? `: ${stderr.trim()}` : ''}`)));
  });
}

/** Options of {@link publishApiServer}. */
export interface PublishOptions {
  /** The API server whose HTTPS serves the in-cluster connections. */
  server: RunningApiServer;
  client: Client;
  /** The node namespace and the address in it (its Pod bridge's gateway). */
  netns: string;
  address: string;
  /** This API server's Lease id (stable across restarts). */
  id: string;
  /** The URL other machines reach this API server at (advertised on its Lease). */
  serverURL?: string;
  /** The API server Lease's duration in seconds (default 15, kube-apiserver's master lease TTL). */
  leaseDurationSeconds?: number;
  onError?: (err: unknown) => void;
}

/** The in-cluster listener plus this API server's Lease and the `kubernetes` endpoints. */
export interface PublishedApiServer {
  /** Stops the listener; `release` also drops this server from the endpoints (a clean shutdown). */
  stop(opts?: { release?: boolean }): Promise<void>;
}

/**
 * Makes this API server reachable through the `kubernetes` Service: listens on `address:6443` inside
 * `netns`, serves it with `server`, and runs the lease endpoint reconciler with that endpoint.
 */
export async function publishApiServer(o: PublishOptions): Promise<PublishedApiServer> {
  const listener = await listenInNetns(o.netns, o.address, IN_CLUSTER_API_PORT);
  o.server.serveOn(listener);
  const reconciler = new KubernetesServiceReconciler({
    client: o.client, id: o.id, hostname: hostname(), onError: o.onError,
    endpoint: { address: o.address, port: IN_CLUSTER_API_PORT, serverURL: o.serverURL },
    leaseDurationSeconds: o.leaseDurationSeconds,
  });
  try {
    await reconciler.start();
  } catch (e) {
    listener.close();
    throw e;
  }
  return {
    async stop(opts = {}) {
      await reconciler.stop({ release: opts.release }).catch((e: unknown) => o.onError?.(e));
      listener.close();
    },
  };
}

/** A stable id for the API server whose state lives in `stateDir` on this machine. */
export function apiServerId(stateDir: string): string {
  return createHash('sha256').update(`${hostname()}\0${stateDir}`).digest('hex').slice(0, 16);
}

/**
 * A joined node's stream server — the kubelet's port 10250: pods/log, exec, attach and portforward
 * of this node's Pods, served by the node agent through the API server's own stream code (the same
 * `startApiServer`, with the agent as its only PodStreamProvider). The cluster's API servers pass
 * these requests on to it (src/apiserver/http/remotestreams.ts), found through the Node annotation
 * `clusterip.dev/node-api`.
 *
 * Only the API server may use it: a client certificate of the cluster CA in group system:masters
 * (other nodes' certificates are in system:nodes), and only the Pod stream paths are served. Its
 * serving certificate is self-signed, as a kubelet's is by default.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { sendError } from '../apiserver/http/respond.js';
import { startApiServer, type RunningApiServer } from '../apiserver/http/server.js';
import { ApiError } from '../api/errors.js';
import type { PodStreamProvider } from '../api/streams.js';
import { coversSans, newCa, newLeaf } from '../certs/x509.js';
import type { Client } from '../client/client.js';

/** Node annotation with the URL of the node's stream server. */
export const ANNOTATION_NODE_API = 'clusterip.dev/node-api';
/** The kubelet's port. */
export const NODE_API_PORT = 10250;

const STREAM_PATH = /^\/api\/v1\/namespaces\/[^/]+\/pods\/[^/]+\/(log|exec|attach|portforward)$/;

/** Options of {@link startNodeStreamServer}. */
export interface NodeStreamServerOptions {
  nodeName: string;
  agent: PodStreamProvider;
  /** The node's client of the API (Pods are looked up through it). */
  client: Client;
  /** The cluster CA (PEM): callers' client certificates must chain to it. */
  caCert: string;
  /** Address and port to listen on (the machine's address, 10250). */
  host: string;
  port?: number;
  /** Where the self-signed serving certificate is kept. */
  pkiDir: string;
}

/** A self-signed serving certificate for `host`, kept in `dir` and made again when it does not name `host`. */
async function servingCert(dir: string, nodeName: string, host: string): Promise<{ cert: string; key: string }> {
  const crt = join(dir, 'node-serving.crt');
  const key = join(dir, 'node-serving.key');
  if (existsSync(crt) && existsSync(key) && coversSans(readFileSync(crt, 'utf8'), [`IP:${host}`])) {
    return { cert: readFileSync(crt, 'utf8'), key: readFileSync(key, 'utf8') };
  }
  const own = await newCa(`${nodeName}-serving-ca`);
  const leaf = await newLeaf(own, { subject: { CN: nodeName }, usages: ['serverAuth'], sans: [`IP:${host}`, `DNS:${nodeName}`] });
  writeFileSync(key, leaf.key, { mode: 0o600 });
  writeFileSync(crt, leaf.cert + own.cert, { mode: 0o644 });
  return leaf;
}

/** Starts the node's stream server; resolves once it listens. */
export async function startNodeStreamServer(o: NodeStreamServerOptions): Promise<RunningApiServer & { nodeApiURL: string }> {
  const serving = await servingCert(o.pkiDir, o.nodeName, o.host);
  const server = await startApiServer({
    client: o.client,
    pki: { dir: o.pkiDir, caCert: o.caCert, caKey: '', serverCert: serving.cert, serverKey: serving.key, adminCert: '', adminKey: '', adminToken: randomBytes(32).toString('hex') },
    listen: { host: o.host, port: o.port ?? NODE_API_PORT },
    streams: o.agent,
    log: () => undefined,
    authorize: (user) => (user.groups.includes('system:masters') ? undefined
      : `User "${user.name}" cannot use the stream server of node ${o.nodeName}: only the cluster's API servers may`),
    // Nothing but the Pod stream paths (the rest of the API is the API server's).
    extraRoutes: async (req, res, path) => {
      if (STREAM_PATH.test(path)) return false;
      if (!req.complete) req.resume();
      sendError(res, new ApiError(404, 'NotFound', `node ${o.nodeName} serves only Pod logs, exec, attach and port-forward`));
      return true;
    },
  });
  return Object.assign(server, { nodeApiURL: `https://${o.host}:${server.port}` });
}

/**
 * The API server's side of joining (k3s's supervisor endpoints on the API port, kubeadm's discovery +
 * TLS bootstrap folded into one request), served before authentication through
 * `ApiServerOptions.extraRoutes`:
 *
 * - `GET /cacerts` — the cluster CA bundle, public (k3s serves the same path): the joining side
 *   hashes it and compares with its token's pin before it sends anything secret.
 * - `POST /v1-clusterip/join` — `Authorization: Bearer <id>.<secret>` (a bootstrap token with usage
 *   `join-node`), body `{ nodeName, nodePassword, csr }`. Checks, in order and before anything is
 *   written: the token, the request, the node name, that the name is not another machine's (the
 *   node password, as k3s's: its SHA-256 is kept on the Node), the CSR's signature. Then the CA signs
 *   a client certificate `CN=system:node:<name>, O=system:nodes` for the requester's key and the
 *   Node is created (create-if-absent: two machines racing for one name cannot both win). The
 *   answer carries the certificate, the CA, the cluster's settings and every API server's URL.
 * - `POST /v1-clusterip/server-bootstrap` — a token with usage `join-server`: the CA (with its key)
 *   and the admin token, what a second API server of the cluster needs (k3s's server-bootstrap).
 * - `GET|POST /v1-clusterip/tokens`, `DELETE /v1-clusterip/tokens/<id>` — token management for
 *   `clusterip token`, admins only (`system:masters`).
 *
 * Every refusal is a Kubernetes Status with the reason and a message that says what to do.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Node } from 'kubernetes-types/core/v1.js';
import { ApiError, badRequest, invalid, isAlreadyExists, isNotFound, type FieldError } from '../../api/errors.js';
import { R } from '../../api/resources.js';
import type { UserInfo } from '../../apiserver/auth/user.js';
import { readBody } from '../../apiserver/http/body.js';
import { sendError, sendJson } from '../../apiserver/http/respond.js';
import type { Pki } from '../../apiserver/pki/pki.js';
import { isDNS1123Subdomain } from '../../apiserver/semantics/namevalidation.js';
import { signCsr, spkiHash } from '../../certs/x509.js';
import type { Client } from '../../client/client.js';
import { formatK10, generateBootstrapToken, parseBootstrapToken, TokenFormatError } from './token.js';
import type { BootstrapTokens, TokenRecord, TokenUsage } from './tokenstore.js';
import type { SharedEtcd } from '../store.js';

/** Annotation on a joined Node: `sha256:<hex>` of its machine's node password. */
export const ANNOTATION_NODE_PASSWORD = 'clusterip.dev/node-password';
/** The group of node agents' client certificates (Kubernetes' `system:nodes`). */
export const NODES_GROUP = 'system:nodes';

/** The cluster settings a joining node needs. */
export interface ClusterInfo {
  name: string;
  serviceCIDR: string;
  /** The cluster's Pod CIDR (each node gets a piece of it from node IPAM). */
  podCIDR: string;
  clusterDNS: string;
  clusterDomain: string;
  proxyMode: 'nftables' | 'iptables' | 'userspace';
  /** The node Lease's duration the node lifecycle controller expects (the agent renews every quarter of it). */
  nodeLeaseDurationSeconds: number;
}

/** What `POST /v1-clusterip/join` answers. */
export interface JoinResponse {
  apiVersion: 'clusterip.dev/v1';
  kind: 'JoinResponse';
  nodeName: string;
  /** PEM client certificate `CN=system:node:<name>, O=system:nodes` for the key the node kept. */
  certificate: string;
  caCertificate: string;
  cluster: ClusterInfo;
  /** Every API server's URL (the node's load balancer fails over between them). */
  servers: string[];
}

/** What `POST /v1-clusterip/server-bootstrap` answers. */
export interface ServerBootstrapResponse {
  apiVersion: 'clusterip.dev/v1';
  kind: 'ServerBootstrap';
  caCertificate: string;
  caKey: string;
  adminToken: string;
  /**
   * The ServiceAccount token signing key (PKCS#8 PEM): every API server of a cluster signs and
   * verifies tokens with the same key, as kube-apiserver's --service-account-key-file is shared.
   */
  serviceAccountKey?: string;
  cluster: ClusterInfo;
  servers: string[];
  /** The etcd the API servers share, when other machines can reach it. */
  etcd?: SharedEtcd;
}

/** Options of {@link joinRoutes}. */
export interface JoinServiceOptions {
  pki: Pki;
  /** In-process client of the API core. */
  client: Client;
  tokens: BootstrapTokens;
  cluster: ClusterInfo;
  /** The ServiceAccount signing key handed to another API server (PKCS#8 PEM). */
  serviceAccountKey?: string;
  /** The URLs of the cluster's API servers (from their Leases), this one first. */
  servers: () => Promise<string[]>;
  /** The store, for a second API server (absent: the store cannot be shared, e.g. SQLite). */
  sharedStore?: SharedEtcd;
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** The node name's field errors (a Node name is an RFC 1123 subdomain). */
export function nodeNameErrors(name: string): FieldError[] {
  return isDNS1123Subdomain(name).map((detail) => ({ type: 'FieldValueInvalid', field: 'metadata.name', value: name, detail }));
}

/** What to do with a join for `nodeName` given the stored Node (pure). */
export type JoinDecision = { action: 'create' } | { action: 'rejoin' } | { action: 'refuse'; error: ApiError };

/** The duplicate-name refusal (409 AlreadyExists, the Node's own wording plus what to do). */
export function duplicateNode(nodeName: string): ApiError {
  return new ApiError(409, 'AlreadyExists',
    `nodes "${nodeName}" already exists: it was registered by another machine (its node password does not match this one's). ` +
    `Join with another --node-name, or, if that machine is gone for good, remove it first: kubectl delete node ${nodeName}`,
    { name: nodeName, kind: 'nodes' });
}

/**
 * A name is free when no Node has it; it is this machine's again when the stored Node carries the
 * hash of the same node password (a node that restarts, or returns after it was declared dead);
 * anything else — a node joined from another machine, or one with no password at all (the API
 * server's own nodes, a Node made with kubectl) — is refused.
 */
export function decideJoin(existing: Node | undefined, passwordSha256: string): JoinDecision {
  if (!existing) return { action: 'create' };
  const stored = existing.metadata?.annotations?.[ANNOTATION_NODE_PASSWORD];
  const ours = `sha256:${passwordSha256}`;
  if (stored && stored.length === ours.length && timingSafeEqual(Buffer.from(stored), Buffer.from(ours))) return { action: 'rejoin' };
  return { action: 'refuse', error: duplicateNode(existing.metadata?.name ?? '') };
}

function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  return h && /^bearer /i.test(h) ? h.slice(7).trim() : undefined;
}

async function jsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const buf = await readBody(req, 64 * 1024);
  let v: unknown;
  try { v = buf.length ? JSON.parse(buf.toString('utf8')) : {}; } catch (e) { throw badRequest(`the request body is not JSON: ${(e as Error).message}`); }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw badRequest('the request body must be a JSON object');
  return v as Record<string, unknown>;
}

/** Resolves a presented bearer token for `usage`, or throws 401 with the reason. */
async function tokenFor(o: JoinServiceOptions, req: IncomingMessage, usage: TokenUsage): Promise<TokenRecord> {
  const raw = bearer(req);
  if (!raw) throw new ApiError(401, 'Unauthorized', 'Unauthorized: a bootstrap token is required (Authorization: Bearer <id>.<secret>)');
  let token;
  try { token = parseBootstrapToken(raw); } catch (e) {
    if (e instanceof TokenFormatError) throw new ApiError(401, 'Unauthorized', `Unauthorized: ${e.message}`);
    throw e;
  }
  const check = await o.tokens.check(token, usage);
  if (!check.ok) throw new ApiError(401, 'Unauthorized', `Unauthorized: ${check.reason}`);
  return check.record;
}

function requireAdmin(user: UserInfo | undefined): void {
  if (!user) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
  if (!user.groups.includes('system:masters')) throw new ApiError(403, 'Forbidden', `User "${user.name}" cannot manage bootstrap tokens: only members of system:masters may`);
}

async function join(o: JoinServiceOptions, req: IncomingMessage): Promise<JoinResponse> {
  await tokenFor(o, req, 'join-node');
  const body = await jsonBody(req);
  const { nodeName, nodePassword, csr } = body;
  if (typeof nodeName !== 'string' || nodeName === '') throw badRequest('nodeName is required');
  if (typeof nodePassword !== 'string' || nodePassword.length < 16) throw badRequest('nodePassword is required (at least 16 characters)');
  if (typeof csr !== 'string') throw badRequest('csr (a PEM certificate signing request) is required');
  const errs = nodeNameErrors(nodeName);
  if (errs.length) throw invalid('Node', '', nodeName, errs);
  let existing: Node | undefined;
  try { existing = await o.client.get<Node>(R.nodes, undefined, nodeName); } catch (e) { if (!isNotFound(e)) throw e; }
  const passwordSha = sha256(nodePassword);
  const decision = decideJoin(existing, passwordSha);
  if (decision.action === 'refuse') throw decision.error;
  let certificate: string;
  try {
    certificate = await signCsr({ cert: o.pki.caCert, key: o.pki.caKey }, csr, {
      subject: { CN: `system:node:${nodeName}`, O: [NODES_GROUP] }, usages: ['clientAuth'], validityDays: 365,
    });
  } catch (e) {
    if (e instanceof TypeError) throw badRequest(`csr: ${e.message}`);
    throw e;
  }
  if (decision.action === 'create') {
    const node: Node = {
      apiVersion: 'v1', kind: 'Node',
      metadata: { name: nodeName, labels: { 'kubernetes.io/hostname': nodeName }, annotations: { [ANNOTATION_NODE_PASSWORD]: `sha256:${passwordSha}` } },
      spec: {},
    };
    try {
      await o.client.create<Node>(R.nodes, undefined, node);
    } catch (e) {
      // Another machine registered the name between our read and our write.
      if (isAlreadyExists(e)) throw duplicateNode(nodeName);
      throw e;
    }
  }
  return {
    apiVersion: 'clusterip.dev/v1', kind: 'JoinResponse', nodeName, certificate, caCertificate: o.pki.caCert,
    cluster: o.cluster, servers: await o.servers(),
  };
}

async function createToken(o: JoinServiceOptions, req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await jsonBody(req);
  const ttl = body.ttlSeconds === undefined ? 86_400 : Number(body.ttlSeconds);
  if (!(Number.isInteger(ttl) && ttl >= 0)) throw badRequest('ttlSeconds must be a whole number of seconds (0 = never expires)');
  const usages = (body.usages ?? ['join-node']) as TokenUsage[];
  if (!Array.isArray(usages) || usages.length === 0 || usages.some((u) => u !== 'join-node' && u !== 'join-server')) {
    throw badRequest('usages must be a non-empty list of join-node, join-server');
  }
  const description = typeof body.description === 'string' ? body.description : undefined;
  const token = generateBootstrapToken();
  const rec = await o.tokens.add(token, { usages, ttlMs: ttl * 1000, description });
  return {
    id: rec.id, token: formatK10(o.pki.caCert, token), bootstrapToken: `${token.id}.${token.secret}`,
    discoveryTokenCaCertHash: spkiHash(o.pki.caCert), usages: rec.usages, expires: rec.expires ?? null, description: rec.description ?? null,
  };
}

/**
 * The request handler for `ApiServerOptions.extraRoutes`: answers the paths above (true), leaves
 * every other path to the Kubernetes API (false).
 */
export function joinRoutes(o: JoinServiceOptions): (req: IncomingMessage, res: ServerResponse, path: string, user: UserInfo | undefined) => Promise<boolean> {
  return async (req, res, path, user) => {
    const method = req.method ?? 'GET';
    if (path === '/cacerts') {
      if (method !== 'GET' && method !== 'HEAD') return false;
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(o.pki.caCert) });
      res.end(method === 'HEAD' ? undefined : o.pki.caCert);
      return true;
    }
    if (!path.startsWith('/v1-clusterip/')) return false;
    try {
      if (path === '/v1-clusterip/join' && method === 'POST') {
        sendJson(res, 200, await join(o, req));
      } else if (path === '/v1-clusterip/server-bootstrap' && method === 'POST') {
        await tokenFor(o, req, 'join-server');
        const answer: ServerBootstrapResponse = {
          apiVersion: 'clusterip.dev/v1', kind: 'ServerBootstrap', caCertificate: o.pki.caCert, caKey: o.pki.caKey,
          adminToken: o.pki.adminToken, cluster: o.cluster, servers: await o.servers(),
          ...(o.serviceAccountKey ? { serviceAccountKey: o.serviceAccountKey } : {}),
          ...(o.sharedStore ? { etcd: o.sharedStore } : {}),
        };
        sendJson(res, 200, answer);
      } else if (path === '/v1-clusterip/tokens' && method === 'POST') {
        requireAdmin(user);
        sendJson(res, 201, await createToken(o, req));
      } else if (path === '/v1-clusterip/tokens' && method === 'GET') {
        requireAdmin(user);
        sendJson(res, 200, { items: await o.tokens.list() });
      } else if (path.startsWith('/v1-clusterip/tokens/') && method === 'DELETE') {
        requireAdmin(user);
        const id = decodeURIComponent(path.slice('/v1-clusterip/tokens/'.length));
        if (!(await o.tokens.delete(id))) throw new ApiError(404, 'NotFound', `bootstrap token "${id}" not found`);
        sendJson(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 200 });
      } else {
        throw new ApiError(404, 'NotFound', `the server could not find the requested resource (${method} ${path})`);
      }
    } catch (e) {
      if (!req.complete) req.resume();
      sendError(res, e);
    }
    return true;
  };
}

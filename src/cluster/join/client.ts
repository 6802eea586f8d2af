/**
 * The joining side of `clusterip join` (and of a second API server): discovery with CA pinning,
 * then the join request.
 *
 * 1. `GET <server>/cacerts` without verifying the server (nothing secret is sent): the CA bundle.
 * 2. Its hash is compared with the token's pin (K10's bundle hash, or kubeadm's SPKI hash); a
 *    mismatch stops here, before the token's secret ever leaves this machine.
 * 3. `POST <server>/v1-clusterip/join` over TLS verified against that CA (the server's certificate
 *    must name the address in `--server`), with the bootstrap token and a CSR for a key made here.
 */
import { request as httpsRequest } from 'node:https';
import type { Status } from '../../api/errors.js';
import { newCsr } from '../../certs/x509.js';
import { pinMismatch, type JoinCredentials } from './token.js';
import { NODES_GROUP, type JoinResponse, type ServerBootstrapResponse } from './service.js';

/**
 * Stable codes of {@link JoinError}:
 * - `SERVER_UNREACHABLE`: no answer from `--server` (address, port, firewall);
 * - `CA_MISMATCH`: the server's CA is not the one the token pins;
 * - `TLS_FAILED`: the server's certificate does not verify against the pinned CA or does not name the address;
 * - `JOIN_REFUSED`: the server refused (token, node name, duplicate name): the message is the server's.
 */
export type JoinErrorCode = 'SERVER_UNREACHABLE' | 'CA_MISMATCH' | 'TLS_FAILED' | 'JOIN_REFUSED';

export class JoinError extends Error {
  override readonly name = 'JoinError';
  constructor(readonly code: JoinErrorCode, message: string, readonly status?: Partial<Status>) {
    super(message);
  }
}

interface Answer { code: number; body: string }

function httpsJson(url: URL, o: { method: string; ca?: string; token?: string; body?: unknown; timeoutMs: number }): Promise<Answer> {
  const payload = o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body));
  return new Promise((resolve, reject) => {
    const req = httpsRequest({
      hostname: url.hostname, port: url.port || 443, path: url.pathname, method: o.method,
      // Discovery reads the CA before it can verify anything; nothing secret is sent then.
      ...(o.ca ? { ca: o.ca } : { rejectUnauthorized: false }),
      headers: {
        Accept: 'application/json',
        ...(o.token ? { Authorization: `Bearer ${o.token}` } : {}),
        ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': String(payload.length) } : {}),
      },
      timeout: o.timeoutMs,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${o.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

function parseServer(server: string): URL {
  let u: URL;
  try { u = new URL(server); } catch { throw new JoinError('SERVER_UNREACHABLE', `--server ${JSON.stringify(server)} is not a URL (https://host:port)`); }
  if (u.protocol !== 'https:') throw new JoinError('SERVER_UNREACHABLE', `--server must be an https:// URL, not ${JSON.stringify(server)}`);
  return u;
}

/** Step 1 and 2: the server's CA bundle, checked against the pin. */
export async function discoverCa(server: string, creds: JoinCredentials, timeoutMs = 10_000): Promise<string> {
  const base = parseServer(server);
  let a: Answer;
  try {
    a = await httpsJson(new URL('/cacerts', base), { method: 'GET', timeoutMs });
  } catch (e) {
    throw new JoinError('SERVER_UNREACHABLE', `cannot reach the API server at ${base.origin}: ${(e as Error).message}`);
  }
  if (a.code !== 200 || !a.body.includes('BEGIN CERTIFICATE')) {
    throw new JoinError('SERVER_UNREACHABLE', `${base.origin}/cacerts answered ${a.code} without a CA bundle: is this a clusterip API server?`);
  }
  const seen = pinMismatch(creds.pin, a.body);
  if (seen !== undefined) {
    const what = creds.pin.kind === 'bundle' ? 'the CA hash in the token (K10...)' : '--discovery-token-ca-cert-hash';
    throw new JoinError('CA_MISMATCH', `the cluster CA of ${base.origin} does not match ${what}: expected ${creds.pin.sha256}, the server's CA hashes to ${seen}. ` +
      'The token belongs to another cluster, or something else answers at this address; nothing secret was sent.');
  }
  return a.body;
}

async function postVerified<T>(server: string, path: string, ca: string, token: string, body: unknown, timeoutMs: number): Promise<T> {
  const base = parseServer(server);
  let a: Answer;
  try {
    a = await httpsJson(new URL(path, base), { method: 'POST', ca, token, body, timeoutMs });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_TLS_CERT_ALTNAME_INVALID' || /certificate|self[- ]signed|altnames/i.test(err.message)) {
      throw new JoinError('TLS_FAILED', `the API server's certificate at ${base.origin} does not verify against the cluster CA for this address: ${err.message}. ` +
        'Start the server with --advertise-address set to the address given here in --server.');
    }
    throw new JoinError('SERVER_UNREACHABLE', `cannot reach the API server at ${base.origin}: ${err.message}`);
  }
  let parsed: unknown;
  try { parsed = JSON.parse(a.body); } catch { parsed = undefined; }
  if (a.code >= 200 && a.code < 300 && parsed) return parsed as T;
  const st = (parsed ?? {}) as Partial<Status>;
  throw new JoinError('JOIN_REFUSED', st.message ?? `HTTP ${a.code}: ${a.body.slice(0, 200)}`, { ...st, code: st.code ?? a.code });
}

/** The credentials a joined node keeps (PEM), with the server's answer. */
export interface JoinedCredentials {
  response: JoinResponse;
  /** The private key of `response.certificate` (made here; never sent). */
  key: string;
}

/** Discovers the CA (pinned) and joins node `nodeName` with `nodePassword`. */
export async function joinCluster(server: string, creds: JoinCredentials, nodeName: string, nodePassword: string, timeoutMs = 10_000): Promise<JoinedCredentials> {
  const ca = await discoverCa(server, creds, timeoutMs);
  const { csr, key } = await newCsr({ CN: `system:node:${nodeName}`, O: [NODES_GROUP] });
  const response = await postVerified<JoinResponse>(server, '/v1-clusterip/join', ca, `${creds.token.id}.${creds.token.secret}`,
    { nodeName, nodePassword, csr }, timeoutMs);
  if (response.kind !== 'JoinResponse' || !response.certificate) throw new JoinError('JOIN_REFUSED', 'the server\'s answer is not a JoinResponse');
  return { response, key };
}

/** Discovers the CA (pinned) and fetches what a second API server of the cluster needs. */
export async function fetchServerBootstrap(server: string, creds: JoinCredentials, timeoutMs = 10_000): Promise<ServerBootstrapResponse> {
  const ca = await discoverCa(server, creds, timeoutMs);
  const r = await postVerified<ServerBootstrapResponse>(server, '/v1-clusterip/server-bootstrap', ca, `${creds.token.id}.${creds.token.secret}`, {}, timeoutMs);
  if (r.kind !== 'ServerBootstrap' || r.caCertificate.trim() !== ca.trim()) throw new JoinError('JOIN_REFUSED', 'the server\'s answer is not a ServerBootstrap of the pinned CA');
  return r;
}

/**
 * The `services/proxy` and `pods/proxy` subresources: `kubectl proxy` then
 * `http://127.0.0.1:8001/api/v1/namespaces/default/services/web:80/proxy/` reaches the Service from
 * a workstation, as on any Kubernetes cluster. The path's name part is parsed as Kubernetes'
 * SplitSchemeNamePort does: `web`, `web:80` (a port number, matched to the Service port's name),
 * `web:http` (a port name), `https:web:443` (TLS to the backend, certificate not checked, as
 * kube-apiserver's proxy transport). A Service is resolved through its Endpoints to one ready
 * address at random; a Pod to its IP and the port given (or its first container port).
 *
 * The connection to the backend is made by `dial` from inside the cluster network — the node
 * namespace of the endpoint's node — never from the machine's own namespace. Plain requests go
 * through Node's HTTP client over that connection (any method, body streamed); `Upgrade` requests
 * (WebSocket) are written through as they came and the two connections are then joined. The
 * client's Authorization header is not passed on (kube-apiserver's authentication filter removes
 * it), X-Forwarded-For/-Host/-Proto are set, and a Location header pointing into the backend is
 * rewritten to the proxy path. HTML bodies are not rewritten (kube-apiserver rewrites links in
 * text/html answers; here only redirects are).
 *
 * Errors are Kubernetes Status answers with its wording: 404 for a missing object, 503
 * `no endpoints available for service "web"` / `no service port 81 found for service "web"`, 400
 * `invalid service request "a:b:c:d"`, and 503 `error trying to reach service: dial tcp ...`.
 */
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect as tlsConnect } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import { ApiError, badRequest } from '../../api/errors.js';
import { R } from '../../api/resources.js';
import type { Client } from '../../client/client.js';

/** Opens a TCP connection to ip:port from inside the cluster network (the node namespace of `nodeName` when known). */
export type ProxyDial = (target: { nodeName?: string; ip: string; port: number }) => Duplex;

/** A parsed proxy path. */
export interface ProxyPath {
  kind: 'services' | 'pods';
  namespace: string;
  /** The `name[:port]` or `scheme:name:port` segment, undecoded of its scheme/port. */
  id: string;
  /** The path below `/proxy` ('/' when none), without the query. */
  rest: string;
}

const PROXY_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/(services|pods)\/([^/]+)\/proxy(\/.*)?$/;

/** Whether `pathname` is a services/pods proxy path; the parts when it is. */
export function parseProxyPath(pathname: string): ProxyPath | undefined {
  const m = PROXY_PATH.exec(pathname);
  if (!m) return undefined;
  let ns: string; let id: string;
  try { ns = decodeURIComponent(m[1]!); id = decodeURIComponent(m[3]!); } catch { return undefined; }
  return { kind: m[2] as 'services' | 'pods', namespace: ns, id, rest: m[4] || '/' };
}

/** Kubernetes' utilnet.SplitSchemeNamePort: `name`, `name:port`, `scheme:name:port` (scheme http, https or empty). */
export function splitSchemeNamePort(id: string): { scheme: string; name: string; port: string } | undefined {
  const parts = id.split(':');
  let scheme = ''; let name: string; let port = '';
  if (parts.length === 1) name = parts[0]!;
  else if (parts.length === 2) { name = parts[0]!; port = parts[1]!; }
  else if (parts.length === 3) { scheme = parts[0]!; name = parts[1]!; port = parts[2]!; }
  else return undefined;
  if (!name || !['', 'http', 'https'].includes(scheme)) return undefined;
  return { scheme, name, port };
}

function unavailable(message: string): ApiError {
  return new ApiError(503, 'ServiceUnavailable', message);
}

/** Where a proxy request goes. */
export interface ProxyTarget { scheme: 'http' | 'https'; ip: string; port: number; nodeName?: string }

/** Resolves a Service id to one ready endpoint address (Kubernetes' service ResourceLocation). */
export async function resolveService(client: Client, namespace: string, id: string): Promise<ProxyTarget> {
  const parsed = splitSchemeNamePort(id);
  if (!parsed) throw badRequest(`invalid service request "${id}"`);
  let portName = parsed.port;
  const svc = await client.get<Service>(R.services, namespace, parsed.name);
  if (/^\d+$/.test(portName)) {
    // A port number names the Service port; endpoints are matched by that port's name.
    const sp = (svc.spec?.ports ?? []).find((p) => p.port === Number(portName));
    if (!sp) throw unavailable(`no service port ${portName} found for service "${parsed.name}"`);
    portName = sp.name ?? '';
  }
  const eps = await client.get<Endpoints>(R.endpoints, namespace, parsed.name);
  const subsets = (eps.subsets ?? []).filter((s) => (s.addresses ?? []).length > 0);
  if ((eps.subsets ?? []).length === 0) throw unavailable(`no endpoints available for service "${parsed.name}"`);
  // A random subset, then a random address (as Kubernetes: spreads proxied requests).
  const start = Math.floor(Math.random() * Math.max(1, subsets.length));
  for (let k = 0; k < subsets.length; k++) {
    const ss = subsets[(start + k) % subsets.length]!;
    const p = (ss.ports ?? []).find((x) => (x.name ?? '') === portName);
    if (!p) continue;
    const addrs = ss.addresses!;
    const a = addrs[Math.floor(Math.random() * addrs.length)]!;
    return { scheme: parsed.scheme === 'https' ? 'https' : 'http', ip: a.ip, port: p.port, ...(a.nodeName ? { nodeName: a.nodeName } : {}) };
  }
  throw unavailable(`no endpoints available for service "${id}"`);
}

/** Resolves a Pod id to its IP and port (Kubernetes' pod ResourceLocation; a named container port is looked up too). */
export async function resolvePod(client: Client, namespace: string, id: string): Promise<ProxyTarget> {
  const parsed = splitSchemeNamePort(id);
  if (!parsed) throw badRequest(`invalid pod request "${id}"`);
  const pod = await client.get<Pod>(R.pods, namespace, parsed.name);
  const ports = (pod.spec?.containers ?? []).flatMap((c) => c.ports ?? []);
  let port = parsed.port;
  // No port: the first declared container port (Kubernetes); none declared: 80, as a URL without a port.
  if (!port) port = String(ports[0]?.containerPort ?? 80);
  if (!/^\d+$/.test(port)) {
    const named = ports.find((p) => p.name === port);
    if (!named) throw badRequest(`pod "${parsed.name}" has no container port named "${port}"`);
    port = String(named.containerPort);
  }
  const ip = pod.status?.podIP;
  if (!ip) throw badRequest(`pod "${parsed.name}" has no IP address yet`);
  return { scheme: parsed.scheme === 'https' ? 'https' : 'http', ip, port: Number(port), ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}) };
}

/** Headers that describe one hop and are not forwarded (RFC 9110 7.6.1), plus the client's credentials. */
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-authenticate', 'authorization', 'host']);

function forwardHeaders(req: IncomingMessage, target: ProxyTarget): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP.has(k)) out[k] = v;
  const peer = req.socket.remoteAddress ?? '';
  const prior = req.headers['x-forwarded-for'];
  out['x-forwarded-for'] = prior ? `${String(prior)}, ${peer}` : peer;
  out['x-forwarded-host'] = req.headers.host ?? '';
  out['x-forwarded-proto'] = 'encrypted' in req.socket ? 'https' : 'http';
  out.host = `${target.ip}:${target.port}`;
  return out;
}

/** The connection to the backend, TLS on top for `https:`. */
function connection(dial: ProxyDial, t: ProxyTarget): Duplex {
  const raw = dial({ ip: t.ip, port: t.port, ...(t.nodeName ? { nodeName: t.nodeName } : {}) });
  if (t.scheme !== 'https') return raw;
  const tls = tlsConnect({ socket: raw, rejectUnauthorized: false });
  raw.on('error', (e) => tls.destroy(e));
  return tls;
}

export class ProxyHandler {
  constructor(private readonly client: Client, private readonly dial: ProxyDial | undefined) {}

  private async target(p: ProxyPath): Promise<ProxyTarget> {
    if (!this.dial) throw unavailable('this API server cannot reach the cluster network (no dialer)');
    return p.kind === 'services' ? resolveService(this.client, p.namespace, p.id) : resolvePod(this.client, p.namespace, p.id);
  }

  /** The proxy path prefix of `p` (what a backend's absolute Location is rewritten under). */
  private prefix(p: ProxyPath): string {
    const seg = (x: string): string => x.replace(/[/?#%\s]/g, (ch) => encodeURIComponent(ch));
    return `/api/v1/namespaces/${seg(p.namespace)}/${p.kind}/${seg(p.id)}/proxy`;
  }

  /** A plain request: forwarded with Node's HTTP client over the dialed connection. */
  async serve(p: ProxyPath, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const t = await this.target(p);
    const what = p.kind === 'services' ? 'service' : 'pod';
    await new Promise<void>((resolve, reject) => {
      const out = httpRequest({
        method: req.method, path: `${p.rest}${url.search}`, headers: forwardHeaders(req, t),
        createConnection: () => connection(this.dial!, t) as never,
      }, (up) => {
        const headers = { ...up.headers };
        const loc = headers.location;
        if (typeof loc === 'string') headers.location = this.rewriteLocation(p, t, loc);
        for (const h of ['connection', 'keep-alive', 'transfer-encoding']) delete headers[h];
        res.writeHead(up.statusCode ?? 502, headers);
        up.pipe(res);
        up.on('end', resolve);
        up.on('error', reject);
      });
      out.on('error', (e) => reject(res.headersSent ? e : unavailable(`error trying to reach ${what}: ${e.message}`)));
      req.pipe(out);
      res.on('close', () => out.destroy());
    });
  }

  /** A redirect into the backend stays inside the proxy path. */
  private rewriteLocation(p: ProxyPath, t: ProxyTarget, loc: string): string {
    try {
      const u = new URL(loc, `${t.scheme}://${t.ip}:${t.port}${p.rest}`);
      if (u.host !== `${t.ip}:${t.port}`) return loc;
      return `${this.prefix(p)}${u.pathname}${u.search}${u.hash}`;
    } catch {
      return loc;
    }
  }

  /** An Upgrade request (WebSocket): its head is written to the backend as is, then both sides are joined. */
  async upgrade(p: ProxyPath, url: URL, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const t = await this.target(p);
    const upstream = connection(this.dial!, t);
    const headers = forwardHeaders(req, t);
    headers.connection = 'Upgrade';
    if (req.headers.upgrade) headers.upgrade = req.headers.upgrade;
    const lines = [`${req.method} ${p.rest}${url.search} HTTP/1.1`];
    for (const [k, v] of Object.entries(headers)) for (const x of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${x}`);
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length) upstream.write(head);
    let answered = false;
    upstream.once('data', () => { answered = true; });
    upstream.on('error', (e) => {
      if (!answered && socket.writable) {
        const st = unavailable(`error trying to reach ${p.kind === 'services' ? 'service' : 'pod'}: ${e.message}`).toStatus();
        const body = JSON.stringify(st);
        socket.end(`HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      } else socket.destroy();
    });
    socket.on('error', () => upstream.destroy());
    socket.on('close', () => upstream.destroy());
    upstream.on('close', () => socket.destroy());
    upstream.pipe(socket);
    socket.pipe(upstream);
  }
}

/**
 * The API server's HTTP front door: HTTPS on 127.0.0.1 (client-cert or bearer-token auth) and plain
 * HTTP on a unix socket (mode 0600, for components in other network namespaces). Routes every
 * catalog resource to the in-process `Client` (rest.ts, watch.ts), the streaming Pod subresources to
 * the node's PodStreamProvider (podstreams.ts), and discovery/OpenAPI/Table printing to the
 * installed extensions. Every failure is a Kubernetes Status; nothing a client sends crashes it.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Server as NetServer } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { chmod, rm } from 'node:fs/promises';
import type { Client } from '../../client/client.js';
import type { PodStreamProvider } from '../../api/streams.js';
import { ApiError, unauthorized } from '../../api/errors.js';
import type { Pki } from '../pki/pki.js';
import { ADMIN_GROUP, ADMIN_USER } from '../pki/pki.js';
import { parseResourcePath, notFoundPath } from './route.js';
import { proxyRequest, proxyUpgrade, type RemoteStreamTarget } from './remotestreams.js';
import { R } from '../../api/resources.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { handleRest, type HandlerContext } from './rest.js';
import { handleWatch } from './watch.js';
import { boolParam } from './query.js';
import { createUpgradeHandler, handleLog, type StreamLookup } from './podstreams.js';
import { createAuthenticator, isPublicPath, type ObjectGetter, type UserInfo } from '../auth/authenticator.js';
import { forbiddenError, requestAttributes } from '../auth/attributes.js';
import { ALWAYS_ALLOW, type Authorizer } from '../auth/authorizer.js';
import { impersonatedUser } from '../auth/impersonation.js';
import { issuerDiscovery, OIDC_CONTENT_TYPES } from '../auth/oidc.js';
import { answerReview } from '../auth/reviews.js';
import type { ServiceAccountTokens } from '../auth/tokens.js';
import { sendError, sendJson, toApiError } from './respond.js';
import { DEFAULT_BODY_LIMIT } from './body.js';
import { healthAnswer, VERSION_INFO } from './versionhealth.js';
import type { ServerExtensions } from './extensions.js';
import { fallbackNonResource } from './fallback.js';
import { ApiServerMetrics, type TrackedRequest } from './metrics.js';
import type { KubeObject } from '../../api/object.js';
import type { ResourceRoute } from './route.js';
import { parseProxyPath, ProxyHandler, type ProxyDial } from './proxy.js';

/**
 * An extra non-resource path served to authenticated users (the daemon's debug endpoints: trace,
 * flows, a node proxy's metrics). Checked before resource routing, so it may claim a path under /api.
 */
export interface ExtraHandler {
  match(path: string, method: string): boolean;
  /**
   * Also called for requests without credentials (`ctx.user` undefined then): the handler
   * authenticates them itself and must answer them with nothing but a login page or a 401 (the web
   * view, src/ui, with its session cookie). Default false: anonymous requests get 401 first.
   */
  anonymous?: boolean;
  /**
   * `ctx.user` is always set unless the handler is `anonymous`. `ctx.authorizer` is the server's
   * own (RBAC): a non-anonymous handler's path was already authorized with it; an anonymous one must
   * authorize what it serves itself.
   */
  handle(req: IncomingMessage, res: ServerResponse, ctx: HandlerRequestContext): void | Promise<void>;
}

/** What an {@link ExtraHandler} gets beside the request. */
export interface HandlerRequestContext {
  url: URL;
  user?: UserInfo;
  authorizer: Authorizer;
}

/** One successful write made over HTTP (dry runs excluded), as `onWrite` observers see it. */
export interface WriteRecord {
  verb: 'create' | 'update' | 'patch' | 'delete';
  route: ResourceRoute;
  /** The stored object (for a delete: the object as deleted). */
  object: KubeObject;
  /** HTTP status sent. */
  code: number;
  user: string;
  userAgent?: string;
  /** `fieldManager` query parameter (kubectl: kubectl-client-side-apply, kubectl-create, ...). */
  fieldManager?: string;
  /** When the request arrived / the reply was sent (epoch ms, sub-ms precision). */
  receivedAt: number;
  finishedAt: number;
}

/** Options of {@link startApiServer}. */
export interface ApiServerOptions {
  /** The in-process client of the API core (registry + storage). */
  client: Client;
  /** Certificates and the admin token (pki/pki.ts `ensurePki`). */
  pki: Pki;
  /** HTTPS listener; default 127.0.0.1:6443. Port 0 picks a free port. Omit `port: null` to disable. */
  listen?: { host?: string; port?: number } | null;
  /** Path of the plain-HTTP unix socket (created mode 0600; an old one is replaced). */
  unixSocket?: string;
  /** Streaming Pod subresources: one provider for every Pod, or a lookup by Pod/node. */
  streams?: PodStreamProvider | StreamLookup;
  /** Discovery/OpenAPI documents and Table printing (defaults: built-in minimal versions). */
  extensions?: ServerExtensions;
  /** Extra bearer tokens (token → user), e.g. for node agents. The admin token is always accepted. */
  tokens?: ReadonlyMap<string, UserInfo>;
  /**
   * ServiceAccount tokens and authorization (the API core's `auth`, src/apiserver/core.ts). Absent:
   * only certificates and static tokens authenticate, and every authenticated request is allowed
   * (unit tests of the HTTP layer).
   */
  auth?: { tokens: ServiceAccountTokens; objects: ObjectGetter; authorizer: Authorizer };
  /** Maximum request body in bytes; larger bodies get 413. Default 3 MiB. */
  bodyLimit?: number;
  /** Readiness for /readyz (default: always ready). */
  ready?: () => boolean;
  /** Diagnostics for unexpected failures (default: console.error). */
  log?: (msg: string) => void;
  /** Extra authenticated non-resource paths (see ExtraHandler). */
  handlers?: readonly ExtraHandler[];
  /** Observer of every successful single-object write over HTTP (the trace recorder's API feed). Must not throw or block. */
  onWrite?: (w: WriteRecord) => void;
  /**
   * Endpoints outside the Kubernetes API, asked first and before authentication (they
   * authenticate on their own, e.g. the node-join API with bootstrap tokens, or are public like
   * `/cacerts`): resolves true when it answered the request.
   */
  extraRoutes?: (req: IncomingMessage, res: ServerResponse, pathname: string, user: UserInfo | undefined) => Promise<boolean>;
  /**
   * Where the stream server of a node is when no local provider serves it (a node joined from
   * another machine): pods/log, exec, attach and portforward are then passed on to it
   * (remotestreams.ts). Undefined: 503 as before.
   */
  remoteStreams?: (namespace: string, pod: string, nodeName: string) => Promise<RemoteStreamTarget | undefined>;
  /** Refuses an authenticated request with 403 when it returns a message (e.g. a node's stream server admits only the API server). */
  authorize?: (user: UserInfo, req: IncomingMessage) => string | undefined;
  /**
   * Connects to an address of the cluster network from inside it, for services/proxy and
   * pods/proxy (proxy.ts). Without it those subresources answer 503.
   */
  proxyDial?: ProxyDial;
}

/** A running API server. */
export interface RunningApiServer {
  /** HTTPS port (0 when HTTPS is disabled). */
  port: number;
  /** https://127.0.0.1:<port> */
  url: string;
  socketPath?: string;
  /**
   * Serves the connections another listener accepts with this server's HTTPS (same certificate,
   * authentication and handlers), e.g. one listening inside a node's network namespace
   * (src/cluster/apiforwarder.ts). The listener is closed with the server.
   */
  serveOn(listener: NetServer): void;
  /** Stops listening, ends watches and streams, and removes the unix socket. */
  close(): Promise<void>;
}

/** Starts the listeners; resolves once they accept connections. */
export async function startApiServer(opts: ApiServerOptions): Promise<RunningApiServer> {
  const ext: ServerExtensions = opts.extensions ?? {};
  const resourceFor = ext.resourceFor ? ext.resourceFor.bind(ext) : undefined;
  const ctx: HandlerContext = { client: opts.client, ext, bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT };
  const streams = opts.streams;
  const lookup: StreamLookup | undefined = streams === undefined ? undefined
    : typeof streams === 'function' ? streams : () => streams;
  const log = opts.log ?? ((m: string) => console.error(`apiserver: ${m}`));
  const tokens = new Map(opts.tokens ?? []);
  tokens.set(opts.pki.adminToken, { name: ADMIN_USER, groups: [ADMIN_GROUP, 'system:authenticated'] });
  const authenticator = createAuthenticator({ tokens, serviceAccounts: opts.auth && { tokens: opts.auth.tokens, objects: opts.auth.objects } });
  const authorizer = opts.auth?.authorizer ?? ALWAYS_ALLOW;
  const oidc = opts.auth ? await issuerDiscovery(opts.auth.tokens) : undefined;
  if (opts.auth) {
    const { tokens: saTokens } = opts.auth;
    ctx.review = (info, body, user, namespace) => answerReview(info, body, { user, namespace, authenticator, authorizer, apiAudiences: saTokens.audiences });
  }
  /**
   * Who the request acts as (impersonation of the authenticated `real` user) and whether it may:
   * 401 without valid credentials (public paths excepted), 403 from the server's own `authorize`
   * (a node's stream server admits only the API servers), then 403 in Kubernetes' words when RBAC
   * says no.
   */
  function admit(req: IncomingMessage, real: UserInfo | undefined, method: string, path: string, q: URLSearchParams): UserInfo | undefined {
    if (!real) {
      if (isPublicPath(path)) return undefined;
      throw unauthorized();
    }
    const denied = opts.authorize?.(real, req);
    if (denied) throw new ApiError(403, 'Forbidden', denied);
    const user = impersonatedUser(req, real, authorizer);
    const attrs = requestAttributes(user, method, path, q);
    const d = authorizer.authorize(attrs);
    if (d.decision !== 'allow') throw forbiddenError(attrs, d.reason);
    return user;
  }
  const upgrades = createUpgradeHandler(ctx, lookup);
  const proxies = new ProxyHandler(opts.client, opts.proxyDial);
  const ready = opts.ready ?? (() => true);
  const metrics = new ApiServerMetrics(resourceFor);
  const handlers = opts.handlers ?? [];
  /** Epoch ms with sub-ms precision (comparable with other processes' clocks on this machine). */
  const now = (): number => performance.timeOrigin + performance.now();

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const tracked = metrics.track(req, res);
    req.on('error', () => { /* client went away */ });
    res.on('error', () => { /* EPIPE on a closed connection */ });
    serve(req, res, tracked).catch((e: unknown) => {
      if (!(e && typeof e === 'object' && 'code' in e && typeof (e as { code: unknown }).code === 'number')) log(`request ${req.method} ${req.url} failed: ${(e as Error)?.stack ?? e}`);
      try { sendError(res, e); } catch { res.destroy(); }
      // Drain any unread body so a keep-alive connection stays usable.
      if (!req.complete) req.resume();
    });
  };

  async function serve(req: IncomingMessage, res: ServerResponse, tracked: TrackedRequest): Promise<void> {
    const receivedAt = now();
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    const q = url.searchParams;
    const method = req.method ?? 'GET';
    const real = await authenticator.authenticate(req);
    // Routes of the server's owner ahead of everything (the join API: /cacerts and the join
    // request authenticate with a bootstrap token of their own, src/cluster/join/service.ts).
    if (opts.extraRoutes && await opts.extraRoutes(req, res, path, real)) return;
    // A handler that also serves requests without credentials (the web view: its login page and
    // session cookie) gets the authenticated user when there is one and authorizes each of its
    // reads itself, with `ctx.authorizer` (RBAC is asked about what the page reads, not its path).
    const open = handlers.find((h) => h.anonymous === true && h.match(path, method));
    if (open) {
      const who = real && impersonatedUser(req, real, authorizer);
      await open.handle(req, res, { url, authorizer, ...(who ? { user: who } : {}) });
      return;
    }
    const user = admit(req, real, method, path, q);
    const extra = user && handlers.find((h) => h.match(path, method));
    if (extra) { await extra.handle(req, res, { url, user, authorizer }); return; }
    // services/proxy, pods/proxy: any method, any path below (the trailing slash kept).
    const proxyPath = parseProxyPath(url.pathname);
    if (proxyPath) { await proxies.serve(proxyPath, url, req, res); return; }
    const route = parseResourcePath(method, path, boolParam(q, 'watch') === true, resourceFor);
    if (route) {
      tracked.route = route;
      if (route.verb === 'watch') { handleWatch(ctx, route, req, res, q); return; }
      if (route.verb === 'log') {
        const remote = await remoteTarget(route);
        if (remote) { await proxyRequest(remote, req, res); return; }
        await handleLog(ctx, lookup, route, req, res, q);
        return;
      }
      if (route.verb === 'exec' || route.verb === 'attach' || route.verb === 'portforward') {
        throw new ApiError(400, 'BadRequest', 'Upgrade request required');
      }
      const written = await handleRest(ctx, route, req, res, q, user);
      if (written && opts.onWrite && !q.has('dryRun') && route.verb !== 'get' && route.verb !== 'list' && route.verb !== 'deletecollection') {
        try {
          opts.onWrite({
            verb: route.verb as WriteRecord['verb'], route, object: written, code: res.statusCode, user: user?.name ?? 'system:anonymous',
            userAgent: req.headers['user-agent'], fieldManager: q.get('fieldManager') ?? undefined, receivedAt, finishedAt: now(),
          });
        } catch (e) {
          log(`write observer failed: ${(e as Error)?.stack ?? e}`);
        }
      }
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') throw notFoundPath();
    if (path === '/version') { sendJson(res, 200, VERSION_INFO); return; }
    if (oidc && (path === '/.well-known/openid-configuration' || path === '/openid/v1/jwks')) {
      const [body, type] = path === '/openid/v1/jwks' ? [oidc.jwks, OIDC_CONTENT_TYPES.jwks] : [oidc.configuration, OIDC_CONTENT_TYPES.configuration];
      res.writeHead(200, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'public, max-age=3600' });
      res.end(body);
      return;
    }
    if (path === '/metrics') {
      const text = await metrics.text();
      res.writeHead(200, { 'Content-Type': metrics.contentType, 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    const h = healthAnswer(path, q.has('verbose'), ready());
    if (h) {
      res.writeHead(h.code, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
      res.end(h.text);
      return;
    }
    const ans = (await ext.nonResource?.(path, q, req.headers.accept)) ?? fallbackNonResource(path, req.headers.accept);
    if (!ans) throw notFoundPath();
    res.writeHead(ans.status ?? 200, { 'Content-Type': ans.contentType, 'Content-Length': Buffer.byteLength(ans.body), 'Cache-Control': 'no-cache, private' });
    res.end(ans.body);
  }

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      try {
        admit(req, await authenticator.authenticate(req), req.method ?? 'GET', url.pathname, url.searchParams);
        const proxyPath = parseProxyPath(url.pathname);
        if (proxyPath) { await proxies.upgrade(proxyPath, url, req, socket, head); return; }
        const route = parseResourcePath(req.method ?? 'GET', url.pathname, false, resourceFor);
        if (!route) throw notFoundPath();
        const remote = route.verb === 'exec' || route.verb === 'attach' || route.verb === 'portforward' ? await remoteTarget(route) : undefined;
        if (remote) { await proxyUpgrade(remote, req, socket, head); return; }
        await upgrades.handle(route, req, socket, head, url.searchParams);
      } catch (e) {
        const st = toApiError(e).toStatus();
        const body = JSON.stringify(st);
        socket.end(`HTTP/1.1 ${st.code} ${st.reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      }
    })();
  };

  /** The node stream server to pass a Pod's streams on to, when its node is not served here. */
  async function remoteTarget(route: ResourceRoute): Promise<RemoteStreamTarget | undefined> {
    if (!opts.remoteStreams || route.namespace === undefined || route.name === undefined) return undefined;
    const pod = await opts.client.get<Pod>(R.pods, route.namespace, route.name);
    const node = pod.spec?.nodeName;
    if (!node || lookup?.(route.namespace, route.name, node)) return undefined;
    return opts.remoteStreams(route.namespace, route.name, node);
  }

  const servers: Server[] = [];
  const setup = (s: Server): Server => {
    s.on('request', onRequest);
    s.on('upgrade', onUpgrade);
    s.on('clientError', (_e, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'); else socket.destroy();
    });
    // Watches and log follows are long-lived: no request timeout.
    s.requestTimeout = 0;
    s.keepAliveTimeout = 65_000;
    s.headersTimeout = 66_000;
    servers.push(s);
    return s;
  };

  const https = setup(createHttpsServer({
    key: opts.pki.serverKey, cert: opts.pki.serverCert, ca: opts.pki.caCert,
    requestCert: true, rejectUnauthorized: false,
  }));
  // No TLS renegotiation (Go's TLS server, kube-apiserver's, has none): a connection's client
  // certificate is then fixed, so the authenticator reads it once per connection.
  https.on('secureConnection', (socket: TLSSocket) => socket.disableRenegotiation());
  const extraListeners: NetServer[] = [];
  let port = 0;
  if (opts.listen !== null) {
    const host = opts.listen?.host ?? '127.0.0.1';
    await listen(https, () => https.listen(opts.listen?.port ?? 6443, host));
    port = (https.address() as { port: number }).port;
  }
  if (opts.unixSocket) {
    await rm(opts.unixSocket, { force: true });
    const unix = setup(createHttpServer());
    // Create the socket unreadable to others from the first moment, then set the exact mode.
    const oldMask = process.umask(0o177);
    try { await listen(unix, () => unix.listen(opts.unixSocket)); } finally { process.umask(oldMask); }
    await chmod(opts.unixSocket, 0o600);
  }

  let closing: Promise<void> | undefined;
  return {
    port, url: `https://127.0.0.1:${port}`, socketPath: opts.unixSocket,
    serveOn(listener) {
      extraListeners.push(listener);
      listener.on('connection', (socket) => https.emit('connection', socket));
      listener.on('error', () => { /* a failed accept; the listener goes on */ });
    },
    close: () => closing ??= (async () => {
      for (const l of extraListeners) l.close();
      upgrades.close();
      await Promise.all(servers.map((s) => new Promise<void>((r) => { s.close(() => r()); s.closeAllConnections(); })));
      if (opts.unixSocket) await rm(opts.unixSocket, { force: true });
    })(),
  };
}

function listen(s: Server, start: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const onErr = (e: Error): void => reject(e);
    s.once('error', onErr);
    s.once('listening', () => { s.off('error', onErr); s.on('error', () => { /* logged per request */ }); resolve(); });
    start();
  });
}

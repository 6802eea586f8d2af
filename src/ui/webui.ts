/**
 * The web view's server side: everything under `/ui/` on the API server's HTTPS listener, mounted
 * through `startApiServer({ handlers })`. Its handlers are `anonymous` (src/apiserver/http/server.ts)
 * because a browser carries no client certificate: they authenticate each request themselves, by
 * the API server's own credentials (certificate, bearer token) or the session cookie, and answer an
 * unauthenticated one with the login page (pages) or a 401 Status (data) — nothing else.
 *
 *   POST /ui/api/login-tokens     (API credentials) → a one-time login token for that user (`clusterip ui`)
 *   POST /ui/api/session {token}  → the session cookie (HttpOnly, Secure, SameSite=Strict)
 *   POST /ui/api/logout
 *   GET  /ui/, /ui/assets/*       → the page (login page when signed out)
 *   GET  /ui/api/topology[?follow=1]            → TopologyUpdate (NDJSON when following)
 *   GET  /ui/api/trace?service=NS/NAME[&...]    → the daemon's /debug/clusterip/trace, unchanged
 *   GET  /ui/api/flows[?...]                    → the daemon's /debug/clusterip/flows, unchanged
 *   GET  /ui/api/explain?service=NS/NAME        → ServiceExplanation (clusterip explain -o json)
 *   POST /ui/api/diagnose?service=NS/NAME       → ServiceDiagnosis (clusterip diagnose -o json)
 *
 * Trace, flows, explain and diagnose are the same functions and endpoints the CLI uses; this file
 * adds no data of its own. The session is the user who minted the token, and each endpoint is
 * authorized by RBAC as that user for the API requests it stands for (access.ts): the page shows
 * only what that user could read with kubectl.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, badRequest, methodNotAllowed, unauthorized } from '../api/errors.js';
import type { UserInfo } from '../apiserver/auth/user.js';
import type { Authorizer } from '../apiserver/auth/authorizer.js';
import { authorizeAll, uiAccessChecks } from './access.js';
import { readBody } from '../apiserver/http/body.js';
import { sendJson } from '../apiserver/http/respond.js';
import type { ExtraHandler } from '../apiserver/http/server.js';
import type { Client } from '../client/client.js';
import { NdjsonStream } from '../inspect/stream.js';
import { Assets } from './assets.js';
import { SNAPSHOT_PART, type ClusterInfo, type TopologyRecord, type TopologyUpdate } from './model.js';
import { SessionStore, clearedSessionCookie, sessionCookie, sessionFromCookie } from './sessions.js';
import { TopologyFeed } from './topologyfeed.js';

export const UI_PREFIX = '/ui';

/** Explain and diagnose as the daemon runs them (src/inspect); absent until wired. */
export interface InspectFunctions {
  explain(namespace: string, name: string, signal: AbortSignal): Promise<unknown>;
  diagnose(namespace: string, name: string, signal: AbortSignal): Promise<unknown>;
}

export interface WebUiOptions {
  /** The in-process client of the API core (the topology's watches). */
  client: Client;
  clusterName: string;
  /** The daemon's inspect handlers (`Observability.handlers`): trace and flows are served through them. */
  inspectHandlers?: readonly ExtraHandler[];
  inspect?: InspectFunctions;
  sessions?: SessionStore;
  assets?: Assets;
}

const KEY = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** Headers of every answer: no framing, no sniffing, no referrer (the login URL holds a token in its fragment). */
const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; worker-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

export class WebUi {
  readonly sessions: SessionStore;
  readonly assets: Assets;
  readonly feed: TopologyFeed;
  readonly handlers: ExtraHandler[];

  constructor(private readonly opts: WebUiOptions) {
    this.sessions = opts.sessions ?? new SessionStore();
    this.assets = opts.assets ?? new Assets();
    this.feed = new TopologyFeed(opts.client);
    this.handlers = [{
      anonymous: true,
      match: (path) => path === UI_PREFIX || path.startsWith(`${UI_PREFIX}/`),
      handle: (req, res, ctx) => this.serve(req, res, ctx.url, ctx.user, ctx.authorizer),
    }];
  }

  stop(): void {
    this.feed.stop();
  }

  private features(): ClusterInfo['features'] {
    const has = (p: string): boolean => (this.opts.inspectHandlers ?? []).some((h) => h.match(p, 'GET'));
    return { trace: has('/debug/clusterip/trace'), flows: has('/debug/clusterip/flows'), explain: !!this.opts.inspect, diagnose: !!this.opts.inspect };
  }

  private async serve(req: IncomingMessage, res: ServerResponse, url: URL, apiUser: UserInfo | undefined, authorizer: Authorizer): Promise<void> {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (path === UI_PREFIX) { res.writeHead(301, { Location: `${UI_PREFIX}/` }).end(); return; }
    const rel = path.slice(UI_PREFIX.length + 1); // after "/ui/"

    // Signing in and out.
    if (rel === 'api/login-tokens') {
      if (method !== 'POST') throw methodNotAllowed();
      // Only the API's own credentials mint tokens (a browser session cannot extend itself).
      if (!apiUser) throw unauthorized();
      const t = this.sessions.mintToken(apiUser);
      sendJson(res, 201, { kind: 'UiLoginToken', user: apiUser.name, token: t.token, expiresAt: new Date(t.expiresAt).toISOString(), path: `${UI_PREFIX}/login#token=${t.token}` });
      return;
    }
    if (rel === 'api/session') {
      if (method !== 'POST') throw methodNotAllowed();
      this.checkOrigin(req);
      let token: unknown;
      try { token = (JSON.parse((await readBody(req, 4096)).toString('utf8')) as { token?: unknown }).token; } catch (e) {
        if ((e as { code?: unknown }).code === 413) throw e;
        throw badRequest('the body must be JSON {"token": "..."}');
      }
      const s = typeof token === 'string' ? this.sessions.redeem(token) : undefined;
      if (!s) throw new ApiError(401, 'Unauthorized', 'this login link is not valid: it was used already, it expired, or the cluster restarted; run `clusterip ui` for a new one');
      res.setHeader('Set-Cookie', sessionCookie(s.session, this.sessions.sessionTtlMs));
      res.setHeader('Cache-Control', 'no-store');
      sendJson(res, 200, { kind: 'UiSession', user: s.user.name, expiresAt: new Date(s.expiresAt).toISOString() });
      return;
    }
    if (rel === 'api/logout') {
      if (method !== 'POST') throw methodNotAllowed();
      this.checkOrigin(req);
      this.sessions.end(sessionFromCookie(req.headers.cookie));
      res.setHeader('Set-Cookie', clearedSessionCookie());
      sendJson(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 200 });
      return;
    }
    // The login page's own files: code and style, no data.
    if (rel === 'assets/login.js' || rel === 'assets/login.css') { this.sendAsset(req, res, rel, 200); return; }

    const user = apiUser ?? this.sessions.userOf(sessionFromCookie(req.headers.cookie));
    if (!user) {
      if (rel.startsWith('api/')) throw unauthorized();
      this.sendPage(req, res, 'login.html', 401);
      return;
    }
    if (rel.startsWith('api/')) { await this.api(req, res, url, rel.slice(4), user, authorizer); return; }
    if (rel.startsWith('assets/')) { this.sendAsset(req, res, rel, 200); return; }
    // Any other path is the page (it reads its own location).
    this.sendPage(req, res, 'index.html', 200);
  }

  /** A POST that changes the session must come from this origin (SameSite=Strict already keeps other sites' requests cookie-less). */
  private checkOrigin(req: IncomingMessage): void {
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `https://${req.headers.host}`) throw new ApiError(403, 'Forbidden', `cross-origin request from ${origin} refused`);
  }

  private sendPage(req: IncomingMessage, res: ServerResponse, file: string, code: number): void {
    if (!this.assets.built) {
      res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end('the web view is not built: run `npm run build` (it writes dist/ui/)\n');
      return;
    }
    this.sendAsset(req, res, file, code);
  }

  private sendAsset(req: IncomingMessage, res: ServerResponse, rel: string, code: number): void {
    const a = this.assets.get(rel);
    if (!a) throw new ApiError(404, 'NotFound', `the page has no file ${JSON.stringify(rel)}`);
    const html = a.type.startsWith('text/html');
    res.setHeader('Cache-Control', html ? 'no-store' : 'private, no-cache');
    res.setHeader('ETag', a.etag);
    if (code === 200 && !html && req.headers['if-none-match'] === a.etag) { res.writeHead(304).end(); return; }
    res.writeHead(code, { 'Content-Type': a.type, 'Content-Length': a.body.length });
    res.end(req.method === 'HEAD' ? undefined : a.body);
  }

  private async api(req: IncomingMessage, res: ServerResponse, url: URL, what: string, user: UserInfo, authorizer: Authorizer): Promise<void> {
    const method = req.method ?? 'GET';
    res.setHeader('Cache-Control', 'no-store');
    // The session's user may see only what RBAC lets it read (access.ts); the namespace of explain/diagnose is checked below.
    if (what !== 'explain' && what !== 'diagnose') authorizeAll(authorizer, user, uiAccessChecks(what));
    switch (what) {
      case 'topology': {
        if (method !== 'GET') throw methodNotAllowed();
        await this.feed.start();
        const cluster: ClusterInfo = { name: this.opts.clusterName, user: user.name, features: this.features() };
        const follow = url.searchParams.get('follow');
        if (follow !== '1' && follow !== 'true') {
          sendJson(res, 200, { type: 'snapshot', at: Date.now(), snapshot: this.feed.snapshot(), cluster } satisfies TopologyUpdate);
          return;
        }
        const stream = new NdjsonStream(res, 16 << 20);
        // Subscribe and snapshot in one tick: every later change is in a later delta.
        const unsubscribe = this.feed.subscribe((d) => {
          // A reader that fell behind would hold a wrong picture: end its stream; the page reconnects to a fresh snapshot.
          if (!stream.send(d)) { unsubscribe(); res.destroy(); }
        });
        res.on('close', unsubscribe);
        const snap = this.feed.snapshot();
        stream.send({ type: 'begin', at: Date.now(), cluster } satisfies TopologyUpdate);
        for (const kind of ['nodes', 'namespaces', 'services', 'endpointslices', 'pods'] as const) {
          const recs: TopologyRecord[] = snap[kind];
          for (let i = 0; i < recs.length; i += SNAPSHOT_PART) stream.send({ type: 'records', kind, recs: recs.slice(i, i + SNAPSHOT_PART) } satisfies TopologyUpdate);
        }
        stream.send({ type: 'ready', at: Date.now() } satisfies TopologyUpdate);
        return;
      }
      case 'trace':
      case 'flows':
        await this.delegate(req, res, url, `/debug/clusterip/${what}`, user, authorizer);
        return;
      case 'explain':
      case 'diagnose': {
        if (method !== (what === 'explain' ? 'GET' : 'POST')) throw methodNotAllowed();
        if (what === 'diagnose') this.checkOrigin(req);
        const inspect = this.opts.inspect;
        if (!inspect) throw new ApiError(503, 'ServiceUnavailable', `${what} is not available in this daemon`);
        const key = url.searchParams.get('service') ?? '';
        if (!KEY.test(key)) throw badRequest(`service must be NAMESPACE/NAME, got ${JSON.stringify(key)}`);
        const [ns, name] = key.split('/') as [string, string];
        authorizeAll(authorizer, user, uiAccessChecks(what, ns));
        const abort = new AbortController();
        res.on('close', () => { if (!res.writableFinished) abort.abort(); });
        sendJson(res, 200, await inspect[what](ns, name, abort.signal));
        return;
      }
      default:
        throw new ApiError(404, 'NotFound', `the page has no endpoint ${JSON.stringify(`/ui/api/${what}`)}`);
    }
  }

  /** Serves `/ui/api/<x>` with the daemon's own `/debug/clusterip/<x>` handler, query unchanged. */
  private async delegate(req: IncomingMessage, res: ServerResponse, url: URL, path: string, user: UserInfo, authorizer: Authorizer): Promise<void> {
    const h = (this.opts.inspectHandlers ?? []).find((x) => x.match(path, req.method ?? 'GET'));
    if (!h) throw new ApiError(503, 'ServiceUnavailable', `${path} is not available in this daemon (started without observability)`);
    const target = new URL(url.href);
    target.pathname = path;
    await h.handle(req, res, { url: target, user, authorizer });
  }
}

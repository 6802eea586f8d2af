/**
 * The streaming Pod subresources: pods/log as chunked text/plain, pods/exec and pods/attach as a
 * WebSocket (channel.k8s.io framing, channels.ts), pods/portforward as SPDY over a WebSocket tunnel
 * or a plain SPDY upgrade (portforward.ts). The work itself is delegated to the
 * `PodStreamProvider` of the node that runs the Pod; this file owns only the wire.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import { ApiError, badRequest } from '../../api/errors.js';
import { R } from '../../api/resources.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { StreamRefusal, type ExecOptions, type ExecSession, type LogOptions, type PodStreamProvider } from '../../api/streams.js';
import { negotiateSpdyProtocol, SPDY_EXEC_PROTOCOLS, spdyExecUpgradeResponse, startSpdyExec } from './remotecommand.js';
import type { ResourceRoute } from './route.js';
import type { HandlerContext } from './rest.js';
import { CH, decodeClientMessage, exitStatus, frame, pickProtocol } from './channels.js';
import { toApiError } from './respond.js';
import { PORT_FORWARD_TUNNEL_PROTOCOL, portForwardUpgradeKind, SPDY_UPGRADE_RESPONSE, startPortForward } from './portforward.js';
import type { SpdyServerSession, SpdyTransport } from './spdy/session.js';
import { runOverSocket, runOverWebSocket } from './spdy/transports.js';

/** Finds the provider serving a Pod (by the Pod's node); undefined when none is registered. */
export type StreamLookup = (namespace: string, pod: string, nodeName: string | undefined) => PodStreamProvider | undefined;

function unavailable(pod: string): ApiError {
  return new ApiError(503, 'ServiceUnavailable', `no node agent is serving pod "${pod}"`);
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw badRequest(`invalid value for ${name}: "${v}"`);
  return n;
}

const bool = (q: URLSearchParams, name: string): boolean => q.get(name) === 'true' || q.get(name) === '1';

/** Log options from the query. */
export function logOptions(q: URLSearchParams): LogOptions {
  const o: LogOptions = {};
  const c = q.get('container'); if (c) o.container = c;
  if (bool(q, 'follow')) o.follow = true;
  if (bool(q, 'previous')) o.previous = true;
  if (bool(q, 'timestamps')) o.timestamps = true;
  const tl = intParam(q, 'tailLines'); if (tl !== undefined) o.tailLines = tl;
  const ss = intParam(q, 'sinceSeconds'); if (ss !== undefined) o.sinceSeconds = ss;
  const st = q.get('sinceTime');
  if (st) {
    if (Number.isNaN(Date.parse(st))) throw badRequest(`invalid value for sinceTime: "${st}"`);
    o.sinceTime = st;
  }
  const lb = intParam(q, 'limitBytes'); if (lb !== undefined) o.limitBytes = lb;
  return o;
}

/** Exec/attach options from the query (`command` repeats, one argv element each). */
export function execOptions(q: URLSearchParams): ExecOptions {
  const tty = bool(q, 'tty');
  return {
    container: q.get('container') || undefined,
    command: q.getAll('command'),
    stdin: bool(q, 'stdin'), stdout: bool(q, 'stdout'), stderr: bool(q, 'stderr') && !tty, tty,
  };
}

async function podAndProvider(ctx: HandlerContext, lookup: StreamLookup | undefined, ns: string, name: string): Promise<{ pod: Pod; provider: PodStreamProvider }> {
  const pod = await ctx.client.get<Pod>(R.pods, ns, name);
  const provider = lookup?.(ns, name, pod.spec?.nodeName);
  if (!provider) throw unavailable(name);
  return { pod, provider };
}

async function providerFor(ctx: HandlerContext, lookup: StreamLookup | undefined, ns: string, name: string): Promise<PodStreamProvider> {
  return (await podAndProvider(ctx, lookup, ns, name)).provider;
}

/** GET pods/{name}/log. Throws ApiError before the first byte; after that, errors end the stream. */
export async function handleLog(ctx: HandlerContext, lookup: StreamLookup | undefined, route: ResourceRoute, req: IncomingMessage, res: ServerResponse, q: URLSearchParams): Promise<void> {
  const opts = logOptions(q);
  const provider = await providerFor(ctx, lookup, route.namespace!, route.name!);
  const abort = new AbortController();
  const stream = await provider.logs(route.namespace!, route.name!, opts, abort.signal);
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
  res.flushHeaders();
  const stop = (): void => { abort.abort(); stream.destroy(); if (!res.writableEnded) res.end(); };
  req.on('close', stop);
  res.on('error', stop);
  stream.on('error', stop);
  stream.on('end', () => { if (!res.writableEnded) res.end(); });
  stream.pipe(res, { end: false });
}

/** Runs one exec/attach session over an accepted WebSocket. */
export function runSession(ws: WebSocket, protocol: string, session: ExecSession): void {
  let closed = false;
  const send = (ch: number, data: Uint8Array | string): void => {
    if (!closed && ws.readyState === ws.OPEN) ws.send(frame(ch, data));
  };
  const end = (code: number): void => {
    if (closed) return;
    closed = true;
    if (ws.readyState === ws.OPEN) ws.close(code); else ws.terminate();
  };
  // Outputs are drained before the exit status (the provider settles `result` after they end).
  const outputsDone = Promise.all([
    session.stdout && new Promise<void>((r) => { session.stdout!.on('data', (d: Buffer) => send(CH.stdout, d)); session.stdout!.on('end', r); session.stdout!.on('error', () => r()); session.stdout!.on('close', () => r()); }),
    session.stderr && new Promise<void>((r) => { session.stderr!.on('data', (d: Buffer) => send(CH.stderr, d)); session.stderr!.on('end', r); session.stderr!.on('error', () => r()); session.stderr!.on('close', () => r()); }),
  ]);
  session.stdin?.on('error', () => { /* process gone: EPIPE is expected */ });
  ws.on('message', (raw: RawData, isBinary: boolean) => {
    const buf = Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw as ArrayBuffer);
    if (!isBinary && buf.length === 0) return;
    const m = decodeClientMessage(buf);
    if (m.kind === 'stdin') { if (m.data.length && session.stdin && !session.stdin.writableEnded) session.stdin.write(m.data); }
    else if (m.kind === 'resize') session.resize?.(m.width, m.height);
    else if (m.kind === 'close' && m.channel === CH.stdin && protocol.startsWith('v5')) session.stdin?.end();
  });
  ws.on('close', () => { if (!closed) { closed = true; session.close(); } });
  ws.on('error', () => { closed = true; session.close(); });
  session.result.then(async (r) => {
    await outputsDone;
    send(CH.error, JSON.stringify(exitStatus(r)));
    end(1000);
  }, (e: unknown) => {
    send(CH.error, JSON.stringify(exitStatus({ error: toApiError(e).message })));
    end(1000);
  });
}

/**
 * Writes a Status as a plain HTTP answer on a socket that was asking for an upgrade; a
 * StreamRefusal (the kubelet's words) as plain text with its status.
 */
function rejectUpgrade(socket: Duplex, e: unknown): void {
  if (e instanceof StreamRefusal) {
    if (!socket.destroyed) {
      socket.end(`HTTP/1.1 ${e.status} ${e.status === 404 ? 'Not Found' : e.status === 400 ? 'Bad Request' : 'Internal Server Error'}\r\n`
        + `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(e.message)}\r\nConnection: close\r\n\r\n${e.message}`);
    }
    return;
  }
  const st = toApiError(e).toStatus();
  const body = JSON.stringify(st);
  const text = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 503: 'Service Unavailable' }[st.code] ?? 'Error';
  if (!socket.destroyed) {
    socket.end(`HTTP/1.1 ${st.code} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
}

/**
 * Creates the upgrade handler for exec/attach/portforward. Everything that can fail (pod missing,
 * no provider, bad protocol) is answered as a plain HTTP Status before the 101, so kubectl prints it
 * (and, for port-forward, falls back from the WebSocket tunnel to SPDY when that is refused).
 */
export function createUpgradeHandler(ctx: HandlerContext, lookup: StreamLookup | undefined) {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 16 * 1024 * 1024, handleProtocols: (protos) => pickProtocol(protos) ?? false });
  // "SPDY/3.1+portforward.k8s.io" holds characters `ws` refuses in a subprotocol token ('/'), so
  // the tunnel's subprotocol is checked by portForwardUpgradeKind, hidden from `ws`, and answered here.
  const tunnel = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 });
  tunnel.on('headers', (headers: string[]) => headers.push(`Sec-WebSocket-Protocol: ${PORT_FORWARD_TUNNEL_PROTOCOL}`));
  const forwards = new Set<SpdyServerSession>();
  const spdyExecs = new Set<SpdyServerSession>();

  /** The session exec/attach asks for, started only once every check passed (before any 101). */
  async function startSession(route: ResourceRoute, q: URLSearchParams): Promise<{ session: ExecSession; opts: ExecOptions }> {
    const opts = execOptions(q);
    if (route.verb === 'exec' && opts.command!.length === 0) throw badRequest('you must specify at least 1 command');
    if (!opts.stdin && !opts.stdout && !opts.stderr) throw badRequest('you must specify at least 1 of stdin, stdout, stderr');
    const provider = await providerFor(ctx, lookup, route.namespace!, route.name!);
    const session = route.verb === 'exec'
      ? await provider.exec(route.namespace!, route.name!, opts)
      : await provider.attach(route.namespace!, route.name!, opts);
    return { session, opts };
  }

  /** exec/attach over `Upgrade: SPDY/3.1` (remotecommand.ts). */
  async function spdyExec(route: ResourceRoute, req: IncomingMessage, socket: Duplex, head: Buffer, q: URLSearchParams): Promise<void> {
    const offered = ([] as string[]).concat(req.headers['x-stream-protocol-version'] ?? []).flatMap((v) => v.split(',')).map((x) => x.trim()).filter(Boolean);
    const protocol = negotiateSpdyProtocol(offered);
    if (!protocol) {
      throw new StreamRefusal(403, `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${SPDY_EXEC_PROTOCOLS.join(' ')}]`);
    }
    const { session, opts } = await startSession(route, q);
    if (socket.destroyed) { session.close(); return; }
    socket.write(spdyExecUpgradeResponse(protocol));
    runOverSocket(socket, head, (t) => {
      const s = startSpdyExec(t, session, { protocol, stdin: opts.stdin, stdout: opts.stdout, stderr: opts.stderr, tty: opts.tty, onClose: () => spdyExecs.delete(s) });
      spdyExecs.add(s);
      return s;
    });
  }

  async function portForward(route: ResourceRoute, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const kind = portForwardUpgradeKind(req);
    const ns = route.namespace!, name = route.name!;
    const { pod, provider } = await podAndProvider(ctx, lookup, ns, name);
    if (socket.destroyed) return;
    const start = (t: SpdyTransport): SpdyServerSession => {
      const session = startPortForward(t, (port) => provider.portForward(ns, name, port), {
        pod: { namespace: ns, name, uid: pod.metadata?.uid ?? '' },
        onClose: () => forwards.delete(session),
      });
      forwards.add(session);
      return session;
    };
    if (kind === 'websocket') {
      delete req.headers['sec-websocket-protocol'];
      tunnel.handleUpgrade(req, socket, head, (ws) => runOverWebSocket(ws, start));
    } else {
      socket.write(SPDY_UPGRADE_RESPONSE);
      runOverSocket(socket, head, start);
    }
  }

  return {
    close: (): void => {
      for (const f of [...forwards, ...spdyExecs]) f.close();
      for (const c of [...wss.clients, ...tunnel.clients]) c.terminate();
      wss.close();
      tunnel.close();
    },
    async handle(route: ResourceRoute, req: IncomingMessage, socket: Duplex, head: Buffer, q: URLSearchParams): Promise<void> {
      try {
        if (route.verb === 'portforward') { await portForward(route, req, socket, head); return; }
        if (route.verb !== 'exec' && route.verb !== 'attach') throw badRequest(`${route.verb} over WebSocket is not supported`);
        const upgrade = String(req.headers.upgrade ?? '').toLowerCase().split(',').map((x) => x.trim());
        if (upgrade.includes('spdy/3.1')) { await spdyExec(route, req, socket, head, q); return; }
        const protocol = pickProtocol(String(req.headers['sec-websocket-protocol'] ?? '').split(','));
        if (!protocol) throw badRequest('unsupported WebSocket subprotocol; supported: v5.channel.k8s.io, v4.channel.k8s.io');
        const { session } = await startSession(route, q);
        if (socket.destroyed) { session.close(); return; }
        wss.handleUpgrade(req, socket, head, (ws) => runSession(ws, protocol, session));
      } catch (e) {
        rejectUpgrade(socket, e);
      }
    },
  };
}

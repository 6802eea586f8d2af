/**
 * pods/log, exec, attach and portforward of a Pod whose node agent runs in another process (a node
 * joined from another machine): the request is passed on unchanged to that agent's own stream
 * server, as kube-apiserver proxies these subresources to the kubelet's port (10250). Plain requests
 * (logs) are re-sent and their answer piped back; upgrades (exec, attach, port-forward) are relayed
 * byte for byte after the request head, so the WebSocket / SPDY session runs end to end between the
 * client and the node. The API server authenticates to the node with its own client certificate;
 * the client's credentials are not passed on.
 */
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApiError } from '../../api/errors.js';
import { sendError, toApiError } from './respond.js';

/** Where a node's stream server is and how to talk to it. */
export interface RemoteStreamTarget {
  /** https://host:port of the node's stream server. */
  url: string;
  /** The API server's client certificate and key (PEM). */
  cert: string;
  key: string;
  /**
   * CA to verify the node's serving certificate with. Absent: not verified — kube-apiserver's
   * default too (no --kubelet-certificate-authority), since nodes serve self-signed certificates.
   */
  ca?: string;
}

const HOP = new Set(['authorization', 'host', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer']);

function forwardHeaders(req: IncomingMessage, host: string, upgrade: boolean): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = { host };
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || HOP.has(k)) continue;
    if (!upgrade && k === 'upgrade') continue;
    out[k] = v;
  }
  if (upgrade) out.connection = 'Upgrade';
  return out;
}

function unreachable(t: RemoteStreamTarget, e: Error): ApiError {
  return new ApiError(503, 'ServiceUnavailable', `cannot reach the node agent at ${t.url}: ${e.message}`);
}

/** Passes a plain request (pods/log) on to the node and pipes its answer back. */
export function proxyRequest(t: RemoteStreamTarget, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const u = new URL(t.url);
  return new Promise((resolve) => {
    const up = httpsRequest({
      hostname: u.hostname, port: u.port || 443, method: req.method, path: req.url,
      headers: forwardHeaders(req, u.host, false), cert: t.cert, key: t.key,
      ...(t.ca ? { ca: t.ca } : { rejectUnauthorized: false }),
    }, (ans) => {
      res.writeHead(ans.statusCode ?? 502, ans.headers);
      ans.pipe(res);
      ans.on('end', resolve);
      ans.on('error', () => { res.destroy(); resolve(); });
    });
    up.on('error', (e) => {
      if (!res.headersSent) sendError(res, unreachable(t, e)); else res.destroy();
      resolve();
    });
    // The client went away before the answer ended (a `logs -f` interrupted): end the node's side too.
    // (req's own 'close' fires as soon as its body has been read, so the response is watched.)
    res.on('close', () => { if (!res.writableFinished) up.destroy(); });
    req.pipe(up);
  });
}

/** Relays an upgrade (exec, attach, port-forward) to the node: the request head, then the bytes both ways. */
export function proxyUpgrade(t: RemoteStreamTarget, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const u = new URL(t.url);
  return new Promise((resolve) => {
    const up = tlsConnect({
      host: u.hostname, port: Number(u.port || 443), cert: t.cert, key: t.key, ALPNProtocols: ['http/1.1'],
      ...(t.ca ? { ca: t.ca, servername: u.hostname } : { rejectUnauthorized: false }),
    });
    let connected = false;
    up.once('secureConnect', () => {
      connected = true;
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (const [k, v] of Object.entries(forwardHeaders(req, u.host, true))) {
        for (const one of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${one}`);
      }
      up.write(lines.join('\r\n') + '\r\n\r\n');
      if (head.length) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
      resolve();
    });
    up.on('error', (e) => {
      if (!connected && !socket.destroyed) {
        const st = toApiError(unreachable(t, e)).toStatus();
        const body = JSON.stringify(st);
        socket.end(`HTTP/1.1 ${st.code} ${st.reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      } else {
        socket.destroy();
      }
      resolve();
    });
    up.on('close', () => socket.destroy());
    socket.on('close', () => up.destroy());
  });
}

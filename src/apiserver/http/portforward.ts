/**
 * pods/portforward: the portforward.k8s.io protocol over a SPDY/3.1 session, served on both
 * connections kubectl tries — the WebSocket tunnel (subprotocol "SPDY/3.1+portforward.k8s.io",
 * kubectl ≥ 1.31's first choice) and, when that is refused, a plain `Upgrade: SPDY/3.1`.
 *
 * Per local connection kubectl opens two streams with the same `requestID` header: an `error`
 * stream (it half-closes it at once and reads it to EOF) and a `data` stream (the bytes, both
 * ways). Once both exist the port (`port` header) is dialled inside the Pod. When the Pod side ends,
 * the data stream gets FIN and then the error stream — with the failure text, if any — gets FIN;
 * kubectl prints a non-empty error and drops the whole connection, as it does with the kubelet.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { badRequest } from '../../api/errors.js';
import { SpdyServerSession, type SpdyStream, type SpdyTransport } from './spdy/session.js';

/** The sub-protocol of pods/portforward. */
export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
/** client-go's prefix for SPDY protocols tunnelled through a WebSocket. */
export const SPDY_TUNNEL_PREFIX = 'SPDY/3.1+';
/** The WebSocket subprotocol kubectl offers for port-forward. */
export const PORT_FORWARD_TUNNEL_PROTOCOL = `${SPDY_TUNNEL_PREFIX}${PORT_FORWARD_PROTOCOL}`;

/** Opens a byte stream to `port` inside the Pod (the node's PodStreamProvider.portForward). */
export type PortDialer = (port: number) => Promise<Duplex>;

/** Which connection a port-forward request asks for; throws 400 for anything else. */
export function portForwardUpgradeKind(req: IncomingMessage): 'websocket' | 'spdy' {
  const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
  if (upgrade === 'websocket') {
    const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
    if (offered.includes(PORT_FORWARD_TUNNEL_PROTOCOL)) return 'websocket';
    throw badRequest(`unable to upgrade: no tunneling spdy protocols provided; supported: ${PORT_FORWARD_TUNNEL_PROTOCOL}`);
  }
  if (upgrade.split(',').map((s) => s.trim()).includes('spdy/3.1')) {
    const versions = ([] as string[]).concat(req.headers['x-stream-protocol-version'] ?? []).flatMap((v) => v.split(',')).map((s) => s.trim());
    if (versions.length && !versions.includes(PORT_FORWARD_PROTOCOL)) {
      throw badRequest(`unable to upgrade: unable to negotiate protocol: client supports [${versions.join(' ')}], server accepts [${PORT_FORWARD_PROTOCOL}]`);
    }
    return 'spdy';
  }
  throw badRequest('unable to upgrade: port-forward needs a WebSocket (SPDY/3.1+portforward.k8s.io) or SPDY/3.1 upgrade');
}

/** The 101 answer to a plain SPDY upgrade (what kubelet's spdy upgrader writes). */
export const SPDY_UPGRADE_RESPONSE = 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n'
  + `X-Stream-Protocol-Version: ${PORT_FORWARD_PROTOCOL}\r\n\r\n`;

/** Options of {@link startPortForward}. */
export interface PortForwardOptions {
  /** Pod identity for error texts (kubelet: "error forwarding port P to pod name_ns, uid U: …"). */
  pod: { namespace: string; name: string; uid: string };
  /** How long the second stream of a pair may lag the first (kubelet's default: 30 s). */
  streamPairTimeoutMs?: number;
  onClose?(): void;
}

interface StreamPair {
  error?: SpdyStream;
  data?: SpdyStream;
  timer: NodeJS.Timeout;
}

/** Serves one port-forward connection: a SPDY session whose stream pairs are forwarded via `dial`. */
export function startPortForward(transport: SpdyTransport, dial: PortDialer, opts: PortForwardOptions): SpdyServerSession {
  const pairs = new Map<string, StreamPair>();
  const timeoutMs = opts.streamPairTimeoutMs ?? 30_000;
  const podName = `${opts.pod.name}_${opts.pod.namespace}`;
  const failure = (port: string, why: string): string => `error forwarding port ${port} to pod ${podName}, uid ${opts.pod.uid}: ${why}`;

  const onStream = (s: SpdyStream): void => {
    s.on('error', () => { /* the connection went away; the pair's close handlers clean up */ });
    const type = s.header('streamtype');
    if (type !== 'error' && type !== 'data') { s.destroy(); return; }
    // kubectl always sends requestID; older clients did not, and the kubelet pairs their streams
    // by id instead (the data stream follows its error stream, client ids step by 2).
    const requestId = s.header('requestid') ?? String(type === 'error' ? s.id : s.id - 2);
    s.reply();
    let pair = pairs.get(requestId);
    if (!pair) {
      const p: StreamPair = {
        timer: setTimeout(() => {
          pairs.delete(requestId);
          p.error?.end('timed out waiting for streams');
          p.data?.destroy();
        }, timeoutMs),
      };
      p.timer.unref();
      pairs.set(requestId, p);
      pair = p;
    }
    if (pair[type]) { s.destroy(); return; }
    pair[type] = s;
    if (pair.error && pair.data) {
      clearTimeout(pair.timer);
      pairs.delete(requestId);
      void forward(pair.error, pair.data);
    }
  };

  const forward = async (error: SpdyStream, data: SpdyStream): Promise<void> => {
    const portText = data.header('port') ?? '';
    let done = false;
    const finish = (message?: string): void => {
      if (done) return;
      done = true;
      if (message && !error.destroyed) error.write(message);
      if (!error.destroyed) error.end();
    };
    const port = Number(portText);
    if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
      finish(failure(portText, `invalid port "${portText}"`));
      data.end();
      return;
    }
    let pod: Duplex;
    try {
      pod = await dial(port);
    } catch (e) {
      finish(failure(portText, (e as Error).message));
      if (!data.destroyed) data.end();
      return;
    }
    if (data.destroyed) { pod.destroy(); finish(); return; }
    // Pod → client; the Pod side's end is the data stream's FIN, then the error stream's.
    pod.on('data', (b: Buffer) => { if (!data.destroyed && !data.write(b)) pod.pause(); });
    data.on('drain', () => pod.resume());
    pod.on('end', () => { if (!data.destroyed) data.end(); finish(); });
    pod.on('error', (e: Error) => { finish(failure(portText, e.message)); if (!data.destroyed && !data.writableEnded) data.end(); });
    pod.on('close', () => finish());
    // Client → Pod; the client's FIN half-closes the Pod connection (nc shuts down its write side).
    data.pipe(pod);
    // A reset or a lost connection ends the Pod side at once.
    data.on('close', () => { pod.destroy(); finish(); });
  };

  return new SpdyServerSession(transport, {
    onStream,
    onClose: () => {
      for (const p of pairs.values()) clearTimeout(p.timer);
      pairs.clear();
      opts.onClose?.();
    },
  });
}

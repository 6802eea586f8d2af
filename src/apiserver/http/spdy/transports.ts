/**
 * Carries a SPDY session over the two connections kubectl can open: a raw socket after
 * `Upgrade: SPDY/3.1`, or WebSocket binary messages after the "SPDY/3.1+<protocol>" tunnel
 * handshake (client-go's TunnelingConnection: the SPDY byte stream cut into binary messages
 * anywhere; a text message is a protocol error there, so only binary is ever sent).
 */
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import type { SpdyServerSession, SpdyTransport } from './session.js';

/** Runs a session over an upgraded socket; `head` holds bytes that arrived with the request. */
export function runOverSocket(socket: Duplex, head: Buffer, start: (t: SpdyTransport) => SpdyServerSession): SpdyServerSession {
  const session = start({
    write: (bytes, done) => {
      if (socket.destroyed || socket.writableEnded) { done(new Error('connection closed')); return; }
      socket.write(bytes, done);
    },
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    // End politely (GOAWAY was written first), but never wait on a peer that does not close.
    close: () => { if (!socket.destroyed) { socket.end(); setTimeout(() => socket.destroy(), 2000).unref(); } },
  });
  (socket as Duplex & { setNoDelay?: (v: boolean) => void }).setNoDelay?.(true);
  socket.on('data', (b: Buffer) => session.receive(b));
  socket.on('close', () => session.transportClosed());
  socket.on('error', () => socket.destroy());
  if (head.length) session.receive(head);
  return session;
}

/** Runs a session over an accepted WebSocket whose messages carry the SPDY byte stream. */
export function runOverWebSocket(ws: WebSocket, start: (t: SpdyTransport) => SpdyServerSession): SpdyServerSession {
  const session = start({
    write: (bytes, done) => {
      if (ws.readyState !== ws.OPEN) { done(new Error('connection closed')); return; }
      ws.send(bytes, { binary: true }, done);
    },
    pause: () => ws.pause(),
    resume: () => ws.resume(),
    close: () => { if (ws.readyState === ws.OPEN) ws.close(1000); else ws.terminate(); },
  });
  ws.on('message', (raw: RawData, isBinary: boolean) => {
    if (!isBinary) { session.transportClosed(); return; }
    session.receive(Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw));
  });
  ws.on('close', () => session.transportClosed());
  ws.on('error', () => ws.terminate());
  return session;
}

/**
 * Forwarding of names outside the cluster zone to one upstream resolver over UDP. A query that gets
 * no answer within the timeout is answered SERVFAIL by the caller (never left hanging).
 */
import dgram from 'node:dgram';

export interface Forwarder {
  forward(query: Buffer): Promise<Buffer | undefined>;
  close(): void;
}

/** Creates a forwarder to `upstream` (`ip:port` or `ip`, port 53). */
export function createForwarder(upstream: string, timeoutMs = 2000): Forwarder {
  const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(upstream);
  if (!m) throw new Error(`invalid upstream ${JSON.stringify(upstream)}: want ip[:port]`);
  const host = m[1];
  const port = m[2] ? Number(m[2]) : 53;
  const sock = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  sock.unref();
  // Upstream replies are matched by a fresh ID of ours, then given back the client's ID.
  const pending = new Map<number, { clientId: number; resolve: (b: Buffer | undefined) => void; timer: NodeJS.Timeout }>();
  let nextId = Math.floor(Math.random() * 0xffff);
  sock.on('message', (msg) => {
    if (msg.length < 12) return;
    const p = pending.get(msg.readUInt16BE(0));
    if (!p) return;
    pending.delete(msg.readUInt16BE(0));
    clearTimeout(p.timer);
    msg.writeUInt16BE(p.clientId, 0);
    p.resolve(msg);
  });
  sock.on('error', () => { /* answered as SERVFAIL by timeout */ });
  return {
    forward(query) {
      return new Promise((resolve) => {
        let id = nextId = (nextId + 1) & 0xffff;
        for (let tries = 0; pending.has(id) && tries < 0x10000; tries++) id = nextId = (nextId + 1) & 0xffff;
        const out = Buffer.from(query);
        out.writeUInt16BE(id, 0);
        const timer = setTimeout(() => { pending.delete(id); resolve(undefined); }, timeoutMs);
        pending.set(id, { clientId: query.readUInt16BE(0), resolve, timer });
        sock.send(out, port, host);
      });
    },
    close() {
      for (const p of pending.values()) { clearTimeout(p.timer); p.resolve(undefined); }
      pending.clear();
      sock.close();
    },
  };
}

/**
 * The cluster DNS server: UDP and TCP listeners in front of `DnsWire`, fed by informers over
 * Services and EndpointSlices through the shared `Client` (so it runs in-process or as the kube-dns
 * Pod against the API server's unix socket).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { DnsWire } from './wire.js';
import { RecordIndex } from './records.js';
import { ServiceRecordFeed } from './feed.js';
import { createForwarder } from './forward.js';
import type { Client } from '../client/client.js';
import { DnsMetrics, PROTO } from './metrics.js';

export interface DnsServerOptions {
  client: Client;
  /** Where to listen (an IP address), UDP and TCP on the same port. Port 0 picks one. */
  listen: { address: string; port: number };
  /** Cluster domain. Default cluster.local. */
  zone?: string;
  /** TTL of positive and negative answers, seconds. Default 30. */
  ttl?: number;
  /** `ip:port` to forward names outside the zone to. Unset: answer REFUSED. */
  upstream?: string;
  /** Count queries for Prometheus (metrics.ts). Default true; false only to measure what counting costs. */
  metrics?: boolean;
  /** Called after a Service's records changed (not during the initial sync): see ServiceRecordFeed. */
  onRecordsChanged?: (key: string, resourceVersion: string | undefined) => void;
}

export interface DnsServer {
  readonly port: number;
  readonly index: RecordIndex;
  /** Resolves once the informers have synced (until then queries get SERVFAIL). */
  readonly synced: Promise<void>;
  /** CoreDNS-named query metrics (undefined with `metrics: false`). */
  readonly metrics?: DnsMetrics;
  stop(): Promise<void>;
}

/** Starts the DNS server. Listening starts at once; answers are SERVFAIL until the feed has synced. */
export async function startDnsServer(opts: DnsServerOptions): Promise<DnsServer> {
  if (!net.isIP(opts.listen.address)) throw new Error(`dns: listen address must be an IP address, got ${JSON.stringify(opts.listen.address)}`);
  const zone = (opts.zone ?? 'cluster.local').toLowerCase().replace(/\.$/, '');
  const index = new RecordIndex(zone);
  const feed = new ServiceRecordFeed(opts.client, index, opts.onRecordsChanged);
  const forwarder = opts.upstream ? createForwarder(opts.upstream) : undefined;
  const wire = new DnsWire(index, () => feed.hasSynced(), { ttl: opts.ttl ?? 30, forward: forwarder?.forward });

  // Replies go to the address the query came from and we bind an IP literal, so the lookup is the identity: a lookup that answers at
  // once spares every reply dns.lookup() and the process.nextTick it defers the send by.
  const literal = (address: string, _family: unknown, cb: (err: null, address: string, family: number) => void) =>
    cb(null, address, address.includes(':') ? 6 : 4);
  const udp = dgram.createSocket({ type: opts.listen.address.includes(':') ? 'udp6' : 'udp4', reuseAddr: true, lookup: literal as never });
  udp.on('message', (msg, rinfo) => {
    const t0 = metrics ? performance.now() : 0;
    let reply;
    try {
      reply = wire.handle(msg, 'udp');
    } catch (err) {
      console.error('dns: query failed:', (err as Error).message); // never let one query take the server down
      metrics?.observe(PROTO.udp, msg, undefined, (performance.now() - t0) / 1000);
      return;
    }
    if (reply instanceof Promise) {
      reply.then((r) => {
        if (r) udp.send(r, rinfo.port, rinfo.address);
        metrics?.observe(PROTO.udp, msg, r, (performance.now() - t0) / 1000);
      }, () => undefined);
    } else {
      if (reply) udp.send(reply, rinfo.port, rinfo.address);
      metrics?.observe(PROTO.udp, msg, reply, (performance.now() - t0) / 1000);
    }
  });
  udp.on('error', (err) => console.error('dns: udp error:', err.message));
  await new Promise<void>((res, rej) => {
    udp.once('error', rej);
    udp.bind(opts.listen.port, opts.listen.address, () => { udp.off('error', rej); res(); });
  });
  const port = udp.address().port;
  const metrics = opts.metrics === false ? undefined : new DnsMetrics(`dns://:${port}`);

  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    sock.setTimeout(10_000, () => sock.destroy());
    let pending = Buffer.alloc(0);
    sock.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2) {
        const len = pending.readUInt16BE(0);
        if (pending.length < 2 + len) break;
        const msg = pending.subarray(2, 2 + len);
        pending = pending.subarray(2 + len);
        let reply;
        const t0 = metrics ? performance.now() : 0;
        const query = Buffer.from(msg);
        try {
          reply = wire.handle(query, 'tcp');
        } catch {
          sock.destroy();
          return;
        }
        if (reply instanceof Promise) {
          reply.then((r) => {
            if (r) writeFramed(sock, r);
            metrics?.observe(PROTO.tcp, query, r, (performance.now() - t0) / 1000);
          }, () => sock.destroy());
        } else {
          if (reply) writeFramed(sock, reply);
          metrics?.observe(PROTO.tcp, query, reply, (performance.now() - t0) / 1000);
        }
      }
    });
  });
  await new Promise<void>((res, rej) => {
    tcp.once('error', rej);
    tcp.listen(port, opts.listen.address, () => { tcp.off('error', rej); res(); });
  });

  const synced = feed.start();
  return {
    port, index, synced, metrics,
    async stop() {
      feed.stop();
      forwarder?.close();
      udp.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => tcp.close(() => r()));
    },
  };
}

/** Writes one DNS message on a TCP connection, with its two-byte length prefix (RFC 1035 §4.2.2). */
function writeFramed(sock: net.Socket, reply: Buffer): void {
  if (sock.destroyed) return;
  const framed = Buffer.allocUnsafe(2 + reply.length);
  framed.writeUInt16BE(reply.length, 0);
  reply.copy(framed, 2);
  sock.write(framed);
}

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

export interface DnsServerOptions {
  client: Client;
  /** Where to listen, UDP and TCP on the same port. Port 0 picks one. */
  listen: { address: string; port: number };
  /** Cluster domain. Default cluster.local. */
  zone?: string;
  /** TTL of positive and negative answers, seconds. Default 30. */
  ttl?: number;
  /** `ip:port` to forward names outside the zone to. Unset: answer REFUSED. */
  upstream?: string;
}

export interface DnsServer {
  readonly port: number;
  readonly index: RecordIndex;
  /** Resolves once the informers have synced (until then queries get SERVFAIL). */
  readonly synced: Promise<void>;
  stop(): Promise<void>;
}

/** Starts the DNS server. Listening starts at once; answers are SERVFAIL until the feed has synced. */
export async function startDnsServer(opts: DnsServerOptions): Promise<DnsServer> {
  const zone = (opts.zone ?? 'cluster.local').toLowerCase().replace(/\.$/, '');
  const index = new RecordIndex(zone);
  const feed = new ServiceRecordFeed(opts.client, index);
  const forwarder = opts.upstream ? createForwarder(opts.upstream) : undefined;
  const wire = new DnsWire(index, () => feed.hasSynced(), { ttl: opts.ttl ?? 30, forward: forwarder?.forward });

  const udp = dgram.createSocket({ type: opts.listen.address.includes(':') ? 'udp6' : 'udp4', reuseAddr: true });
  udp.on('message', (msg, rinfo) => {
    wire.handle(msg, 512).then((reply) => {
      if (reply) udp.send(reply, rinfo.port, rinfo.address);
    }, () => { /* never let one query take the server down */ });
  });
  udp.on('error', (err) => console.error('dns: udp error:', err.message));
  await new Promise<void>((res, rej) => {
    udp.once('error', rej);
    udp.bind(opts.listen.port, opts.listen.address, () => { udp.off('error', rej); res(); });
  });
  const port = udp.address().port;

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
        wire.handle(Buffer.from(msg)).then((reply) => {
          if (!reply || sock.destroyed) return;
          const framed = Buffer.alloc(2 + reply.length);
          framed.writeUInt16BE(reply.length, 0);
          reply.copy(framed, 2);
          sock.write(framed);
        }, () => sock.destroy());
      }
    });
  });
  await new Promise<void>((res, rej) => {
    tcp.once('error', rej);
    tcp.listen(port, opts.listen.address, () => { tcp.off('error', rej); res(); });
  });

  const synced = feed.start();
  return {
    port, index, synced,
    async stop() {
      feed.stop();
      forwarder?.close();
      udp.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => tcp.close(() => r()));
    },
  };
}

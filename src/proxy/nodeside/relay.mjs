// The byte relay of the userspace proxy mode (used by helper.mjs): what a relayed socket does with
// each read, and the listener whose accepted sockets read that way. Its own module so unit tests can
// drive it (relay.test.ts).
import net from 'node:net';

/** Bytes a relayed socket reads at a time, into one buffer of its own. */
export const RELAY_READ_BYTES = 16 * 1024;

/**
 * `onread` options for a relayed socket: every read goes straight on to `link.to` (the other side of
 * the connection). The socket reads into a buffer of its own instead of a fresh Buffer and a stream
 * `data` event per read: no allocation and no Readable machinery per chunk, both ways. A write the
 * kernel took at once leaves nothing behind (`writableLength` 0), so the next read reuses the
 * buffer; a write left queued still references it, so the next read gets a fresh one (Node asks
 * `buffer()` for the next read's buffer after each callback), and reads made while writes are
 * queued are queued as copies of their own length. Backpressure as `pipe`: while `link.to` is
 * backed up (write returned false), `link.from` does not read until it drains.
 *
 * @param {{ from?: { resume(): unknown }, to?: import('node:stream').Writable }} link
 * @param {number} [readBytes]
 */
export function relayReads(link, readBytes = RELAY_READ_BYTES) {
  let buf = Buffer.allocUnsafe(readBytes);
  return {
    buffer: () => buf,
    /** @param {number} n @param {Buffer} b */
    callback: (n, b) => {
      const to = link.to;
      if (!to || to.destroyed) return false;
      // Behind a write still queued this chunk waits too: queue a copy of its n bytes, not a view
      // of the whole buffer (small reads to a stalled peer would each pin one), and keep reading
      // into the same buffer. Otherwise the view is written; if it stays queued, the next reads get
      // a fresh buffer.
      const behind = to.writableLength > 0;
      const more = to.write(behind ? Buffer.from(b.subarray(0, n)) : b.subarray(0, n));
      if (!behind && to.writableLength > 0) buf = Buffer.allocUnsafe(readBytes);
      if (more) return true;
      to.once('drain', () => link.from?.resume());
      return false;
    },
  };
}

/**
 * An accepted connection as a socket that reads with `relayReads` (`client.relay.to` is set to the
 * endpoint's socket once it is connected), paused until then: its bytes wait in the kernel.
 *
 * Why a Node internal: net.Server builds its accepted sockets itself, always reading through the
 * stream machinery, and has no option for `onread` (Node 20). So the listener takes each accepted
 * connection's handle from the server handle's `onconnection` hook (what net.Server itself and
 * cluster's workers use; unchanged since Node 0.x) and wraps it in a Socket with `onread` (the
 * documented option; `handle` is the constructor's way of taking over an existing handle).
 * `relayingServer` checks the hook is there and otherwise leaves the server's own sockets, which
 * relay through 'data' events (relayClient in helper.mjs): the same bytes, one Buffer per read.
 */
export function relayingSocket(handle) {
  const link = { from: undefined, to: undefined };
  const client = new net.Socket({ handle, pauseOnCreate: true, onread: relayReads(link) });
  link.from = client;
  client.relay = link;
  client.setNoDelay(true);
  return client;
}

/** A TCP server handing each connection to `onConnection`, as a relayingSocket where it can (see there). */
export function relayingServer(onConnection) {
  const server = net.createServer({ noDelay: true, pauseOnConnect: true }, onConnection);
  server.once('listening', () => {
    const handle = server._handle;
    if (!handle || typeof handle.onconnection !== 'function') return;
    handle.onconnection = (err, clientHandle) => {
      if (err || !clientHandle) return;
      try {
        onConnection(relayingSocket(clientHandle));
      } catch {
        clientHandle.close();
      }
    };
  });
  return server;
}

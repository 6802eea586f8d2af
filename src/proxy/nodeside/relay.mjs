// The byte relay of the userspace proxy mode (used by helper.mjs): what a relayed socket does with
// each read. Its own module so a unit test can drive it (relay.test.ts).

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

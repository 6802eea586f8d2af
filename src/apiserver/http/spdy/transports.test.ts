import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeFrame } from './frames.js';
import { MAX_UNSENT_CONTROL_BYTES, SpdyServerSession } from './session.js';
import { runOverSocket } from './transports.js';

test('over a real socket, a client that pings and never reads cannot grow the server\'s write buffer', async (t) => {
  // A unix socket in a temp dir: a real kernel socket buffer, and no network address involved.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cip-spdy-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const sockPath = path.join(dir, 's');
  let serverSide: net.Socket | undefined;
  const server = net.createServer((s) => {
    serverSide = s;
    runOverSocket(s, Buffer.alloc(0), (tr) => new SpdyServerSession(tr, { onStream: (st) => st.destroy() }));
  });
  await new Promise<void>((r) => server.listen(sockPath, r));
  const client = net.connect(sockPath);
  t.after(() => { client.destroy(); serverSide?.destroy(); server.close(); });
  await new Promise<void>((r) => client.once('connect', r));
  client.pause(); // never reads: every echo stays in the kernel buffer, then in the server's

  // 16 MB of pings (1.4 M frames) in 64 KiB writes; stop writing when the server stops reading.
  const batch = Buffer.concat(Array.from({ length: 5461 }, (_, i) => encodeFrame({ kind: 'ping', id: 2 * i + 1 })));
  let sent = 0;
  while (sent < 16e6) {
    sent += batch.length;
    if (!client.write(batch)) {
      const drained = await Promise.race([new Promise((r) => client.once('drain', () => r(true))), new Promise((r) => setTimeout(() => r(false), 500))]);
      if (!drained) break;
    }
  }
  await new Promise((r) => setTimeout(r, 200));
  const backlog = serverSide!.writableLength;
  // Paused once past the limit; what was read before that (one 64 KiB read of pings is 64 KiB of
  // echoes) may still be queued, but not the whole 16 MB.
  assert.ok(backlog < MAX_UNSENT_CONTROL_BYTES + 256 * 1024, `server holds ${backlog} unsent bytes after ${sent} sent`);
  assert.ok(sent < 16e6, `the server read all ${sent} bytes although its echoes were not read`);
});

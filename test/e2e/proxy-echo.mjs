// A tiny echo "Pod" for the proxy's kernel tests. Run inside a Pod network namespace:
//   node proxy-echo.mjs <name> tcp:<port>... udp:<port>...
// TCP ports speak HTTP/1.1 and answer every request with "<name>:<port>" (`/clientip`: with the
// client's address after a space, as agnhost netexec's /clientip shows it); UDP ports answer every
// datagram with "<name>:<port>". `POST /bulk/<n>[?stall=<ms>]`: reads the whole request body (after
// <ms> of reading nothing) and answers with <n> bytes of a fixed pattern (the body's length and
// SHA-256 in the `x-upload` header), so a test can check that large transfers cross a proxy whole
// both ways. Prints "ready" once every socket listens.
import http from 'node:http';
import dgram from 'node:dgram';
import { createHash } from 'node:crypto';

/** Byte i of a bulk answer (a period of 251, no power of two: a misplaced chunk shows). */
const bulkByte = (i) => i % 251;

const [name, ...specs] = process.argv.slice(2);
let pending = specs.length;
const ready = () => { if (--pending === 0) process.stdout.write('ready\n'); };
for (const spec of specs) {
  const [proto, portStr] = spec.split(':');
  const port = Number(portStr);
  if (proto === 'tcp') {
    const srv = http.createServer((req, res) => {
      res.setHeader('connection', 'close');
      const bulk = /^\/bulk\/(\d+)(?:\?stall=(\d+))?$/.exec(req.url ?? '');
      if (bulk) {
        const hash = createHash('sha256');
        let got = 0;
        req.on('data', (d) => { got += d.length; hash.update(d); });
        // `?stall=<ms>`: read nothing of the upload for that long first (the sender must hold back).
        if (bulk[2]) { req.pause(); setTimeout(() => req.resume(), Number(bulk[2])); }
        req.on('end', async () => {
          res.setHeader('x-upload', `${got} ${hash.digest('hex')}`);
          const total = Number(bulk[1]);
          // 40000-byte writes: a reader of 16 KiB then also gets short reads (7232 bytes), which a
          // Writable accepts without asking to wait even when the socket could not take them whole.
          for (let sent = 0; sent < total; sent += 40000) {
            const chunk = Buffer.alloc(Math.min(40000, total - sent));
            for (let i = 0; i < chunk.length; i++) chunk[i] = bulkByte(sent + i);
            if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
          }
          res.end();
        });
        return;
      }
      res.end(req.url === '/clientip' ? `${name}:${port} ${req.socket.remoteAddress}` : `${name}:${port}`);
    });
    srv.listen(port, '0.0.0.0', ready);
  } else {
    const sock = dgram.createSocket('udp4');
    sock.on('message', (_msg, rinfo) => sock.send(`${name}:${port}`, rinfo.port, rinfo.address));
    sock.bind(port, '0.0.0.0', ready);
  }
}
process.on('SIGTERM', () => process.exit(0));

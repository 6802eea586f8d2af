// A tiny echo "Pod" for the proxy's kernel tests. Run inside a Pod network namespace:
//   node proxy-echo.mjs <name> tcp:<port>... udp:<port>...
// TCP ports speak HTTP/1.1 and answer every request with "<name>:<port>" (`/clientip`: with the
// client's address after a space, as agnhost netexec's /clientip shows it); UDP ports answer every
// datagram with "<name>:<port>". Prints "ready" once every socket listens.
import http from 'node:http';
import dgram from 'node:dgram';

const [name, ...specs] = process.argv.slice(2);
let pending = specs.length;
const ready = () => { if (--pending === 0) process.stdout.write('ready\n'); };
for (const spec of specs) {
  const [proto, portStr] = spec.split(':');
  const port = Number(portStr);
  if (proto === 'tcp') {
    const srv = http.createServer((req, res) => {
      res.setHeader('connection', 'close');
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

#!/usr/bin/env node
// A small stand-in for Kubernetes' e2e test image agnhost (registry.k8s.io/e2e-test-images/agnhost).
// Subcommands: serve-hostname [--port 9376] [--http=true] [--udp] [--tcp]; netexec [--http-port 8080]
// (/, /hostname, /clientip, /echo?msg=, /shell?cmd=, /healthz, /exit?code=); pause.
// Plain JS (no build step): it runs inside Pod namespaces, started by the node agent's image catalog.
import http from 'node:http';
import net from 'node:net';
import dgram from 'node:dgram';
import os from 'node:os';
import { execFile } from 'node:child_process';

const [sub, ...rest] = process.argv.slice(2);
const flags = {};
for (let i = 0; i < rest.length; i++) {
  const a = rest[i];
  if (!a.startsWith('--')) continue;
  const eq = a.indexOf('=');
  if (eq > 0) flags[a.slice(2, eq)] = a.slice(eq + 1);
  else if (rest[i + 1] && !rest[i + 1].startsWith('--')) flags[a.slice(2)] = rest[++i];
  else flags[a.slice(2)] = 'true';
}
const hostname = os.hostname();
process.on('SIGTERM', () => process.exit(0));

if (sub === 'serve-hostname') {
  const port = Number(flags.port ?? 9376);
  if (flags.udp === 'true') {
    const s = dgram.createSocket('udp4');
    s.on('message', (_m, r) => s.send(hostname, r.port, r.address));
    s.bind(port);
  }
  if (flags.tcp === 'true') net.createServer((c) => c.end(hostname)).listen(port);
  if (flags.http !== 'false' && flags.tcp !== 'true') {
    http.createServer((_q, r) => r.end(hostname)).listen(port, () => console.log(`Serving on port ${port}`));
  }
} else if (sub === 'netexec') {
  const port = Number(flags['http-port'] ?? 8080);
  http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const remote = `${(req.socket.remoteAddress ?? '').replace(/^::ffff:/, '')}:${req.socket.remotePort}`;
    switch (u.pathname) {
      case '/': case '/hostname': res.end(hostname); break;
      case '/clientip': res.end(remote); break;
      case '/echo': res.end(u.searchParams.get('msg') ?? ''); break;
      case '/healthz': res.end('ok'); break;
      case '/exit': res.end(); setTimeout(() => process.exit(Number(u.searchParams.get('code') ?? 0)), 10); break;
      case '/shell':
        execFile('sh', ['-c', u.searchParams.get('shellCommand') ?? u.searchParams.get('cmd') ?? ''], (err, stdout, stderr) => {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify(err ? { error: String(stderr || err.message), output: stdout } : { output: stdout }));
        });
        break;
      default: res.statusCode = 404; res.end('404 page not found\n');
    }
  }).listen(port, () => console.log(`Started HTTP server on port ${port}`));
} else if (sub === 'pause' || sub === undefined) {
  console.log('Paused');
  setInterval(() => {}, 1 << 30);
} else {
  console.error(`agnhost: unknown command "${sub}" (supported: serve-hostname, netexec, pause)`);
  process.exit(1);
}

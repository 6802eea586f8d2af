// The client side of the proxy's kernel tests. Run inside a client network namespace:
//   node proxy-client.mjs http <ip> <port> <count> [path]  N HTTP GETs, each on a new connection
//   node proxy-client.mjs connect <ip> <port> <timeoutMs>  one TCP connect
//   node proxy-client.mjs udp <ip> <port> <count> <gapMs> <localPort>  N datagrams from one source port
//   node proxy-client.mjs connects <ip> <port> <count>  N sequential TCP connects (handshake time each)
//   node proxy-client.mjs bulk <ip> <port> <uploadBytes> <downloadBytes> <stallMs> [<serverStallMs>]  one POST
//     /bulk/<download> with an upload body; reads nothing of the answer for stallMs first, and the
//     server reads nothing of the upload for serverStallMs first (a proxy must hold back both ways);
//     answer: "<x-upload header> <downloaded bytes> <their sha256>"
//   node proxy-client.mjs parallel <ip> <port> <count> <atOnce>  count GETs, atOnce connections open at a time
// Prints one JSON line: { answers: string[], errors: string[], ms: number[] }.
import http from 'node:http';
import net from 'node:net';
import dgram from 'node:dgram';
import { createHash } from 'node:crypto';

const [mode, ip, portStr, a, b, c, d] = process.argv.slice(2);
const port = Number(portStr);
const out = { answers: [], errors: [], ms: [] };

function get(path = b ?? '/') {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const req = http.get({ host: ip, port, path, agent: false, timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => { out.answers.push(res.statusCode === 200 ? body : `${res.statusCode} ${body}`); out.ms.push(performance.now() - t0); resolve(); });
    });
    req.on('timeout', () => req.destroy(new Error('ETIMEDOUT')));
    req.on('error', (e) => { out.errors.push(e.code ?? e.message); out.ms.push(performance.now() - t0); resolve(); });
  });
}

if (mode === 'http') {
  for (let i = 0; i < Number(a); i++) await get();
} else if (mode === 'bulk') {
  await new Promise((resolve) => {
    const t0 = performance.now();
    const fail = (e) => { out.errors.push(e.code ?? e.message); out.ms.push(performance.now() - t0); resolve(); };
    const req = http.request({ host: ip, port, method: 'POST', path: `/bulk/${b}${d ? `?stall=${d}` : ''}`, agent: false, timeout: 20000 }, (res) => {
      res.pause();
      const hash = createHash('sha256');
      let got = 0;
      setTimeout(() => {
        res.on('data', (d) => { got += d.length; hash.update(d); });
        res.on('end', () => { out.answers.push(`${res.headers['x-upload']} ${got} ${hash.digest('hex')}`); out.ms.push(performance.now() - t0); resolve(); });
        res.on('error', fail);
        res.resume();
      }, Number(c));
    });
    req.on('timeout', () => req.destroy(new Error('ETIMEDOUT')));
    req.on('error', fail);
    const body = Buffer.alloc(Number(a));
    for (let i = 0; i < body.length; i++) body[i] = (i * 7) % 253;
    req.end(body);
  });
} else if (mode === 'parallel') {
  let next = 0;
  const worker = async () => { while (next++ < Number(a)) await get('/'); };
  await Promise.all(Array.from({ length: Number(b) }, worker));
} else if (mode === 'connect') {
  await new Promise((resolve) => {
    const t0 = performance.now();
    const s = net.connect({ host: ip, port });
    const timer = setTimeout(() => { s.destroy(); out.errors.push('ETIMEDOUT'); out.ms.push(performance.now() - t0); resolve(); }, Number(a));
    s.on('connect', () => { clearTimeout(timer); out.answers.push('connected'); out.ms.push(performance.now() - t0); s.destroy(); resolve(); });
    s.on('error', (e) => { clearTimeout(timer); out.errors.push(e.code ?? e.message); out.ms.push(performance.now() - t0); resolve(); });
  });
} else if (mode === 'connects') {
  for (let i = 0; i < Number(a); i++) {
    await new Promise((resolve) => {
      const t0 = performance.now();
      const s = net.connect({ host: ip, port });
      s.on('connect', () => { out.ms.push(performance.now() - t0); s.destroy(); resolve(); });
      s.on('error', (e) => { out.errors.push(e.code ?? e.message); resolve(); });
    });
  }
} else if (mode === 'udp') {
  const sock = dgram.createSocket('udp4');
  await new Promise((r) => sock.bind(Number(c), '0.0.0.0', r));
  for (let i = 0; i < Number(a); i++) {
    const t0 = performance.now();
    const answer = await new Promise((resolve) => {
      const timer = setTimeout(() => { sock.off('message', onMsg); resolve(null); }, Number(b));
      function onMsg(msg) { clearTimeout(timer); sock.off('message', onMsg); resolve(msg.toString()); }
      sock.on('message', onMsg);
      sock.send('ping', port, ip);
    });
    if (answer === null) out.errors.push('timeout');
    else out.answers.push(answer);
    out.ms.push(performance.now() - t0);
  }
  sock.close();
}
process.stdout.write(JSON.stringify(out) + '\n');

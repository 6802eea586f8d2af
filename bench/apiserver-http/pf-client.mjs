// Client of the port-forward bench; the same program measures the forwarded path (run on the host
// against kubectl's 127.0.0.1 listener) and the direct baseline (run with `ip netns exec <node-ns>`
// against the Pod IP). Prints one JSON line.
//   node pf-client.mjs get <host> <port> <count>   one new connection per request: connect, send
//                                                  GET / (HTTP/1.0), read to the server's close;
//                                                  { ms: number[] } per request
//   node pf-client.mjs bulk <host> <port>          connect, read until the server closes;
//                                                  { bytes, ms }
import net from 'node:net';

const [mode, host, portStr, countStr] = process.argv.slice(2);
const port = Number(portStr);

function exchange(send) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    let bytes = 0;
    const s = net.connect({ host, port }, () => { if (send) s.write(send); });
    s.on('data', (d) => { bytes += d.length; });
    s.on('end', () => { s.end(); resolve({ bytes, ms: Number(process.hrtime.bigint() - t0) / 1e6 }); });
    s.on('error', reject);
    s.setTimeout(30_000, () => s.destroy(new Error('timeout')));
  });
}

if (mode === 'get') {
  const ms = [];
  for (let i = 0; i < Number(countStr); i++) {
    const r = await exchange('GET / HTTP/1.0\r\nHost: web\r\n\r\n');
    if (r.bytes < 600) throw new Error(`short answer: ${r.bytes} bytes`);
    ms.push(r.ms);
  }
  process.stdout.write(JSON.stringify({ ms }) + '\n');
} else {
  process.stdout.write(JSON.stringify(await exchange(undefined)) + '\n');
}

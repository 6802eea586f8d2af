// New-connection latency client of the data-plane bench. Run inside a client Pod namespace:
//   node connect-latency.mjs <ip> <port> <count> <warmup>
// Opens <warmup> + <count> TCP connections one after another and times each handshake (connect()
// to the 'connect' event: SYN out through the rules, SYN-ACK back). Each connection is closed with
// a reset, so neither the client nor the server keeps TIME_WAIT state and later connections never
// meet an old one on a reused port. A connection that takes more than 3 s is counted as an error.
// Prints one JSON line: { us: number[] (handshake times in microseconds), errors: string[] }.
import net from 'node:net';

const [ip, portStr, countStr, warmupStr] = process.argv.slice(2);
const port = Number(portStr);
const count = Number(countStr);
const warmup = Number(warmupStr ?? 0);
const out = { us: [], errors: [] };

function once() {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const s = net.connect({ host: ip, port });
    const timer = setTimeout(() => { s.destroy(); resolve({ error: 'ETIMEDOUT' }); }, 3000);
    s.on('connect', () => {
      const us = Number(process.hrtime.bigint() - t0) / 1000;
      clearTimeout(timer);
      s.resetAndDestroy();
      resolve({ us });
    });
    s.on('error', (e) => { clearTimeout(timer); resolve({ error: e.code ?? e.message }); });
  });
}

for (let i = 0; i < warmup + count; i++) {
  const r = await once();
  if (i < warmup) continue;
  if (r.error) out.errors.push(r.error);
  else out.us.push(r.us);
}
process.stdout.write(JSON.stringify(out) + '\n');

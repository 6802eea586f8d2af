// Client of the flows bench, run inside a client Pod namespace:
//   node connect-stamp.mjs <ip> <port> <count> <per-second>
// Opens <count> TCP connections at <per-second>, closing each with a reset, and prints one JSON
// line: [[local port, epoch ms just before connect()], ...] for the connections that were made.
import net from 'node:net';

const [ip, port, count, rate] = process.argv.slice(2).map((x, i) => (i === 0 ? x : Number(x)));
const out = [];
const gap = 1000 / rate;
const start = performance.now();
const pending = [];
for (let i = 0; i < count; i++) {
  const wait = start + i * gap - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const at = performance.timeOrigin + performance.now();
  pending.push(new Promise((resolve) => {
    const s = net.connect({ host: ip, port });
    const timer = setTimeout(() => { s.destroy(); resolve(); }, 3000);
    s.on('connect', () => { out.push([s.localPort, at]); clearTimeout(timer); s.resetAndDestroy(); resolve(); });
    s.on('error', () => { clearTimeout(timer); resolve(); });
  }));
}
await Promise.all(pending);
process.stdout.write(JSON.stringify(out) + '\n');

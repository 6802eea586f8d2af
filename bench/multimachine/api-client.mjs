// An in-cluster API client for the multimachine bench, run inside a network namespace the cluster
// made (`ip netns exec <ns> node api-client.mjs ...`): N sequential GETs of the kubernetes Service
// object over one keep-alive HTTPS connection (as client-go keeps its connection), verified against
// the cluster CA with the given server name, after a warm-up. Prints one JSON line of latencies (ms).
// usage: node api-client.mjs <https://host:port> <servername> <ca.crt> <token file> <n>
import { Agent, request } from 'node:https';
import { readFileSync } from 'node:fs';

const [url, servername, caFile, tokenFile, nArg] = process.argv.slice(2);
const u = new URL(url);
const n = Number(nArg);
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const ca = readFileSync(caFile);
const token = readFileSync(tokenFile, 'utf8').trim();
const get = () => new Promise((resolve, reject) => {
  const t0 = process.hrtime.bigint();
  const req = request({ host: u.hostname, port: u.port, path: '/api/v1/namespaces/default/services/kubernetes', agent, ca, servername, headers: { Authorization: `Bearer ${token}` } }, (res) => {
    res.resume();
    res.on('end', () => (res.statusCode === 200 ? resolve(Number(process.hrtime.bigint() - t0) / 1e6) : reject(new Error(`HTTP ${res.statusCode}`))));
  });
  req.on('error', reject);
  req.end();
});
for (let i = 0; i < 100; i++) await get();
const lat = [];
for (let i = 0; i < n; i++) lat.push(await get());
lat.sort((a, b) => a - b);
const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
console.log(JSON.stringify({ n, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: lat[lat.length - 1], mean: lat.reduce((a, b) => a + b, 0) / n }));
agent.destroy();

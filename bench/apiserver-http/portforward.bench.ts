/**
 * kubectl port-forward figures (root, real kernel, the real kubectl 1.32): an HTTPS API server
 * (test/harness) whose Pod streams are served by a node agent in its own node namespace.
 * 1. Request latency through `kubectl port-forward pod/web :80` (WebSocket tunnel): a new local
 *    connection per request, GET / to nginx, read to the close; p50/p99 over 100 requests.
 *    Baseline: the same client run in the node namespace straight to the Pod IP.
 * 2. Throughput of one forwarded connection: 64 MiB from a Pod (`head -c … /dev/zero | nc -l`),
 *    over the WebSocket tunnel and over plain SPDY (KUBECTL_PORT_FORWARD_WEBSOCKETS=false); median
 *    of 3. Baseline: the same transfer from the node namespace straight to the Pod IP.
 * Everything is named cipb-<random>-*; kubectl processes are killed by pid; all removed at the end.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodStreamProvider } from '../../src/api/streams.js';
import { R } from '../../src/api/resources.js';
import { startNodeAgent, type NodeAgent } from '../../src/node/agent.js';
import { run } from '../../src/node/exec.js';
import { startTestCluster } from '../../test/harness/cluster.js';
import { report } from '../report.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const clientScript = path.join(here, 'pf-client.mjs');
const id = randomBytes(2).toString('hex');
const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), `cipb-${id}-`));
const nodeNs = `cipb-${id}-n0`;
const BULK = 64 * 1024 * 1024;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

let agent: NodeAgent | undefined;
const streams: PodStreamProvider = {
  logs: (...a) => agent!.logs(...a), exec: (...a) => agent!.exec(...a),
  attach: (...a) => agent!.attach(...a), portForward: (...a) => agent!.portForward(...a),
};
const c = await startTestCluster(undefined, { streams });
const forwards: ChildProcess[] = [];

async function client(args: string[], inNodeNs: boolean): Promise<{ ms?: number[]; bytes?: number } & { ms: number | number[] }> {
  const argv = inNodeNs ? ['ip', 'netns', 'exec', nodeNs, process.execPath, clientScript, ...args] : [process.execPath, clientScript, ...args];
  const r = await run(argv, { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`client ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function portForward(target: string, ports: string, env: Record<string, string> = {}): Promise<number> {
  const child = spawn('kubectl', ['port-forward', target, ports], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: path.join(c.dir, 'home'), KUBECONFIG: c.kubeconfig, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  forwards.push(child);
  let so = '', se = '';
  child.stderr!.on('data', (d: Buffer) => { se += d; });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => { so += d; const m = /127\.0\.0\.1:(\d+)/.exec(so); if (m) resolve(Number(m[1])); });
    child.on('close', () => reject(new Error(`port-forward ${target} exited: ${so} ${se}`)));
  });
}

async function waitRunning(name: string): Promise<Pod> {
  for (let i = 0; i < 200; i++) {
    const p = await c.core.get<Pod>(R.pods, 'default', name);
    if (p.status?.containerStatuses?.[0]?.state?.running && p.status.podIP) return p;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${name} not running`);
}

try {
  agent = await startNodeAgent({
    client: c.core, nodeName: `node-${id}`, nodeIndex: 0, netns: nodeNs, podCIDR: '10.244.0.0/24', stateDir,
    clusterDNS: '10.96.0.10', clusterDomain: 'cluster.local', idPrefix: `cipb-${id}`,
  });
  const mk = (name: string, container: object): Promise<Pod> => c.core.create<Pod>(R.pods, 'default',
    { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName: `node-${id}`, containers: [{ name: 'c', ...container }] } });
  await mk('web', { image: 'nginx' });
  await mk('bulk', { image: 'busybox', command: ['sh', '-c', `while true; do head -c ${BULK} /dev/zero | nc -l -p 9000; done`] });
  const web = await waitRunning('web');
  const bulk = await waitRunning('bulk');
  await new Promise((r) => setTimeout(r, 500)); // nginx and nc listening

  // 1. Latency.
  const webPort = await portForward('pod/web', ':80');
  await client(['get', '127.0.0.1', String(webPort), '10'], false); // warm-up
  const fwd = (await client(['get', '127.0.0.1', String(webPort), '100'], false)).ms as number[];
  const direct = (await client(['get', web.status!.podIP!, '80', '100'], true)).ms as number[];
  const latBase = { name: 'same GET from the node namespace straight to the Pod IP, p50', value: Math.round(pct(direct, 50) * 100) / 100 };
  report({ figure: 'port-forward: new connection + GET / (nginx) p50', value: pct(fwd, 50), unit: 'ms', baseline: latBase, anchor: 'no published figure for kubectl port-forward; per connection the kubelet path also opens 2 SPDY streams', target: '< 20 ms' });
  report({ figure: 'port-forward: new connection + GET / (nginx) p99', value: pct(fwd, 99), unit: 'ms', baseline: { ...latBase, name: latBase.name.replace('p50', 'p99'), value: Math.round(pct(direct, 99) * 100) / 100 }, anchor: '—', target: '< 50 ms' });

  // 2. Throughput.
  const mbps = (r: { bytes?: number; ms: number | number[] }): number => {
    if (r.bytes !== BULK) throw new Error(`bulk transfer got ${r.bytes} bytes`);
    return (r.bytes / (1024 * 1024)) / ((r.ms as number) / 1000);
  };
  const median = (xs: number[]): number => pct(xs, 50);
  const directRuns: number[] = [];
  for (let i = 0; i < 3; i++) { directRuns.push(mbps(await client(['bulk', bulk.status!.podIP!, '9000'], true))); await new Promise((r) => setTimeout(r, 200)); }
  const tBase = { name: '64 MiB from the node namespace straight to the Pod IP', value: Math.round(median(directRuns)) };
  for (const [label, env] of [['WebSocket tunnel', {}], ['plain SPDY', { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }]] as const) {
    const p = await portForward('pod/bulk', ':9000', env);
    const runs: number[] = [];
    for (let i = 0; i < 3; i++) { runs.push(mbps(await client(['bulk', '127.0.0.1', String(p)], false))); await new Promise((r) => setTimeout(r, 200)); }
    report({ figure: `port-forward throughput, one connection, ${label} (median of 3 × 64 MiB)`, value: median(runs), unit: 'MiB/s', baseline: tBase, anchor: '—', target: '> 50 MiB/s' });
  }
} finally {
  for (const f of forwards) if (f.exitCode === null) f.kill('SIGKILL');
  await agent?.stop();
  await c.close();
  fs.rmSync(stateDir, { recursive: true, force: true });
  const left = (await run(['ip', 'netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(`cipb-${id}`));
  if (left.length) console.error(`left behind: ${left.join(', ')}`);
}

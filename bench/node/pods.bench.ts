/**
 * Node agent figures (root, real kernel), in-process API core on MemoryStorage:
 * 1. nginx Pod create → Running and Ready (status seen through a watch), p50/p99 over 30 Pods.
 *    Baseline: the kernel floor of one sandbox — `ip netns add` + a veth pair + `ip netns del`.
 * 2. Pod delete (grace 0) → holder process and network namespace gone, p50/p99 over the same Pods.
 * 3. Agent RSS with 100 pause Pods (bench process RSS, which also holds the API core) and the
 *    per-Pod overhead of the Pods' own processes (holder + container).
 * Everything runs in namespaces named cipb-<random>-*; all removed at the end, also on failure.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { R } from '../../src/api/resources.js';
import { createApiCore } from '../../src/apiserver/core.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import { startNodeAgent } from '../../src/node/agent.js';
import { pidAlive, run, runOk } from '../../src/node/exec.js';
import { netnsExists } from '../../src/node/network.js';
import { report } from '../report.js';

const id = randomBytes(2).toString('hex');
const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), `cipb-${id}-`));
const nodeName = `bench-${id}`;
const api = await createApiCore({ storage: new MemoryStorage() });
const client = api.client;
const agent = await startNodeAgent({
  client, nodeName, nodeIndex: 0, netns: `cipb-${id}-n0`, podCIDR: '10.244.0.0/24', stateDir,
  clusterDNS: '10.96.0.10', clusterDomain: 'cluster.local', idPrefix: `cipb-${id}`,
});

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}
const ready = (p: Pod): boolean => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

const readyAt = new Map<string, (t: number) => void>();
const watch = client.watch<Pod>(R.pods, 'default', {}, (ev) => {
  if (ready(ev.object)) readyAt.get(ev.object.metadata!.name!)?.(performance.now());
});

try {
  // Baseline: the kernel part of one sandbox, measured here.
  const base: number[] = [];
  for (let i = 0; i < 10; i++) {
    const ns = `cipb-${id}-b${i}`;
    const t0 = performance.now();
    await runOk(['ip', 'netns', 'add', ns]);
    await runOk(['ip', '-n', ns, 'link', 'add', 'a0', 'type', 'veth', 'peer', 'name', 'b0']);
    await runOk(['ip', 'netns', 'del', ns]);
    base.push(performance.now() - t0);
  }
  const baseline = { name: 'netns add + veth + netns del (kernel floor)', value: Math.round(pct(base, 50) * 10) / 10 };

  const N = 30;
  const startLat: number[] = [];
  const delLat: number[] = [];
  for (let i = 0; i < N; i++) {
    const name = `nginx-${i}`;
    const seen = new Promise<number>((r) => readyAt.set(name, r));
    const t0 = performance.now();
    await client.create(R.pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
      spec: { nodeName, containers: [{ name: 'nginx', image: 'nginx', ports: [{ containerPort: 80 }] }] } });
    startLat.push((await seen) - t0);
    readyAt.delete(name);
    const w = agent.worker('default', name)!;
    const holder = w.sandbox!.holderPid;
    const pid = w.container()!.pid!;
    const netns = w.sandbox!.netns;
    const d0 = performance.now();
    await client.delete(R.pods, 'default', name, { gracePeriodSeconds: 0 });
    while (pidAlive(holder) || pidAlive(pid) || netnsExists(netns)) await new Promise((r) => setTimeout(r, 2));
    delLat.push(performance.now() - d0);
  }
  report({ figure: 'nginx Pod create → Running+Ready p50', value: pct(startLat, 50), unit: 'ms', baseline, anchor: 'Kubernetes SLO: pod startup p99 <= 5 s (pre-pulled images)', target: '< 200 ms' });
  report({ figure: 'nginx Pod create → Running+Ready p99', value: pct(startLat, 99), unit: 'ms', baseline, anchor: 'Kubernetes SLO: pod startup p99 <= 5 s (pre-pulled images)', target: '< 500 ms' });
  report({ figure: 'Pod delete (grace 0) → processes + netns gone p50', value: pct(delLat, 50), unit: 'ms', baseline, anchor: 'kubelet: force delete leaves cleanup to the kubelet (seconds)', target: '< 500 ms' });
  report({ figure: 'Pod delete (grace 0) → processes + netns gone p99', value: pct(delLat, 99), unit: 'ms', baseline, anchor: 'kubelet: force delete leaves cleanup to the kubelet (seconds)', target: '< 500 ms' });

  // RSS with 100 Pods.
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  const M = 100;
  const waits: Promise<number>[] = [];
  for (let i = 0; i < M; i++) {
    const name = `pause-${i}`;
    waits.push(new Promise<number>((r) => readyAt.set(name, r)));
    await client.create(R.pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
      spec: { nodeName, containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10' }] } });
  }
  await Promise.all(waits);
  await new Promise((r) => setTimeout(r, 500));
  const rss1 = process.memoryUsage().rss;
  let podRss = 0;
  for (let i = 0; i < M; i++) {
    const w = agent.worker('default', `pause-${i}`)!;
    for (const pid of [w.sandbox!.holderPid, w.container()!.pid!]) {
      const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      podRss += Number(m?.[1] ?? 0) * 1024;
    }
  }
  report({ figure: 'agent (+API core) RSS with 100 Pods', value: rss1 / 2 ** 20, unit: 'MB', baseline: { name: 'same process before the 100 Pods', value: Math.round(rss0 / 2 ** 20) }, anchor: 'k3s agent 275 MB (resource-profiling)', target: '< 150 MB' });
  report({ figure: 'per-Pod overhead (holder + pause process RSS)', value: podRss / M / 2 ** 20, unit: 'MB', anchor: 'containerd pause + shim ~ several MB per Pod', target: 'informational' });
} finally {
  watch.stop();
  await agent.stop();
  await api.close();
  const left = (await run(['ip', 'netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(`cipb-${id}`)).map((l) => l.split(' ')[0]!);
  for (const n of left) await run(['ip', 'netns', 'del', n]);
  fs.rmSync(stateDir, { recursive: true, force: true });
}

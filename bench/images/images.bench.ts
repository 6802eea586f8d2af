/**
 * OCI image figures (root, real kernel, offline; issue 19), against Debian's docker-registry on a
 * loopback port:
 * 1. Pull + unpack of a 5-layer, 30 MB (compressed, incompressible) image into an empty store,
 *    median of 3 — beside `skopeo copy` of the same image to an OCI layout (download and verify
 *    only, no unpack) in the same run: the ratio is ours / skopeo's.
 * 2. Pod create → Ready (no probes) with a cached OCI image, p50/p99 over 30 Pods — beside the
 *    catalog path (busybox from the catalog), the two alternated in the same minutes.
 * 3. Per-container memory overhead beyond the container's own process: conmon's RSS and PSS (the
 *    only resident helper; runc exits after start), mean over 20 running containers.
 * Everything (registry, stores, namespaces) is removed at the end, also on failure.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes as rnd } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { R } from '../../src/api/resources.js';
import { createApiCore } from '../../src/apiserver/core.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import { pullImage } from '../../src/images/pull.js';
import { ImageStore } from '../../src/images/store.js';
import { busyboxRootfs, layerTar, randomBytes, writeOciLayout } from '../../src/images/testing/fixtures.js';
import { startRegistry } from '../../src/images/testing/registry.js';
import { startNodeAgent } from '../../src/node/agent.js';
import { ociStartTrace } from '../../src/node/runtime/oci.js';
import { run } from '../../src/node/exec.js';
import { report } from '../report.js';

const cleanups: (() => Promise<void> | void)[] = [];
const t = { after: (fn: () => Promise<void> | void) => { cleanups.push(fn); } };
const id = rnd(2).toString('hex');
const work = fs.mkdtempSync(path.join(os.tmpdir(), `cipb-img-${id}-`));
cleanups.push(() => fs.rmSync(work, { recursive: true, force: true }));

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}
const median = (xs: number[]): number => pct(xs, 50);

try {
  const reg = await startRegistry(t);
  // The 5-layer, 30 MB image: 6 MB of incompressible bytes per layer.
  const layers: Buffer[] = [];
  for (let i = 0; i < 5; i++) layers.push(await layerTar([{ path: `data/layer${i}.bin`, type: 'file', content: randomBytes(6 << 20, i + Number.parseInt(id, 16)) }]));
  writeOciLayout(path.join(work, 'big'), '1', { layers });
  reg.push(path.join(work, 'big'), '1', 'bench/big');
  writeOciLayout(path.join(work, 'bb'), '1', { layers: [await layerTar(busyboxRootfs())], config: { Cmd: ['sleep', '3600'] } });
  reg.push(path.join(work, 'bb'), '1', 'bench/busybox');

  // 1. Pull + unpack vs skopeo copy, alternated.
  const ours: number[] = [];
  const skopeo: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 3; i++) {
    const dir = fs.mkdtempSync(path.join(work, 'store-'));
    const store = ImageStore.open(dir);
    const t0 = performance.now();
    const r = await pullImage(store, `${reg.host}/bench/big:1`);
    ours.push(performance.now() - t0);
    bytes = r.fetchedBytes;
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
    const out = path.join(work, `skopeo-${i}`);
    const s0 = performance.now();
    const sk = spawnSync('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${reg.host}/bench/big:1`, `oci:${out}:1`]);
    skopeo.push(performance.now() - s0);
    if (sk.status !== 0) throw new Error(`skopeo copy failed: ${sk.stderr}`);
    fs.rmSync(out, { recursive: true, force: true });
  }
  const skBase = { name: 'skopeo copy docker:// → oci: (download + verify, no unpack), median of 3', value: Math.round(median(skopeo)) };
  report({ figure: `pull + unpack 5 layers, ${(bytes / 2 ** 20).toFixed(0)} MB, loopback registry (median of 3)`, value: median(ours), unit: 'ms', baseline: skBase,
    anchor: 'issue 19: < 2 s; containerd pulls with 3 parallel downloads', target: '< 2000 ms' });
  report({ figure: `pull + unpack ÷ skopeo copy of the same image (${Math.round(median(ours))} ms ÷ ${Math.round(median(skopeo))} ms; skopeo does not unpack)`, value: median(ours) / median(skopeo), unit: 'x', anchor: 'same run', target: 'informational' });

  // 2 + 3. Pods on a node with --images auto and a private store.
  const storeDir = path.join(work, 'node-store');
  const stateDir = path.join(work, 'node');
  const api = await createApiCore({ storage: new MemoryStorage() });
  cleanups.unshift(() => api.close());
  const nodeName = `bench-${id}`;
  const agent = await startNodeAgent({
    client: api.client, nodeName, nodeIndex: 0, netns: `cipb-${id}-n0`, podCIDR: '10.244.0.0/24', stateDir,
    clusterDNS: '10.96.0.10', clusterDomain: 'cluster.local', idPrefix: `cipb-${id}`, imageMode: 'auto', imageStoreDir: storeDir,
  });
  cleanups.unshift(() => agent.stop());
  const ociImage = `${reg.host}/bench/busybox:1`;
  const prestore = ImageStore.open(storeDir);
  await pullImage(prestore, ociImage);
  prestore.close();
  const ready = (p: Pod): boolean => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  const readyAt = new Map<string, (t: number) => void>();
  const watch = api.client.watch<Pod>(R.pods, 'default', {}, (ev) => { if (ready(ev.object)) readyAt.get(ev.object.metadata!.name!)?.(performance.now()); });
  cleanups.unshift(() => watch.stop());
  // Where an OCI Pod's time goes: before the runtime is called (API, sandbox, image check), each
  // phase of OciRuntime.startContainer, and after it until the watch sees Ready (status write).
  const traces = new Map<string, { at: number; phases: Record<string, number> }>();
  ociStartTrace.sink = (cid, at, phases) => { traces.set(cid, { at, phases }); };
  const breakdown: Record<string, number>[] = [];
  const create = async (name: string, image: string): Promise<number> => {
    const seen = new Promise<number>((r) => readyAt.set(name, r));
    traces.clear();
    const t0 = performance.now();
    await api.client.create(R.pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
      spec: { nodeName, containers: [{ name: 'c', image, command: ['sleep', '3600'], imagePullPolicy: 'IfNotPresent' }] } });
    const t1 = await seen;
    readyAt.delete(name);
    const tr = [...traces.values()][0];
    if (tr) {
      const ends = Object.values(tr.phases);
      breakdown.push({ beforeRuntime: tr.at - t0, ...tr.phases, afterRuntime: t1 - tr.at - Math.max(...ends) });
    }
    return t1 - t0;
  };
  const oci: number[] = [];
  const cat: number[] = [];
  const N = 30;
  for (let i = 0; i < N; i++) {
    oci.push(await create(`oci-${i}`, ociImage));
    cat.push(await create(`cat-${i}`, 'busybox'));
  }
  ociStartTrace.sink = undefined;
  // Per phase: median of the increments (each phase's own cost), printed for the report's reader.
  const keys = Object.keys(breakdown[0] ?? {});
  const inc = (b: Record<string, number>, k: string): number => {
    const i = keys.indexOf(k);
    if (k === 'beforeRuntime' || k === 'afterRuntime' || i <= 1) return b[k]!;
    return b[k]! - b[keys[i - 1]!]!;
  };
  const slowest = oci.indexOf(Math.max(...oci));
  console.log(`slowest OCI Pod: #${slowest} ${Math.round(oci[slowest]!)} ms: ${JSON.stringify(breakdown[slowest], (_k, v: unknown) => (typeof v === 'number' ? Math.round(v) : v))}`);
  console.log(`OCI start breakdown (median / p99 ms over ${breakdown.length}): ${keys.map((k) => `${k} ${median(breakdown.map((b) => inc(b, k))).toFixed(1)}/${pct(breakdown.map((b) => inc(b, k)), 99).toFixed(1)}`).join(', ')}`);
  const catBase = { name: `catalog busybox Pod create → Ready p99 (same run, alternated)`, value: Math.round(pct(cat, 99)) };
  report({ figure: 'OCI Pod (cached image) create → Ready p50', value: pct(oci, 50), unit: 'ms', baseline: { name: 'catalog busybox p50 (same run)', value: Math.round(pct(cat, 50)) },
    anchor: 'containerd + runc: 0.5–1 s', target: '< 300 ms p99' });
  report({ figure: 'OCI Pod (cached image) create → Ready p99', value: pct(oci, 99), unit: 'ms', baseline: catBase, anchor: 'containerd + runc: 0.5–1 s', target: '< 300 ms' });

  // Memory: conmon per running OCI container (RSS counts shared pages whole; PSS shares them out).
  let rss = 0;
  let pss = 0;
  let n = 0;
  for (let i = 0; i < N; i++) {
    const w = agent.worker('default', `oci-${i}`);
    const pid = w?.container('c')?.pid;
    if (!pid) continue;
    const ppid = Number(/^PPid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    if (!/conmon/.test(fs.readFileSync(`/proc/${ppid}/cmdline`, 'utf8'))) continue;
    rss += Number(/^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${ppid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
    pss += Number(/^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${ppid}/smaps_rollup`, 'utf8'))?.[1] ?? 0) * 1024;
    n++;
  }
  report({ figure: `per-container overhead: conmon RSS (mean of ${n})`, value: rss / n / 2 ** 20, unit: 'MB', anchor: 'containerd-shim-runc-v2 ~ 10 MB RSS per Pod', target: '< 5 MB' });
  report({ figure: `per-container overhead: conmon PSS (mean of ${n})`, value: pss / n / 2 ** 20, unit: 'MB', anchor: 'shared library pages divided among the conmons', target: '< 5 MB' });
} finally {
  for (const c of cleanups) { try { await c(); } catch (e) { console.error('cleanup:', e); } }
  const left = (await run(['ip', 'netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(`cipb-${id}`)).map((l) => l.split(' ')[0]!);
  for (const n of left) await run(['ip', 'netns', 'del', n]);
}

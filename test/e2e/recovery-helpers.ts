/**
 * Helpers for the crash-recovery and chaos tests: find the cluster's processes by network
 * namespace (never by name across the machine), kill one by pid, wait for a condition, and read
 * what must survive a crash (Pods, Services and their ClusterIPs) through the real kubectl.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import { runOk } from '../../src/sys/command.js';
import { listNetns } from '../../src/sys/netns.js';
import { podNetnsName } from '../../src/node/podnames.js';
import type { UpCluster } from '../harness/up.js';

/** A process inside one of the cluster's namespaces. */
export interface ClusterProcess { pid: number; netns: string; cmd: string }

/** Every process in the cluster's network namespaces (`cip-<id>-*`), with its command line. */
export async function clusterProcesses(id: string): Promise<ClusterProcess[]> {
  const out: ClusterProcess[] = [];
  for (const netns of (await listNetns()).filter((n) => n.startsWith(`cip-${id}-`))) {
    const pids = (await runOk(['ip', 'netns', 'pids', netns]).catch(() => '')).split('\n').map(Number).filter((p) => p > 1);
    for (const pid of pids) {
      try { out.push({ pid, netns, cmd: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim() }); } catch { /* gone */ }
    }
  }
  return out;
}

/** The network namespace of a Pod of cluster `id`. */
export function podNetns(id: string, pod: Pod): string {
  return podNetnsName(`cip-${id}`, pod.metadata!.uid!);
}

/** The one process in `netns` whose command line matches `re` (fails if none or several). */
export async function onlyProcess(id: string, netns: string, re: RegExp): Promise<ClusterProcess> {
  const ps = (await clusterProcesses(id)).filter((p) => p.netns === netns && re.test(p.cmd));
  assert.equal(ps.length, 1, `one process matching ${re} in ${netns}, got ${JSON.stringify(ps)}`);
  return ps[0]!;
}

export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch { return false; }
}

/** SIGKILL to one pid (a process of the test's own cluster), then waits until it is gone. */
export async function killHard(pid: number): Promise<void> {
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 200 && alive(pid); i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(alive(pid), false, `pid ${pid} survived SIGKILL`);
}

/** Polls `check` (which throws while the condition does not hold) until it passes or time runs out. */
export async function eventually<T>(what: string, check: () => Promise<T>, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try { return await check(); } catch (e) { last = e; }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms: ${(last as Error)?.message ?? last}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function kubectlOk(c: UpCluster, args: string[], timeoutMs = 30_000): Promise<string> {
  const r = await c.kubectl(args, { timeoutMs });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

export async function getPods(c: UpCluster): Promise<Pod[]> {
  return (JSON.parse(await kubectlOk(c, ['get', 'pods', '-A', '-o', 'json'])) as { items: Pod[] }).items;
}

/** `namespace/name` → ClusterIP of every Service. */
export async function clusterIPs(c: UpCluster): Promise<Record<string, string>> {
  const items = (JSON.parse(await kubectlOk(c, ['get', 'svc', '-A', '-o', 'json'])) as { items: Service[] }).items;
  return Object.fromEntries(items.map((s) => [`${s.metadata!.namespace}/${s.metadata!.name}`, s.spec!.clusterIP!]));
}

export const isReady = (p: Pod): boolean => p.status?.phase === 'Running' && !!p.status.conditions?.some((x) => x.type === 'Ready' && x.status === 'True');

/** Throws unless every Pod is Running and Ready. */
export async function allPodsReady(c: UpCluster): Promise<Pod[]> {
  const pods = await getPods(c);
  const notReady = pods.filter((p) => !isReady(p)).map((p) => `${p.metadata!.namespace}/${p.metadata!.name}: ${p.status?.phase}`);
  assert.deepEqual(notReady, [], 'every Pod Running and Ready');
  return pods;
}

/**
 * From inside Pod `client` (a busybox Pod): the name `web` resolves to `ip` through cluster DNS, and
 * the nginx page comes back through the ClusterIP. Throws otherwise.
 */
export async function serviceWorksFrom(c: UpCluster, client: string, name: string, ip: string): Promise<void> {
  const r = await c.kubectl(['exec', client, '--', 'sh', '-c',
    `nslookup ${name} 2>&1; timeout 3 wget -qO- http://${ip}/ 2>&1 | grep -m1 -o 'Welcome to nginx!'`], { timeoutMs: 15_000 });
  assert.equal(r.code, 0, `from ${client}: ${r.stdout}${r.stderr}`);
  assert.match(r.stdout, new RegExp(`Address:\\s+${ip.replace(/\./g, '\\.')}\\b`), `DNS answers ${name} → ${ip}: ${r.stdout}`);
  assert.match(r.stdout, /Welcome to nginx!/, `traffic through ${ip}: ${r.stdout}`);
}

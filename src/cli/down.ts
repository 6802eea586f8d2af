/**
 * `clusterip down`: stops a cluster's daemon and removes everything it created on the machine —
 * network namespaces (nodes, Pods, underlay, outside), the processes inside them, kernel rules (they
 * live in those namespaces and go with them). Stored objects stay for the next `up` unless --purge.
 * Works also when the daemon died (kill -9): it cleans up from the names the cluster record implies.
 */
import { rmSync } from 'node:fs';
import { listNetns, run } from '../cluster/exec.js';
import { removeAllNamespaces } from '../cluster/topology.js';
import { isAlive, readRecord, type ClusterRecord } from '../cluster/state.js';
import { removeKubeconfigContext } from './kubeconfig.js';

export interface DownResult {
  stopped: boolean;
  namespaces: string[];
  purged: boolean;
}

async function waitForExit(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !isAlive(pid);
}

/**
 * Ends every process still inside the cluster's namespaces (Pods left behind by a crashed daemon,
 * programs that daemonized inside a Pod) and waits until they are gone (≤ 2 s), so `down` returns
 * with nothing of the cluster running.
 */
async function killProcessesIn(id: string): Promise<void> {
  const inCluster = async (): Promise<number[]> => {
    const pids: number[] = [];
    for (const ns of await listNetns()) {
      if (!ns.startsWith(`cip-${id}-`)) continue;
      pids.push(...(await run('ip', ['netns', 'pids', ns]).catch(() => '')).split('\n').map(Number).filter((p) => Number.isInteger(p) && p > 1));
    }
    return pids;
  };
  let pids = await inCluster();
  for (let round = 0; pids.length > 0 && round < 40; round++) {
    for (const pid of pids) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    await new Promise((r) => setTimeout(r, 50));
    pids = await inCluster();
  }
}

/** Stops the cluster whose state is in `stateDir`. */
export async function down(stateDir: string, opts: { purge?: boolean } = {}): Promise<DownResult> {
  const rec: ClusterRecord | undefined = readRecord(stateDir);
  let stopped = false;
  if (rec?.pid && isAlive(rec.pid)) {
    process.kill(rec.pid, 'SIGTERM');
    stopped = await waitForExit(rec.pid, 15_000);
    if (!stopped) {
      process.kill(rec.pid, 'SIGKILL');
      stopped = await waitForExit(rec.pid, 2_000);
    }
  }
  let namespaces: string[] = [];
  if (rec) {
    await killProcessesIn(rec.id);
    namespaces = await removeAllNamespaces(rec.id);
  }
  if (opts.purge) {
    if (rec) removeKubeconfigContext(rec.kubeconfig, rec.context);
    rmSync(stateDir, { recursive: true, force: true });
  }
  return { stopped, namespaces, purged: !!opts.purge };
}

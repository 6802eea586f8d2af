/**
 * `clusterip down`: stops a cluster's daemon and removes everything it created on the machine —
 * network namespaces (nodes, Pods, underlay, outside), the processes inside them, kernel rules (they
 * live in those namespaces and go with them). Stored objects stay for the next `up` unless --purge.
 * Works also when the daemon died (kill -9): it cleans up from the names the cluster record implies.
 */
import { rmSync } from 'node:fs';
import { listNetns } from '../cluster/exec.js';
import { killProcessesIn } from '../node/network.js';
import { removeAllNamespaces } from '../cluster/topology.js';
import { stopLeftoverEmbeddedEtcd } from '../cluster/store.js';
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
 * programs that daemonized inside a Pod) and waits until they are gone, so `down` returns with
 * nothing of the cluster running.
 */
async function killProcessesInCluster(id: string): Promise<void> {
  for (const ns of await listNetns()) {
    if (ns.startsWith(`cip-${id}-`)) await killProcessesIn(ns);
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
  // An embedded etcd outlives a daemon that was killed outright.
  await stopLeftoverEmbeddedEtcd(stateDir);
  let namespaces: string[] = [];
  if (rec) {
    await killProcessesInCluster(rec.id);
    namespaces = await removeAllNamespaces(rec.id);
  }
  if (opts.purge) {
    if (rec) removeKubeconfigContext(rec.kubeconfig, rec.context);
    rmSync(stateDir, { recursive: true, force: true });
  }
  return { stopped, namespaces, purged: !!opts.purge };
}

/**
 * `clusterip down`: stops a cluster's daemon and removes everything it created on the machine —
 * network namespaces (nodes, Pods, underlay, outside), the processes inside them, kernel rules (they
 * live in those namespaces and go with them). Stored objects stay for the next `up` unless --purge.
 * Works also when the daemon died (kill -9): it cleans up from the names the cluster record implies.
 *
 * The daemon is found by name through the machine index (so `--state-dir` need not be repeated),
 * and is signalled only when it is provably the daemon: pid + start time + boot id as recorded, or
 * the holder of the state directory's kernel lock. A re-used pid is never signalled.
 */
import { rmSync } from 'node:fs';
import { removeOciLeftovers } from '../node/runtime/oci.js';
import { flagHelp, parseArgs, type FlagSpec } from './args.js';
import { HELP_FLAG, NAME_FLAG, resolveTarget, STATE_DIR_FLAG, type Target } from './target.js';
import { killProcessesIn } from '../node/network.js';
import { removeAllNamespaces } from '../cluster/topology.js';
import { removeUsageGroups } from '../node/usage.js';
import { stateDirHolder } from '../cluster/lock.js';
import { stopLeftoverEmbeddedEtcd } from '../cluster/store.js';
import { entryAlive, readEntry, removeEntry, writeEntry } from '../cluster/machineindex.js';
import { clusterId, daemonRunning } from '../cluster/state.js';
import { removeKubeconfigContext } from '../client/kubeconfig.js';
import { listNetns } from '../sys/netns.js';
import { isRunning, processIdentity, type ProcessIdentity } from '../sys/process.js';

export const DOWN_FLAGS: Record<string, FlagSpec> = {
  name: NAME_FLAG, 'state-dir': STATE_DIR_FLAG,
  purge: { type: 'boolean', description: 'also delete stored objects, certificates, the kubeconfig context and the machine index entry' },
  help: HELP_FLAG,
};

export interface DownResult {
  stopped: boolean;
  namespaces: string[];
  purged: boolean;
}

async function waitForExit(id: ProcessIdentity, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!isRunning(id)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return !isRunning(id);
}

/** The identity of the daemon running `t`, if one provably does. */
function runningDaemon(t: Target): ProcessIdentity | undefined {
  const e = t.entry;
  if (e && entryAlive(e)) return { pid: e.pid!, startTime: e.pidStartTime!, bootId: e.bootId! };
  const r = t.record;
  if (r && daemonRunning(r)) return processIdentity(r.pid!);
  // A daemon that holds the lock but has recorded nothing yet (it is just starting).
  const holder = stateDirHolder(t.stateDir);
  return holder ? processIdentity(holder) : undefined;
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

/** Stops cluster `t`. */
export async function down(t: Target, opts: { purge?: boolean } = {}): Promise<DownResult> {
  let stopped = false;
  const daemon = runningDaemon(t);
  if (daemon) {
    try { process.kill(daemon.pid, 'SIGTERM'); } catch { /* exited meanwhile */ }
    stopped = await waitForExit(daemon, 15_000);
    if (!stopped) {
      try { process.kill(daemon.pid, 'SIGKILL'); } catch { /* exited meanwhile */ }
      stopped = await waitForExit(daemon, 2_000);
    }
  }
  // An embedded etcd outlives a daemon that was killed outright.
  await stopLeftoverEmbeddedEtcd(t.stateDir);
  const id = t.record?.id ?? t.entry?.id ?? clusterId(t.name);
  await killProcessesInCluster(id);
  // Pulled-image containers of a killed daemon: runc state, cgroups and rootfs mounts.
  await removeOciLeftovers(t.stateDir);
  const namespaces = await removeAllNamespaces(id);
  // The node agents' accounting groups (src/node/usage.ts), empty once the killed processes are gone.
  for (let i = 0; i < 40 && !removeUsageGroups(`cip-${id}`); i++) await new Promise((r) => setTimeout(r, 50));
  if (opts.purge) {
    if (t.record) removeKubeconfigContext(t.record.kubeconfig, t.record.context);
    rmSync(t.stateDir, { recursive: true, force: true });
    if (readEntry(t.name)?.stateDir === t.stateDir) removeEntry(t.name);
  } else {
    // A daemon that was killed could not record its stop.
    const e = readEntry(t.name);
    if (e && e.stateDir === t.stateDir && e.phase !== 'stopped') {
      writeEntry({ ...e, phase: 'stopped', pid: undefined, pidStartTime: undefined, bootId: undefined, updatedAt: new Date().toISOString() });
    }
  }
  return { stopped, namespaces, purged: !!opts.purge };
}

/** `clusterip down`. */
export async function run(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, DOWN_FLAGS, { command: 'down' });
  if (flags.help) { console.log(`clusterip down [flags]\n\nStops a cluster and removes every namespace, veth, rule and process it made.\n\n${flagHelp(DOWN_FLAGS)}`); return 0; }
  const t = resolveTarget(flags);
  const t0 = performance.now();
  const r = await down(t, { purge: !!flags.purge });
  console.log(`cluster "${t.name}" ${r.stopped ? 'stopped' : 'was not running'}; removed ${r.namespaces.length} leftover network namespaces` +
    `${r.purged ? '; state purged' : ''} (${Math.round(performance.now() - t0)} ms)`);
  return 0;
}

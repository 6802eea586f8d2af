/**
 * The state directory of one named cluster and the record (`cluster.json`) that `up`, `down`,
 * `status` and `outside` share: who is running (pid), where the API is, which namespaces belong to
 * the cluster. Objects themselves live in the SQLite file beside it.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Bumped when the layout of the state directory changes incompatibly. */
export const STATE_VERSION = 1;

export interface ClusterRecord {
  stateVersion: number;
  name: string;
  /** Short id used in namespace and interface names (`cip-<id>-n0`). */
  id: string;
  pid?: number;
  apiPort: number;
  apiURL: string;
  unixSocket: string;
  kubeconfig: string;
  context: string;
  nodes: number;
  proxyMode: 'nftables' | 'iptables';
  serviceCIDR: string;
  podCIDR: string;
  startedAt?: string;
}

export class StateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateError';
  }
}

/** Default state directory for cluster `name`. */
export function defaultStateDir(name: string): string {
  return join(process.env.CLUSTERIP_STATE_ROOT ?? '/var/lib/clusterip', name);
}

/**
 * The short id of a cluster name: 8 hex digits, stable for the name. Every network namespace of the
 * cluster is named `cip-<id>-...` and cleanup removes by that prefix, so ids must not collide; 8 hex
 * digits keep derived interface names within the kernel's 15 characters.
 */
export function clusterId(name: string): string {
  return createHash('sha256').update(name).digest('hex').slice(0, 8);
}

/** Validates a cluster name (it appears in paths and kubeconfig contexts). */
export function validateClusterName(name: string): void {
  if (!/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/.test(name)) {
    throw new StateError(`invalid cluster name ${JSON.stringify(name)}: use lower-case letters, digits and '-', at most 32 characters`);
  }
}

export function recordPath(stateDir: string): string {
  return join(stateDir, 'cluster.json');
}

/** Reads the cluster record, or undefined when the directory holds none. Throws on an incompatible version. */
export function readRecord(stateDir: string): ClusterRecord | undefined {
  const p = recordPath(stateDir);
  if (!existsSync(p)) return undefined;
  let rec: ClusterRecord;
  try {
    rec = JSON.parse(readFileSync(p, 'utf8')) as ClusterRecord;
  } catch (err) {
    throw new StateError(`${p} is not readable JSON (${(err as Error).message}); move the directory away or run 'clusterip down --purge'`);
  }
  if (rec.stateVersion !== STATE_VERSION) {
    throw new StateError(`${stateDir} was written by an incompatible clusterip (state version ${rec.stateVersion}, this one uses ${STATE_VERSION}); ` +
      `remove it with 'clusterip down --name ${rec.name ?? '<name>'} --purge' or choose another --state-dir`);
  }
  return rec;
}

/** Writes the record atomically (mode 0600). */
export function writeRecord(stateDir: string, rec: ClusterRecord): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const p = recordPath(stateDir);
  writeFileSync(`${p}.tmp`, JSON.stringify(rec, null, 2) + '\n', { mode: 0o600 });
  renameSync(`${p}.tmp`, p);
}

/**
 * True when `pid` is a live process. A zombie (exited, not yet reaped by its parent or PID 1)
 * counts as gone: `kill(pid, 0)` succeeds on it, but it will never do anything again.
 */
export function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

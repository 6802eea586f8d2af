/**
 * The state directory of one named cluster and the record (`cluster.json`) that `up`, `down`,
 * `status` and `outside` share: who is running (pid, with its start time and boot id so a re-used
 * pid never passes for the daemon), where the API is, which namespaces belong to the cluster.
 * Objects themselves live in the SQLite file beside it (`state.db`), the daemon's lock in `lock`
 * (lock.ts), and the machine-wide list of clusters in machineindex.ts.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRunning, pidAlive } from '../sys/process.js';

/** Bumped when the layout of the state directory changes incompatibly. */
export const STATE_VERSION = 1;

export interface ClusterRecord {
  stateVersion: number;
  name: string;
  /** Short id used in namespace and interface names (`cip-<id>-n0`). */
  id: string;
  /** The daemon: pid, with its start time and boot id (absent in records of older versions). */
  pid?: number;
  pidStartTime?: string;
  bootId?: string;
  apiPort: number;
  apiURL: string;
  unixSocket: string;
  kubeconfig: string;
  context: string;
  nodes: number;
  proxyMode: 'nftables' | 'iptables' | 'userspace';
  serviceCIDR: string;
  podCIDR: string;
  startedAt?: string;
  /**
   * `server` (absent in older records): `clusterip up`, an API server with its nodes. `node`:
   * `clusterip join`, one node of a cluster whose API servers run elsewhere (`apiURL` is the server
   * it joined through, `nodeName` its Node).
   */
  role?: 'server' | 'node';
  nodeName?: string;
  /** The command that joins another machine's node (servers with an advertised address). */
  joinCommand?: string;
  /** Each node's address on the underlay (NodePorts), in node order. */
  nodeIPs?: string[];
  /** NodePort range and LoadBalancer pool (`up --service-node-port-range`, `--lb-pool`). */
  nodePortRange?: string;
  lbPool?: string;
}

/**
 * Stable codes of {@link StateError}:
 * - `INVALID_CLUSTER_NAME`: the name cannot be used (paths, contexts, namespace names);
 * - `STATE_UNREADABLE`: cluster.json is not readable JSON;
 * - `STATE_INCOMPATIBLE`: the state directory was written by an incompatible version;
 * - `CLUSTER_RUNNING`: a cluster of that name (or in that state directory) already runs;
 * - `STATE_DIR_LOCKED`: another process holds the state directory's lock;
 * - `STATE_DB_CORRUPT`: the SQLite store is damaged (truncated, overwritten, malformed);
 * - `PORT_IN_USE`: the API port is taken;
 * - `CLUSTER_NOT_RUNNING`: the command needs a running cluster.
 */
export type StateErrorCode = 'INVALID_CLUSTER_NAME' | 'STATE_UNREADABLE' | 'STATE_INCOMPATIBLE' | 'CLUSTER_RUNNING'
  | 'STATE_DIR_LOCKED' | 'STATE_DB_CORRUPT' | 'PORT_IN_USE' | 'CLUSTER_NOT_RUNNING';

/** A cluster's state (its directory, record, lock or store) forbids what was asked; the message says what to do. */
export class StateError extends Error {
  override readonly name = 'StateError';
  constructor(readonly code: StateErrorCode, message: string) {
    super(message);
  }
}

/** Where state directories (and the machine index) live by default: $CLUSTERIP_STATE_ROOT or /var/lib/clusterip. */
export function defaultStateRoot(): string {
  return process.env.CLUSTERIP_STATE_ROOT || '/var/lib/clusterip';
}

/** Default state directory for cluster `name`. */
export function defaultStateDir(name: string): string {
  return join(defaultStateRoot(), name);
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
    throw new StateError('INVALID_CLUSTER_NAME', `invalid cluster name ${JSON.stringify(name)}: use lower-case letters, digits and '-', at most 32 characters`);
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
    throw new StateError('STATE_UNREADABLE', `${p} is not readable JSON (${(err as Error).message}); move the directory away or run 'clusterip down --purge'`);
  }
  if (rec.stateVersion !== STATE_VERSION) {
    throw new StateError('STATE_INCOMPATIBLE', `${stateDir} was written by an incompatible clusterip (state version ${rec.stateVersion}, this one uses ${STATE_VERSION}); ` +
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
 * True when the record's daemon still runs. With the daemon's start time and boot id (every record
 * written by this version) a re-used pid is told apart; a record of an older version has only the pid.
 */
export function daemonRunning(rec: Pick<ClusterRecord, 'pid' | 'pidStartTime' | 'bootId'> | undefined): boolean {
  if (!rec?.pid) return false;
  if (rec.pidStartTime && rec.bootId) return isRunning({ pid: rec.pid, startTime: rec.pidStartTime, bootId: rec.bootId });
  return pidAlive(rec.pid);
}

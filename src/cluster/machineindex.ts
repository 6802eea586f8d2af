/**
 * The machine-wide index of clusters: which cluster names exist on this machine, where each one's
 * state directory is, and which daemon runs it. `clusterip down/status/outside --name N` find a
 * cluster by its name through it (also one started with `--state-dir`), and `clusterip list` shows
 * all of them.
 *
 * Layout: one JSON file per cluster, `<root>/index.d/<name>.json` (root: $CLUSTERIP_STATE_ROOT or
 * /var/lib/clusterip; a cluster name cannot contain a dot, so `index.d` never collides with a default
 * state directory). One file per name means no shared file to lock: each is replaced atomically
 * (write + rename), so a crash mid-write leaves the old entry or the new one, never half of one.
 *
 * It never lies about liveness: an entry records the daemon's pid with its start time and boot id
 * (src/sys/process.ts); a daemon that was killed leaves its entry behind, and readers see that the
 * recorded process is gone (state `crashed`), never a re-used pid as the daemon. Entries whose state
 * directory has disappeared and whose daemon is gone are dropped when listed.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRunning, processIdentity } from '../sys/process.js';
import { defaultStateRoot, type ClusterRecord } from './state.js';

/** One cluster in the index. */
export interface IndexEntry {
  name: string;
  stateDir: string;
  /** Short id of the cluster's namespaces (`cip-<id>-...`). */
  id: string;
  /** What the daemon last said: `starting` (lock taken), `running` (ready), `stopped` (clean stop). */
  phase: 'starting' | 'running' | 'stopped';
  /** The daemon (absent once stopped). */
  pid?: number;
  pidStartTime?: string;
  bootId?: string;
  apiURL?: string;
  nodes?: number;
  proxyMode?: string;
  updatedAt: string;
}

/** What a reader concludes from an entry. */
export type ClusterState = 'running' | 'starting' | 'stopped' | 'crashed';

/** The index directory. */
export function indexDir(): string {
  return join(defaultStateRoot(), 'index.d');
}

function entryPath(name: string): string {
  return join(indexDir(), `${name}.json`);
}

/** Reads the entry of cluster `name`, or undefined when there is none (or it is unreadable). */
export function readEntry(name: string): IndexEntry | undefined {
  try {
    return JSON.parse(readFileSync(entryPath(name), 'utf8')) as IndexEntry;
  } catch {
    return undefined;
  }
}

/** Replaces the entry of `entry.name` atomically. */
export function writeEntry(entry: IndexEntry): void {
  mkdirSync(indexDir(), { recursive: true, mode: 0o755 });
  const p = entryPath(entry.name);
  const tmp = `${p}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(entry, null, 2) + '\n', { mode: 0o644 });
  renameSync(tmp, p);
}

/** Removes the entry of cluster `name` (after `down --purge`). */
export function removeEntry(name: string): void {
  rmSync(entryPath(name), { force: true });
}

/** The liveness of an entry's daemon, checked against the process table (pid + start time + boot). */
export function entryState(e: IndexEntry): ClusterState {
  const alive = isRunning({ pid: e.pid, startTime: e.pidStartTime, bootId: e.bootId });
  if (alive) return e.phase === 'running' ? 'running' : 'starting';
  return e.phase === 'stopped' ? 'stopped' : 'crashed';
}

/** True when the entry's daemon is alive (starting or running). */
export function entryAlive(e: IndexEntry): boolean {
  const s = entryState(e);
  return s === 'running' || s === 'starting';
}

/** Records that this process now runs cluster `name` in `stateDir` (phase `starting`). */
export function registerStarting(name: string, stateDir: string, id: string): void {
  const me = processIdentity()!;
  writeEntry({ name, stateDir, id, phase: 'starting', pid: me.pid, pidStartTime: me.startTime, bootId: me.bootId, updatedAt: new Date().toISOString() });
}

/** Records that the cluster of `rec` is ready (its API address, nodes and proxy mode). */
export function registerRunning(stateDir: string, rec: ClusterRecord): void {
  const me = processIdentity()!;
  writeEntry({
    name: rec.name, stateDir, id: rec.id, phase: 'running', pid: me.pid, pidStartTime: me.startTime, bootId: me.bootId,
    apiURL: rec.apiURL, nodes: rec.nodes, proxyMode: rec.proxyMode, updatedAt: new Date().toISOString(),
  });
}

/** Records a clean stop of cluster `name` (only if the entry is still this process's). */
export function registerStopped(name: string): void {
  const e = readEntry(name);
  if (!e || e.pid !== process.pid) return;
  writeEntry({ ...e, phase: 'stopped', pid: undefined, pidStartTime: undefined, bootId: undefined, updatedAt: new Date().toISOString() });
}

/**
 * Every cluster in the index, sorted by name, with its state. Entries of dead daemons whose state
 * directory no longer exists are removed (nothing is left to run or clean up).
 */
export function listEntries(): { entry: IndexEntry; state: ClusterState }[] {
  let files: string[];
  try {
    files = readdirSync(indexDir()).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  const out: { entry: IndexEntry; state: ClusterState }[] = [];
  for (const f of files.sort()) {
    const entry = readEntry(f.slice(0, -'.json'.length));
    if (!entry) continue;
    const state = entryState(entry);
    if ((state === 'stopped' || state === 'crashed') && !existsSync(entry.stateDir)) {
      // Unless an `up` replaced the entry meanwhile.
      if (readEntry(entry.name)?.updatedAt === entry.updatedAt) removeEntry(entry.name);
      continue;
    }
    out.push({ entry, state });
  }
  return out;
}

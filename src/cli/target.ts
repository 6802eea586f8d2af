/**
 * Which cluster a command means: `--state-dir` when given; otherwise the state directory the
 * machine index records for `--name` (so a cluster started with `--state-dir` is found by its name
 * alone); otherwise the default `/var/lib/clusterip/<name>`. Also the flags every command shares.
 */
import { existsSync } from 'node:fs';
import type { FlagSpec } from './args.js';
import { readEntry, type IndexEntry } from '../cluster/machineindex.js';
import { defaultStateDir, readRecord, validateClusterName, type ClusterRecord } from '../cluster/state.js';

export const NAME_FLAG: FlagSpec = { type: 'string', description: 'cluster name (default "default", or the name recorded in --state-dir)' };
export const STATE_DIR_FLAG: FlagSpec = { type: 'string', description: 'state directory (default: where the machine index says cluster <name> lives, else /var/lib/clusterip/<name>)' };
export const HELP_FLAG: FlagSpec = { type: 'boolean', short: 'h', description: 'show this help' };

export interface Target {
  name: string;
  stateDir: string;
  /** The machine index's entry for `name`, when it points at `stateDir`. */
  entry?: IndexEntry;
  /** The record in `stateDir`, if any. */
  record?: ClusterRecord;
}

/** Resolves `--name` / `--state-dir` to a cluster. */
export function resolveTarget(flags: Record<string, unknown>): Target {
  const flagName = flags.name as string | undefined;
  if (flagName !== undefined) validateClusterName(flagName);
  const flagDir = flags['state-dir'] as string | undefined;
  if (flagDir) {
    const record = readRecord(flagDir);
    const name = flagName ?? record?.name ?? 'default';
    validateClusterName(name);
    const entry = readEntry(name);
    return { name, stateDir: flagDir, record, entry: entry?.stateDir === flagDir ? entry : undefined };
  }
  const name = flagName ?? 'default';
  const entry = readEntry(name);
  const stateDir = entry && existsSync(entry.stateDir) ? entry.stateDir : defaultStateDir(name);
  return { name, stateDir, record: readRecord(stateDir), entry: entry?.stateDir === stateDir ? entry : undefined };
}

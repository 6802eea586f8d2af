/**
 * What `clusterip explain` and `clusterip diagnose` share: finding the cluster (one small function,
 * `findCluster`, so the switch to the machine-wide cluster index is one edit), its API client (the
 * unix socket, no credentials needed as root), the kubectl-plugin defaults (cluster and namespace
 * from kubectl's current context), and printing data as json or yaml.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { HttpClient } from '../client/http.js';
import { defaultStateDir, isAlive, readRecord, validateClusterName, type ClusterRecord } from '../cluster/state.js';
import { clusterViewFromRecord, type ClusterView } from '../inspect/cluster-view.js';
import { InspectError } from '../inspect/errors.js';

/** True when run as `kubectl clusterip ...` (the kubectl-clusterip executable). */
export function isKubectlPlugin(): boolean {
  return process.env.CLUSTERIP_KUBECTL_PLUGIN === '1';
}

/** The command name to show in help and fixes. */
export function commandName(): string {
  return isKubectlPlugin() ? 'kubectl clusterip' : 'clusterip';
}

/**
 * kubectl's current context, when it is a clusterip one (`clusterip-<name>`): its cluster name and
 * namespace. A kubectl plugin inherits KUBECONFIG and gets `--context` in its arguments.
 */
export function kubectlContext(contextFlag?: string): { cluster?: string; namespace?: string } {
  const path = process.env.KUBECONFIG?.split(':').filter(Boolean)[0] ?? join(homedir(), '.kube', 'config');
  try {
    const doc = YAML.parse(readFileSync(path, 'utf8')) as { 'current-context'?: string; contexts?: { name: string; context?: { namespace?: string } }[] };
    const name = contextFlag ?? doc['current-context'];
    const m = /^clusterip-(.+)$/.exec(name ?? '');
    const ns = doc.contexts?.find((c) => c.name === name)?.context?.namespace;
    return { ...(m ? { cluster: m[1] } : {}), ...(ns ? { namespace: ns } : {}) };
  } catch {
    return {};
  }
}

export interface FoundCluster {
  record: ClusterRecord;
  stateDir: string;
  view: ClusterView;
  client: HttpClient;
}

/**
 * Finds a running cluster by name through its state directory record (as `clusterip status` does).
 * Throws InspectError ClusterNotRunning with one clear line otherwise.
 */
export function findCluster(name: string, stateDirFlag?: string): FoundCluster {
  validateClusterName(name);
  const stateDir = stateDirFlag ?? defaultStateDir(name);
  const record = readRecord(stateDir);
  if (!record) throw new InspectError('ClusterNotRunning', `no cluster named "${name}" (nothing in ${stateDir}); start one with 'clusterip up --name ${name}'`);
  if (!isAlive(record.pid)) throw new InspectError('ClusterNotRunning', `cluster "${name}" is not running; start it with 'clusterip up --name ${name}'`);
  return { record, stateDir, view: clusterViewFromRecord(record, stateDir), client: new HttpClient({ socketPath: record.unixSocket, timeoutMs: 10_000 }) };
}

/** Prints `data` as JSON or YAML. */
export function printData(data: unknown, format: 'json' | 'yaml'): void {
  process.stdout.write(format === 'json' ? JSON.stringify(data, null, 2) + '\n' : YAML.stringify(data));
}

/** `-o` values. */
export function outputFormat(value: string | undefined): 'text' | 'json' | 'yaml' {
  if (value === undefined || value === 'text' || value === 'wide') return 'text';
  if (value === 'json' || value === 'yaml') return value;
  throw new InspectError('BadTarget', `unknown output format ${JSON.stringify(value)}: use -o json or -o yaml (default: text)`);
}

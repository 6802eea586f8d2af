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
import { daemonRunning, type ClusterRecord } from '../cluster/state.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { nthAddress } from '../cluster/addons.js';
import { readProxyStatus } from '../cluster/proxystatus.js';
import { nodeName, nodeUnderlayIP, topologyNames, UNDERLAY_PREFIX } from '../cluster/topology.js';
import { podNetnsName } from '../node/podnames.js';
import type { ClusterView } from '../inspect/clusterview.js';
import { InspectError } from '../inspect/errors.js';
import { UsageError } from './args.js';
import { resolveTarget } from './target.js';

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
 * Finds a running cluster as every command does (src/cli/target.ts: `--state-dir`, else the machine
 * index entry of `--name`, else /var/lib/clusterip/<name>). Throws InspectError ClusterNotRunning
 * with one clear line otherwise.
 */
export function findCluster(name: string | undefined, stateDirFlag?: string): FoundCluster {
  const t = resolveTarget({ name, 'state-dir': stateDirFlag });
  const record = t.record;
  if (!record) throw new InspectError('ClusterNotRunning', `no cluster named "${t.name}" (nothing in ${t.stateDir}); start one with 'clusterip up --name ${t.name}'`);
  if (!daemonRunning(record)) throw new InspectError('ClusterNotRunning', `cluster "${t.name}" is not running; start it with 'clusterip up --name ${t.name}'`);
  return { record, stateDir: t.stateDir, view: clusterViewFromRecord(record, t.stateDir), client: new HttpClient({ socketPath: record.unixSocket, timeoutMs: 10_000 }) };
}

/**
 * Runs a subcommand body, turning bad input into UsageError (exit 2): node:util parseArgs errors and
 * a malformed kind/name. Other errors keep their message (exit 1).
 */
export async function usageErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof InspectError && e.code === 'BadTarget') throw new UsageError(e.message);
    if ((e as NodeJS.ErrnoException).code?.startsWith?.('ERR_PARSE_ARGS_')) throw new UsageError(`${(e as Error).message} (see '${commandName()} ${process.argv[2] ?? ''} --help')`);
    throw e;
  }
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

/** The view of a cluster started by `clusterip up`, from its record and state directory. */
export function clusterViewFromRecord(rec: ClusterRecord, stateDir: string, clusterDomain = 'cluster.local'): ClusterView {
  const names = topologyNames(rec.id);
  const nodes = Array.from({ length: rec.nodes }, (_, n) => ({ name: nodeName(rec.name, n, rec.nodes), netns: names.node(n), ip: rec.nodeIPs?.[n] ?? nodeUnderlayIP(n) }));
  const byName = new Map(nodes.map((n) => [n.name, n.netns]));
  return {
    name: rec.name,
    proxyMode: rec.proxyMode,
    serviceCIDR: rec.serviceCIDR,
    podCIDR: rec.podCIDR,
    clusterDomain,
    dnsServiceIP: nthAddress(rec.serviceCIDR, 10),
    nodes,
    outside: { netns: names.outside, ip: `${UNDERLAY_PREFIX}.2` },
    podNetns(pod: Pod) {
      if (pod.spec?.hostNetwork) return pod.spec.nodeName ? byName.get(pod.spec.nodeName) : undefined;
      const uid = pod.metadata?.uid;
      return uid && pod.spec?.nodeName ? podNetnsName(`cip-${rec.id}`, uid) : undefined;
    },
    sandboxNetns: (uid) => podNetnsName(`cip-${rec.id}`, uid),
    proxyStatus: (node) => readProxyStatus(stateDir, node),
  };
}

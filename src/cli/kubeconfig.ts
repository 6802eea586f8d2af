/**
 * Removing a cluster's entries from a user's kubeconfig on `clusterip down --purge`. (Writing and
 * merging them is `writeKubeconfig` in src/apiserver/pki/kubeconfig.ts.) Written mode 0600 because
 * the file carries credentials.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import YAML from 'yaml';

interface Named<T> { name: string; [k: string]: unknown; cluster?: T; user?: T; context?: T }
interface KubeconfigDoc {
  apiVersion?: string; kind?: string; 'current-context'?: string; preferences?: unknown;
  clusters?: Named<unknown>[]; users?: Named<unknown>[]; contexts?: Named<unknown>[];
}

function load(path: string): KubeconfigDoc {
  if (!existsSync(path)) return { apiVersion: 'v1', kind: 'Config', preferences: {}, clusters: [], users: [], contexts: [] };
  return (YAML.parse(readFileSync(path, 'utf8')) as KubeconfigDoc | null) ?? {};
}

/** Writes the document; the mode is set explicitly because `mode` only applies to new files. */
function save(path: string, doc: KubeconfigDoc): void {
  writeFileSync(path, YAML.stringify(doc), { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** Removes context `name` (and the cluster and user it names) from the kubeconfig at `path`. */
export function removeKubeconfigContext(path: string, name: string): void {
  if (!existsSync(path)) return;
  const doc = load(path);
  const ctx = doc.contexts?.find((c) => c.name === name)?.context as { cluster?: string; user?: string } | undefined;
  doc.contexts = doc.contexts?.filter((c) => c.name !== name);
  if (ctx?.cluster) doc.clusters = doc.clusters?.filter((c) => c.name !== ctx.cluster);
  if (ctx?.user) doc.users = doc.users?.filter((u) => u.name !== ctx.user);
  if (doc['current-context'] === name) doc['current-context'] = '';
  save(path, doc);
}

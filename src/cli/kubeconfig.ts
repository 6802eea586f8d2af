/**
 * Merging clusterip's entries into a user's kubeconfig (and removing them), the way `kind` does:
 * cluster, user and context named `clusterip-<name>`, current-context switched to it. Written mode
 * 0600 because it carries a credential.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
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

function upsert(list: Named<unknown>[] | undefined, entry: Named<unknown>): Named<unknown>[] {
  return [...(list ?? []).filter((e) => e.name !== entry.name), entry];
}

/**
 * Writes (or merges) one cluster's entries into the kubeconfig at `path`.
 * `entries` holds a standalone kubeconfig document for the cluster (as the API server's PKI writes it).
 */
export function mergeKubeconfig(path: string, standalone: string, makeCurrent = true): void {
  const add = YAML.parse(standalone) as KubeconfigDoc;
  const doc = load(path);
  for (const c of add.clusters ?? []) doc.clusters = upsert(doc.clusters, c);
  for (const u of add.users ?? []) doc.users = upsert(doc.users, u);
  for (const x of add.contexts ?? []) doc.contexts = upsert(doc.contexts, x);
  doc.apiVersion ??= 'v1';
  doc.kind ??= 'Config';
  if (makeCurrent && add['current-context']) doc['current-context'] = add['current-context'];
  mkdirSync(dirname(path), { recursive: true });
  save(path, doc);
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

/**
 * Writes a kubeconfig for the admin user: cluster `clusterip-<name>`, user `clusterip-<name>-admin`,
 * context `clusterip-<name>`, with the CA, client certificate/key and bearer token embedded. Written
 * mode 0600. With `merge`, entries of an existing file are kept and ours replace same-named ones,
 * the way `kind` and `minikube` merge into ~/.kube/config.
 */
import { readFile, writeFile, chmod, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import YAML from 'yaml';
import type { Pki } from './pki.js';

/** Options of {@link writeKubeconfig}. */
export interface KubeconfigOptions {
  /** Cluster name; the context is `clusterip-<name>`. Default "default". */
  name?: string;
  /** Server URL, e.g. https://127.0.0.1:6443. */
  server: string;
  /** Keep other clusters/users/contexts of an existing file (default false: overwrite). */
  merge?: boolean;
  /** Make our context current (default true). */
  setCurrent?: boolean;
}

type Named = { name: string; [k: string]: unknown };
interface KubeconfigDoc {
  apiVersion: string; kind: string; preferences?: object;
  clusters: Named[]; users: Named[]; contexts: Named[];
  'current-context'?: string;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** Builds the kubeconfig document (pure). */
export function buildKubeconfig(pki: Pick<Pki, 'caCert' | 'adminCert' | 'adminKey' | 'adminToken'>, opts: KubeconfigOptions): KubeconfigDoc {
  const ctx = `clusterip-${opts.name ?? 'default'}`;
  return {
    apiVersion: 'v1', kind: 'Config', preferences: {},
    clusters: [{ name: ctx, cluster: { server: opts.server, 'certificate-authority-data': b64(pki.caCert) } }],
    users: [{ name: `${ctx}-admin`, user: {
      'client-certificate-data': b64(pki.adminCert), 'client-key-data': b64(pki.adminKey), token: pki.adminToken,
    } }],
    contexts: [{ name: ctx, context: { cluster: ctx, user: `${ctx}-admin`, namespace: 'default' } }],
    'current-context': ctx,
  };
}

function mergeNamed(old: Named[] | undefined, ours: Named[]): Named[] {
  const names = new Set(ours.map((x) => x.name));
  return [...(old ?? []).filter((x) => !names.has(x.name)), ...ours];
}

/** Writes (or merges) the kubeconfig at `path`, mode 0600. Returns the context name. */
export async function writeKubeconfig(path: string, pki: Pick<Pki, 'caCert' | 'adminCert' | 'adminKey' | 'adminToken'>, opts: KubeconfigOptions): Promise<string> {
  let doc = buildKubeconfig(pki, opts);
  if (opts.merge) {
    let old: Partial<KubeconfigDoc> | undefined;
    try { old = YAML.parse(await readFile(path, 'utf8')) ?? undefined; } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (old) {
      doc = {
        ...old, apiVersion: 'v1', kind: 'Config',
        clusters: mergeNamed(old.clusters, doc.clusters), users: mergeNamed(old.users, doc.users),
        contexts: mergeNamed(old.contexts, doc.contexts),
        'current-context': opts.setCurrent === false && old['current-context'] ? old['current-context'] : doc['current-context'],
      };
    }
  }
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, YAML.stringify(doc), { mode: 0o600 });
  await chmod(path, 0o600);
  return doc['current-context']!;
}

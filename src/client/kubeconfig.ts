/**
 * The kubeconfig file, the one module that reads and writes it: `writeKubeconfig` (what `up` and
 * the test harnesses write: cluster `clusterip-<name>`, user `clusterip-<name>-admin`, context
 * `clusterip-<name>`, CA, client certificate/key and bearer token embedded), merged into an
 * existing file the way `kind` and `minikube` merge into ~/.kube/config; `removeKubeconfigContext`
 * (`down --purge`); `readKubeconfig` (a context's server and credentials, for the HTTP client).
 * Files are written mode 0600 because they carry credentials.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import YAML from 'yaml';

/** The admin credentials embedded in a kubeconfig (PEM text and a token), as the cluster's PKI holds them. */
export interface KubeconfigCredentials {
  caCert: string;
  adminCert: string;
  adminKey: string;
  adminToken: string;
}

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

type Named<T = Record<string, unknown>> = { name: string } & T;
interface ClusterEntry { server: string; 'certificate-authority-data'?: string; 'certificate-authority'?: string }
interface UserEntry { token?: string; 'client-certificate-data'?: string; 'client-key-data'?: string; 'client-certificate'?: string; 'client-key'?: string }
interface ContextEntry { cluster: string; user: string; namespace?: string }

/** A kubeconfig document (the parts clusterip reads and writes; other keys are kept as they are). */
export interface KubeconfigDoc {
  apiVersion?: string;
  kind?: string;
  preferences?: object;
  clusters?: Named<{ cluster: ClusterEntry }>[];
  users?: Named<{ user: UserEntry }>[];
  contexts?: Named<{ context: ContextEntry }>[];
  'current-context'?: string;
  [key: string]: unknown;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** Builds the kubeconfig document of one cluster (pure). */
export function buildKubeconfig(creds: KubeconfigCredentials, opts: KubeconfigOptions): KubeconfigDoc {
  const ctx = `clusterip-${opts.name ?? 'default'}`;
  return {
    apiVersion: 'v1', kind: 'Config', preferences: {},
    clusters: [{ name: ctx, cluster: { server: opts.server, 'certificate-authority-data': b64(creds.caCert) } }],
    users: [{ name: `${ctx}-admin`, user: {
      'client-certificate-data': b64(creds.adminCert), 'client-key-data': b64(creds.adminKey), token: creds.adminToken,
    } }],
    contexts: [{ name: ctx, context: { cluster: ctx, user: `${ctx}-admin`, namespace: 'default' } }],
    'current-context': ctx,
  };
}

function mergeNamed<T extends { name: string }>(old: T[] | undefined, ours: T[]): T[] {
  const names = new Set(ours.map((x) => x.name));
  return [...(old ?? []).filter((x) => !names.has(x.name)), ...ours];
}

/** Writes (or merges) the kubeconfig at `path`, mode 0600. Returns the context name. */
export async function writeKubeconfig(path: string, creds: KubeconfigCredentials, opts: KubeconfigOptions): Promise<string> {
  let doc = buildKubeconfig(creds, opts);
  if (opts.merge) {
    let old: KubeconfigDoc | undefined;
    try { old = (YAML.parse(await readFile(path, 'utf8')) as KubeconfigDoc | null) ?? undefined; } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (old) {
      doc = {
        ...old, apiVersion: 'v1', kind: 'Config',
        clusters: mergeNamed(old.clusters, doc.clusters!), users: mergeNamed(old.users, doc.users!),
        contexts: mergeNamed(old.contexts, doc.contexts!),
        'current-context': opts.setCurrent === false && old['current-context'] ? old['current-context'] : doc['current-context'],
      };
    }
  }
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, YAML.stringify(doc), { mode: 0o600 });
  // `mode` applies only to a new file.
  await chmod(path, 0o600);
  return doc['current-context']!;
}

/** Removes context `name` (and the cluster and user it names) from the kubeconfig at `path`. */
export function removeKubeconfigContext(path: string, name: string): void {
  if (!existsSync(path)) return;
  const doc = (YAML.parse(readFileSync(path, 'utf8')) as KubeconfigDoc | null) ?? {};
  const ctx = doc.contexts?.find((c) => c.name === name)?.context;
  doc.contexts = doc.contexts?.filter((c) => c.name !== name);
  if (ctx?.cluster) doc.clusters = doc.clusters?.filter((c) => c.name !== ctx.cluster);
  if (ctx?.user) doc.users = doc.users?.filter((u) => u.name !== ctx.user);
  if (doc['current-context'] === name) doc['current-context'] = '';
  writeFileSync(path, YAML.stringify(doc), { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** A context's server and credentials, with files referenced by path already read. */
export interface KubeconfigConnection {
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
  namespace?: string;
}

/** Reads the kubeconfig at `path` and resolves `context` (default: the current context). */
export async function readKubeconfig(path: string, context?: string): Promise<KubeconfigConnection> {
  const doc = (YAML.parse(await readFile(path, 'utf8')) as KubeconfigDoc | null) ?? {};
  const ctxName = context ?? doc['current-context'];
  const ctx = doc.contexts?.find((c) => c.name === ctxName)?.context;
  if (!ctx) throw new TypeError(`kubeconfig ${path}: context "${ctxName}" not found`);
  const cluster = doc.clusters?.find((c) => c.name === ctx.cluster)?.cluster;
  const user = doc.users?.find((u) => u.name === ctx.user)?.user ?? {};
  if (!cluster) throw new TypeError(`kubeconfig ${path}: cluster "${ctx.cluster}" not found`);
  // Relative file paths in a kubeconfig are relative to the file itself.
  const data = async (inline?: string, file?: string): Promise<Buffer | undefined> =>
    inline ? Buffer.from(inline, 'base64') : file ? readFile(resolvePath(dirname(path), file)) : undefined;
  return {
    server: cluster.server,
    ca: await data(cluster['certificate-authority-data'], cluster['certificate-authority']),
    cert: await data(user['client-certificate-data'], user['client-certificate']),
    key: await data(user['client-key-data'], user['client-key']),
    token: user.token,
    namespace: ctx.namespace,
  };
}

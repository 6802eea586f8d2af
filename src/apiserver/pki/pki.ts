/**
 * The cluster's certificate authority, serving certificate, admin client certificate and admin
 * bearer token, kept in `<stateDir>/pki`. Made in-process by src/certs/x509.ts (EC P-256 keys,
 * PEM certificates and PKCS#8 keys). They are reused on later starts, so only the first start pays for generation, and
 * directories made by earlier versions (with the `openssl` CLI, same layout and formats) keep
 * working as they are. Every key and the token file are mode 0600.
 */
import { randomBytes } from 'node:crypto';
import { access, chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { coversSans, newCa, newLeaf, type CertKeyPair } from '../../certs/x509.js';

/** Subject alternative names of the serving certificate (kubeadm's set plus loopback). */
export const SERVING_SANS: readonly string[] = [
  'DNS:localhost', 'DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc',
  'DNS:kubernetes.default.svc.cluster.local', 'IP:127.0.0.1', 'IP:10.96.0.1',
];

/** The admin identity: client certificate subject and token user. */
export const ADMIN_USER = 'clusterip-admin';
/** Group that the admin identity belongs to (Kubernetes' superuser group). */
export const ADMIN_GROUP = 'system:masters';

/** PEM material of a cluster, as loaded from (or written to) `<stateDir>/pki`. */
export interface Pki {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  adminCert: string;
  adminKey: string;
  /** Bearer token of the admin user (also in the kubeconfig). */
  adminToken: string;
}

async function exists(p: string): Promise<boolean> {
  try { await access(p); return true; } catch { return false; }
}

/** Writes `content` atomically (a crash leaves the old file or the new one, never half). */
async function writeAtomic(path: string, content: string, mode: number): Promise<void> {
  await writeFile(`${path}.tmp`, content, { mode });
  await rename(`${path}.tmp`, path);
}

/** Options of {@link ensurePki}. */
export interface PkiOptions {
  /**
   * Subject alternative names the serving certificate must carry besides {@link SERVING_SANS}
   * (`IP:`/`DNS:` entries: the address other machines reach this API server at, the first address of
   * a non-default Service CIDR). A certificate that lacks one is made again with the same CA.
   */
  sans?: readonly string[];
  /**
   * The cluster's CA and admin token when they come from elsewhere (a second API server of a
   * cluster gets them from the first): written when the directory has no CA yet; a directory whose
   * CA differs is refused.
   */
  shared?: { ca: CertKeyPair; adminToken: string };
}

/**
 * Loads the PKI from `<stateDir>/pki`, creating whatever is missing (a new CA also renews the
 * certificates it signs). Generation takes a few ms; a restart only reads files.
 */
export async function ensurePki(stateDir: string, opts: PkiOptions = {}): Promise<Pki> {
  const dir = join(stateDir, 'pki');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const f = (n: string): string => join(dir, n);
  const has = async (name: string): Promise<boolean> => (await exists(f(`${name}.crt`))) && (await exists(f(`${name}.key`)));
  // Key first, then certificate: a crash in between leaves a key without certificate, which is made again.
  const save = async (name: string, pair: CertKeyPair): Promise<void> => {
    await writeAtomic(f(`${name}.key`), pair.key, 0o600);
    await writeAtomic(f(`${name}.crt`), pair.cert, 0o644);
  };
  let renew = false;
  if (!(await has('ca'))) {
    await save('ca', opts.shared?.ca ?? await newCa('clusterip-ca'));
    if (opts.shared) await writeAtomic(f('admin.token'), opts.shared.adminToken + '\n', 0o600);
    renew = true;
  }
  const ca: CertKeyPair = { cert: await readFile(f('ca.crt'), 'utf8'), key: await readFile(f('ca.key'), 'utf8') };
  if (opts.shared && opts.shared.ca.cert.trim() !== ca.cert.trim()) {
    throw new Error(`${dir} holds another cluster's CA; use an empty --state-dir for an API server of this cluster`);
  }
  const sans = [...SERVING_SANS, ...(opts.sans ?? []).filter((s) => !SERVING_SANS.includes(s))];
  // The two leaves at once: key generation and signing run on libuv's thread pool.
  await Promise.all([
    (async () => {
      if (renew || !(await has('apiserver')) || !coversSans(await readFile(f('apiserver.crt'), 'utf8'), sans)) {
        await save('apiserver', await newLeaf(ca, { subject: { CN: 'kube-apiserver' }, usages: ['serverAuth'], sans }));
      }
    })(),
    (async () => {
      if (renew || !(await has('admin'))) {
        await save('admin', await newLeaf(ca, { subject: { CN: ADMIN_USER, O: [ADMIN_GROUP] }, usages: ['clientAuth'] }));
      }
    })(),
  ]);
  if (!(await exists(f('admin.token')))) {
    await writeAtomic(f('admin.token'), randomBytes(24).toString('hex') + '\n', 0o600);
  }
  for (const n of ['ca.key', 'apiserver.key', 'admin.key', 'admin.token']) await chmod(f(n), 0o600);
  const [serverCert, serverKey, adminCert, adminKey, token] = await Promise.all(
    ['apiserver.crt', 'apiserver.key', 'admin.crt', 'admin.key', 'admin.token'].map((n) => readFile(f(n), 'utf8')));
  return { dir, caCert: ca.cert, caKey: ca.key, serverCert, serverKey, adminCert, adminKey, adminToken: token.trim() };
}

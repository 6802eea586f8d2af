/**
 * The cluster's certificate authority, serving certificate, admin client certificate and admin
 * bearer token, kept in `<stateDir>/pki`. Keys and certificates are made with the `openssl` CLI
 * (Node's crypto can make keys but cannot sign X.509 certificates) and reused on later starts, so
 * only the first start pays for generation. Every key and the token file are mode 0600.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile, chmod, access } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

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

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function serial(): string {
  return '0x' + randomBytes(16).toString('hex').replace(/^[89a-f]/, '1');
}

/**
 * Loads the PKI from `<stateDir>/pki`, creating whatever is missing. Generation takes ~50 ms
 * (EC P-256 keys); a restart only reads files.
 */
export async function ensurePki(stateDir: string): Promise<Pki> {
  const dir = join(stateDir, 'pki');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const f = (n: string): string => join(dir, n);
  if (!(await exists(f('ca.crt'))) || !(await exists(f('ca.key')))) {
    await run('openssl', ['req', '-x509', ...EC, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '3650',
      '-subj', '/CN=clusterip-ca', '-set_serial', serial(),
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature']);
  }
  const leaf = async (name: string, subj: string, ext: string[]): Promise<void> => {
    if ((await exists(f(`${name}.crt`))) && (await exists(f(`${name}.key`)))) return;
    // OpenSSL 3's `req -x509 -CA` signs with the CA in one step.
    await run('openssl', ['req', '-x509', ...EC, '-keyout', f(`${name}.key`), '-out', f(`${name}.crt`), '-days', '3650',
      '-subj', subj, '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-set_serial', serial(),
      ...ext.flatMap((e) => ['-addext', e])]);
  };
  await Promise.all([
    leaf('apiserver', '/CN=kube-apiserver', ['basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth',
      `subjectAltName=${SERVING_SANS.join(',')}`]),
    leaf('admin', `/O=${ADMIN_GROUP}/CN=${ADMIN_USER}`, ['basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=clientAuth']),
  ]);
  if (!(await exists(f('admin.token')))) {
    await writeFile(f('admin.token'), randomBytes(24).toString('hex') + '\n', { mode: 0o600 });
  }
  for (const n of ['ca.key', 'apiserver.key', 'admin.key', 'admin.token']) await chmod(f(n), 0o600);
  const [caCert, caKey, serverCert, serverKey, adminCert, adminKey, token] = await Promise.all(
    ['ca.crt', 'ca.key', 'apiserver.crt', 'apiserver.key', 'admin.crt', 'admin.key', 'admin.token'].map((n) => readFile(f(n), 'utf8')));
  return { dir, caCert, caKey, serverCert, serverKey, adminCert, adminKey, adminToken: token.trim() };
}

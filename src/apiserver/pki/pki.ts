/**
 * The cluster's certificate authority, serving certificate, admin client certificate and admin
 * bearer token, kept in `<stateDir>/pki`. Made in-process: keys with WebCrypto (EC P-256), X.509
 * certificates with @peculiar/x509 (Node's crypto can make keys but cannot sign certificates),
 * written as PEM (certificates; keys as unencrypted PKCS#8, which kubectl, Node and Python's ssl all
 * read). They are reused on later starts, so only the first start pays for generation, and
 * directories made by earlier versions (with the `openssl` CLI, same layout and formats) keep
 * working as they are. Every key and the token file are mode 0600.
 */
import { randomBytes, webcrypto } from 'node:crypto';
import { access, chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Subject alternative names of the serving certificate (kubeadm's set plus loopback). */
export const SERVING_SANS: readonly string[] = [
  'DNS:localhost', 'DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc',
  'DNS:kubernetes.default.svc.cluster.local', 'IP:127.0.0.1', 'IP:10.96.0.1',
];

/** The admin identity: client certificate subject and token user. */
export const ADMIN_USER = 'clusterip-admin';
/** Group that the admin identity belongs to (Kubernetes' superuser group). */
export const ADMIN_GROUP = 'system:masters';

/** Validity of every certificate made here (as the earlier openssl-made ones: 10 years). */
const VALIDITY_DAYS = 3650;

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

type X509 = typeof import('@peculiar/x509');
const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/**
 * The library, loaded only when something must be generated (a restart only reads files, so it
 * never pays for loading it). tsyringe, which @peculiar/x509 uses inside, needs the Reflect
 * metadata polyfill loaded first.
 */
async function loadX509(): Promise<X509> {
  await import('reflect-metadata');
  const mod = await import('@peculiar/x509');
  // Loaded as CommonJS (bundled, or by Node), the named exports may sit under `default`.
  const x509 = ('cryptoProvider' in mod ? mod : (mod as unknown as { default: X509 }).default) as X509;
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  return x509;
}

/** A positive 128-bit serial number (hex; first bit clear so DER does not read it as negative). */
function serial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x10;
  return b.toString('hex');
}

/** Validity from one minute ago (tolerates a little clock skew), for VALIDITY_DAYS. */
function validity(): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  return { notBefore: new Date(now - 60_000), notAfter: new Date(now + VALIDITY_DAYS * 86_400_000) };
}

async function keyPem(x509: X509, key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key as webcrypto.CryptoKey), 'PRIVATE KEY') + '\n';
}

async function importKey(x509: X509, pem: string): Promise<CryptoKey> {
  return (await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(pem), EC, true, ['sign'])) as unknown as CryptoKey;
}

async function newKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
}

async function makeCa(x509: X509): Promise<{ cert: string; key: string }> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(), name: [{ CN: ['clusterip-ca'] }], ...validity(), signingAlgorithm: EC, keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem') + '\n', key: await keyPem(x509, keys.privateKey) };
}

async function makeLeaf(x509: X509, caCertPem: string, caKeyPem: string, name: import('@peculiar/x509').JsonName, usage: 'serverAuth' | 'clientAuth', sans: readonly string[] = []): Promise<{ cert: string; key: string }> {
  const ca = new x509.X509Certificate(caCertPem);
  const keys = await newKeys();
  const extensions: import('@peculiar/x509').Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension([usage === 'serverAuth' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(ca),
  ];
  if (sans.length) {
    extensions.push(new x509.SubjectAlternativeNameExtension(sans.map((s) => (s.startsWith('IP:')
      ? { type: 'ip' as const, value: s.slice(3) } : { type: 'dns' as const, value: s.slice(4) }))));
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(), subject: name, issuer: ca.subject, ...validity(), signingAlgorithm: EC,
    publicKey: keys.publicKey, signingKey: await importKey(x509, caKeyPem), extensions,
  });
  return { cert: cert.toString('pem') + '\n', key: await keyPem(x509, keys.privateKey) };
}

/**
 * Loads the PKI from `<stateDir>/pki`, creating whatever is missing (a new CA also renews the
 * certificates it signs). Generation takes a few ms; a restart only reads files.
 */
export async function ensurePki(stateDir: string): Promise<Pki> {
  const dir = join(stateDir, 'pki');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const f = (n: string): string => join(dir, n);
  const has = async (name: string): Promise<boolean> => (await exists(f(`${name}.crt`))) && (await exists(f(`${name}.key`)));
  let x509: Promise<X509> | undefined;
  // Key first, then certificate: a crash in between leaves a key without certificate, which is made again.
  const save = async (name: string, pair: { cert: string; key: string }): Promise<void> => {
    await writeAtomic(f(`${name}.key`), pair.key, 0o600);
    await writeAtomic(f(`${name}.crt`), pair.cert, 0o644);
  };
  const lib = (): Promise<X509> => (x509 ??= loadX509());
  let newCa = false;
  if (!(await has('ca'))) {
    await save('ca', await makeCa(await lib()));
    newCa = true;
  }
  const [caCertPem, caKeyPem] = await Promise.all([readFile(f('ca.crt'), 'utf8'), readFile(f('ca.key'), 'utf8')]);
  // The two leaves at once: key generation and signing run on libuv's thread pool.
  await Promise.all([
    (async () => {
      if (newCa || !(await has('apiserver'))) {
        await save('apiserver', await makeLeaf(await lib(), caCertPem, caKeyPem, [{ CN: ['kube-apiserver'] }], 'serverAuth', SERVING_SANS));
      }
    })(),
    (async () => {
      if (newCa || !(await has('admin'))) {
        await save('admin', await makeLeaf(await lib(), caCertPem, caKeyPem, [{ O: [ADMIN_GROUP] }, { CN: [ADMIN_USER] }], 'clientAuth'));
      }
    })(),
  ]);
  if (!(await exists(f('admin.token')))) {
    await writeAtomic(f('admin.token'), randomBytes(24).toString('hex') + '\n', 0o600);
  }
  for (const n of ['ca.key', 'apiserver.key', 'admin.key', 'admin.token']) await chmod(f(n), 0o600);
  const [serverCert, serverKey, adminCert, adminKey, token] = await Promise.all(
    ['apiserver.crt', 'apiserver.key', 'admin.crt', 'admin.key', 'admin.token'].map((n) => readFile(f(n), 'utf8')));
  return { dir, caCert: caCertPem, caKey: caKeyPem, serverCert, serverKey, adminCert, adminKey, adminToken: token.trim() };
}

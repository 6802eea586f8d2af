/**
 * X.509 certificates made in-process, for every layer that needs one (the cluster CA and its
 * leaves in src/apiserver/pki, the etcd PKI in src/storage/etcd, the certificates joining nodes ask
 * for in src/cluster/join): EC P-256 keys with WebCrypto and certificates / certificate requests
 * with @peculiar/x509, because Node's own crypto can make keys but cannot sign certificates. Keys
 * are PEM PKCS#8 (what kubectl, Node, Go and Python's ssl all read), certificates PEM.
 *
 * The library is loaded on first use only (a restart that reuses its files never pays for it).
 */
import { createHash, randomBytes, webcrypto, X509Certificate } from 'node:crypto';

type X509 = typeof import('@peculiar/x509');
const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** Validity of every certificate made here unless told otherwise: 10 years (as the cluster CA always had). */
export const DEFAULT_VALIDITY_DAYS = 3650;

/** A certificate and its private key, both PEM. */
export interface CertKeyPair {
  cert: string;
  key: string;
}

/** A distinguished name: common name and organizations (Kubernetes reads O as the user's groups). */
export interface Subject {
  CN: string;
  O?: readonly string[];
}

/** What a leaf certificate may be used for (extended key usage). */
export type Usage = 'serverAuth' | 'clientAuth';

let lib: Promise<X509> | undefined;

/**
 * The library. tsyringe, which @peculiar/x509 uses inside, needs the Reflect metadata polyfill
 * loaded first; loaded as CommonJS (bundled, or by Node) the named exports may sit under `default`.
 */
function x509(): Promise<X509> {
  return lib ??= (async () => {
    await import('reflect-metadata');
    const mod = await import('@peculiar/x509');
    const x = ('cryptoProvider' in mod ? mod : (mod as unknown as { default: X509 }).default) as X509;
    x.cryptoProvider.set(webcrypto as unknown as Crypto);
    return x;
  })();
}

/** A positive 128-bit serial number (hex; first bit clear so DER does not read it as negative). */
function serial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x10;
  return b.toString('hex');
}

/** Validity from one minute ago (tolerates a little clock skew between machines). */
function validity(days: number): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  return { notBefore: new Date(now - 60_000), notAfter: new Date(now + days * 86_400_000) };
}

function name(s: Subject): import('@peculiar/x509').JsonName {
  return [...(s.O ?? []).map((o) => ({ O: [o] })), { CN: [s.CN] }];
}

async function keyPem(x: X509, key: CryptoKey): Promise<string> {
  return x.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key as webcrypto.CryptoKey), 'PRIVATE KEY') + '\n';
}

async function importKey(x: X509, pem: string): Promise<CryptoKey> {
  return (await webcrypto.subtle.importKey('pkcs8', x.PemConverter.decodeFirst(pem), EC, true, ['sign'])) as unknown as CryptoKey;
}

async function newKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
}

/** `DNS:name` / `IP:address` strings (the openssl notation) as SAN entries. */
function sanEntries(sans: readonly string[]): { type: 'ip' | 'dns'; value: string }[] {
  return sans.map((s) => {
    if (s.startsWith('IP:')) return { type: 'ip' as const, value: s.slice(3) };
    if (s.startsWith('DNS:')) return { type: 'dns' as const, value: s.slice(4) };
    throw new TypeError(`subject alternative name ${JSON.stringify(s)} must start with DNS: or IP:`);
  });
}

/** A self-signed CA certificate (EC P-256) for `commonName`. */
export async function newCa(commonName: string, opts: { validityDays?: number } = {}): Promise<CertKeyPair> {
  const x = await x509();
  const keys = await newKeys();
  const cert = await x.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(), name: [{ CN: [commonName] }], ...validity(opts.validityDays ?? DEFAULT_VALIDITY_DAYS), signingAlgorithm: EC, keys,
    extensions: [
      new x.BasicConstraintsExtension(true, undefined, true),
      new x.KeyUsagesExtension(x.KeyUsageFlags.keyCertSign | x.KeyUsageFlags.cRLSign | x.KeyUsageFlags.digitalSignature, true),
      await x.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem') + '\n', key: await keyPem(x, keys.privateKey) };
}

/** Options of a certificate signed by a CA. */
export interface LeafOptions {
  subject: Subject;
  usages: readonly Usage[];
  /** `DNS:name` / `IP:address` entries. */
  sans?: readonly string[];
  validityDays?: number;
}

async function sign(x: X509, ca: CertKeyPair, publicKey: CryptoKey, o: LeafOptions): Promise<string> {
  const caCert = new x.X509Certificate(ca.cert);
  const extensions: import('@peculiar/x509').Extension[] = [
    new x.BasicConstraintsExtension(false, undefined, true),
    new x.KeyUsagesExtension(x.KeyUsageFlags.digitalSignature | x.KeyUsageFlags.keyEncipherment, true),
    new x.ExtendedKeyUsageExtension(o.usages.map((u) => (u === 'serverAuth' ? x.ExtendedKeyUsage.serverAuth : x.ExtendedKeyUsage.clientAuth))),
    await x.SubjectKeyIdentifierExtension.create(publicKey),
    await x.AuthorityKeyIdentifierExtension.create(caCert),
  ];
  if (o.sans?.length) extensions.push(new x.SubjectAlternativeNameExtension(sanEntries(o.sans)));
  const cert = await x.X509CertificateGenerator.create({
    serialNumber: serial(), subject: name(o.subject), issuer: caCert.subject, ...validity(o.validityDays ?? DEFAULT_VALIDITY_DAYS),
    signingAlgorithm: EC, publicKey, signingKey: await importKey(x, ca.key), extensions,
  });
  return cert.toString('pem') + '\n';
}

/** A new key pair and a certificate for it signed by `ca`. */
export async function newLeaf(ca: CertKeyPair, o: LeafOptions): Promise<CertKeyPair> {
  const x = await x509();
  const keys = await newKeys();
  return { cert: await sign(x, ca, keys.publicKey, o), key: await keyPem(x, keys.privateKey) };
}

/** A new key pair and a PKCS#10 certificate signing request for `subject` (the key never leaves its maker). */
export async function newCsr(subject: Subject): Promise<{ csr: string; key: string }> {
  const x = await x509();
  const keys = await newKeys();
  const req = await x.Pkcs10CertificateRequestGenerator.create({ name: name(subject), keys, signingAlgorithm: EC });
  return { csr: req.toString('pem') + '\n', key: await keyPem(x, keys.privateKey) };
}

/**
 * Signs the public key of a certificate signing request. The request's own subject and extensions
 * are ignored: the signer decides them (`o`), as Kubernetes' CSR signers do. Throws a TypeError
 * when `csrPem` is not a request whose signature verifies (proof that its sender holds the key).
 */
export async function signCsr(ca: CertKeyPair, csrPem: string, o: LeafOptions): Promise<string> {
  const x = await x509();
  let req: import('@peculiar/x509').Pkcs10CertificateRequest;
  try {
    req = new x.Pkcs10CertificateRequest(csrPem);
  } catch (e) {
    throw new TypeError(`not a PEM certificate signing request: ${(e as Error).message}`);
  }
  if (!(await req.verify())) throw new TypeError('the certificate signing request\'s signature does not verify');
  const publicKey = await req.publicKey.export(EC, ['verify'], webcrypto as unknown as Crypto);
  return sign(x, ca, publicKey, o);
}

/** True when `certPem` covers every `DNS:`/`IP:` entry of `sans` (Node's own parser; no library load). */
export function coversSans(certPem: string, sans: readonly string[]): boolean {
  const c = new X509Certificate(certPem);
  return sans.every((s) => (s.startsWith('IP:') ? c.checkIP(s.slice(3)) !== undefined : c.checkHost(s.slice(4), { wildcards: false }) !== undefined));
}

/** True when `certPem` was signed by the CA `caPem` and is valid now. */
export function signedBy(certPem: string, caPem: string, now = new Date()): boolean {
  try {
    const c = new X509Certificate(certPem);
    return c.verify(new X509Certificate(caPem).publicKey) && new Date(c.validFrom) <= now && now < new Date(c.validTo);
  } catch {
    return false;
  }
}

/**
 * kubeadm's CA pin: `sha256:` + the hex SHA-256 of the CA certificate's DER SubjectPublicKeyInfo
 * (what `--discovery-token-ca-cert-hash` carries; `openssl x509 -pubkey | openssl pkey -pubin
 * -outform der | sha256sum` prints the same).
 */
export function spkiHash(caPem: string): string {
  const der = new X509Certificate(caPem).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}

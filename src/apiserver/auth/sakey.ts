/**
 * The key that signs ServiceAccount tokens (kube-apiserver's --service-account-signing-key-file,
 * kubeadm's pki/sa.key): an EC P-256 key (ES256), kept as `<pki dir>/sa.key` (PKCS#8 PEM, 0600)
 * beside `sa.pub` (SPKI PEM), made on the first start and reused after, so tokens outlive a restart.
 * Its key id is Kubernetes' own: the base64url SHA-256 of the public key's DER (keyIDFromPublicKey),
 * which is what /openid/v1/jwks publishes and every token's header names.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A signing key and what verifiers need of it. */
export interface ServiceAccountKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** JWS `kid`: base64url(SHA-256(SPKI DER)). */
  readonly kid: string;
  readonly alg: 'ES256';
}

function fromPrivate(privateKey: KeyObject): ServiceAccountKey {
  const publicKey = createPublicKey(privateKey);
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return { privateKey, publicKey, kid: createHash('sha256').update(der).digest('base64url'), alg: 'ES256' };
}

/** A new in-memory key (tests, or an API core without a state directory). */
export function generateServiceAccountKey(): ServiceAccountKey {
  return fromPrivate(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
}

/** Loads `<dir>/sa.key`, or makes it (and `sa.pub`) when missing. */
export async function ensureServiceAccountKey(dir: string, shared?: string): Promise<ServiceAccountKey> {
  const keyPath = join(dir, 'sa.key');
  if (shared) {
    // The key of the cluster's first API server: kept as this server's own (replacing any other).
    const key = fromPrivate(createPrivateKey(shared));
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(join(dir, 'sa.pub'), key.publicKey.export({ type: 'spki', format: 'pem' }) as string, { mode: 0o644 });
    await writeFile(`${keyPath}.tmp`, shared, { mode: 0o600 });
    await rename(`${keyPath}.tmp`, keyPath);
    return key;
  }
  try {
    const key = fromPrivate(createPrivateKey(await readFile(keyPath, 'utf8')));
    await chmod(keyPath, 0o600);
    return key;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read the service account signing key ${keyPath}: ${(e as Error).message}`);
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const key = generateServiceAccountKey();
  // Public half first, private last (atomically): a crash leaves no key, or a whole one.
  await writeFile(join(dir, 'sa.pub'), key.publicKey.export({ type: 'spki', format: 'pem' }) as string, { mode: 0o644 });
  await writeFile(`${keyPath}.tmp`, key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
  await rename(`${keyPath}.tmp`, keyPath);
  return key;
}

/**
 * Certificates for an etcd this project runs itself (`--embedded-etcd`, and the tests' etcd
 * clusters): its own CA (as kubeadm keeps etcd/ca apart from the cluster CA), one serving + peer
 * certificate for the members, and the API server's client certificate. Made in-process by
 * src/certs/x509.ts, reused when present, keys mode 0600.
 */
import { access, chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { coversSans, newCa, newLeaf, type CertKeyPair } from '../../certs/x509.js';

/** File paths of an etcd PKI. */
export interface EtcdPki {
  caFile: string;
  /** Serving and peer certificate of the members (SANs 127.0.0.1, localhost, plus any asked for). */
  serverCertFile: string;
  serverKeyFile: string;
  /** The API server's client certificate (CN=clusterip-apiserver-etcd-client). */
  clientCertFile: string;
  clientKeyFile: string;
}

/** SANs every member certificate carries. */
const LOOPBACK_SANS = ['IP:127.0.0.1', 'DNS:localhost'];

async function exists(p: string): Promise<boolean> {
  try { await access(p); return true; } catch { return false; }
}

async function save(dir: string, name: string, pair: CertKeyPair): Promise<void> {
  // Key first, then certificate: a crash in between leaves a key without certificate, which is made again.
  for (const [ext, content, mode] of [['key', pair.key, 0o600], ['crt', pair.cert, 0o644]] as const) {
    const p = join(dir, `${name}.${ext}`);
    await writeFile(`${p}.tmp`, content, { mode });
    await rename(`${p}.tmp`, p);
  }
}

/**
 * Loads or creates the etcd PKI in `dir` (a few ms the first time). `sans` (`IP:`/`DNS:` entries)
 * are added to the members' certificate, e.g. the address other machines reach etcd at; a
 * certificate lacking one is made again.
 */
export async function ensureEtcdPki(dir: string, opts: { sans?: readonly string[] } = {}): Promise<EtcdPki> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const f = (n: string): string => join(dir, n);
  const has = async (name: string): Promise<boolean> => (await exists(f(`${name}.crt`))) && (await exists(f(`${name}.key`)));
  let renew = false;
  if (!(await has('ca'))) {
    await save(dir, 'ca', await newCa('clusterip-etcd-ca'));
    renew = true;
  }
  const ca: CertKeyPair = { cert: await readFile(f('ca.crt'), 'utf8'), key: await readFile(f('ca.key'), 'utf8') };
  const sans = [...LOOPBACK_SANS, ...(opts.sans ?? []).filter((s) => !LOOPBACK_SANS.includes(s))];
  await Promise.all([
    (async () => {
      // Members use one certificate to serve clients and to talk to each other (peer TLS is mutual).
      if (renew || !(await has('server')) || !coversSans(await readFile(f('server.crt'), 'utf8'), sans)) {
        await save(dir, 'server', await newLeaf(ca, { subject: { CN: 'clusterip-etcd' }, usages: ['serverAuth', 'clientAuth'], sans }));
      }
    })(),
    (async () => {
      if (renew || !(await has('apiserver-etcd-client'))) {
        await save(dir, 'apiserver-etcd-client', await newLeaf(ca, { subject: { CN: 'clusterip-apiserver-etcd-client' }, usages: ['clientAuth'] }));
      }
    })(),
  ]);
  for (const n of ['ca.key', 'server.key', 'apiserver-etcd-client.key']) await chmod(f(n), 0o600);
  return {
    caFile: f('ca.crt'), serverCertFile: f('server.crt'), serverKeyFile: f('server.key'),
    clientCertFile: f('apiserver-etcd-client.crt'), clientKeyFile: f('apiserver-etcd-client.key'),
  };
}

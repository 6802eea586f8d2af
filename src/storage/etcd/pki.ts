/**
 * Certificates for an etcd this project runs itself (`--embedded-etcd`, and the tests' etcd
 * clusters): its own CA (as kubeadm keeps etcd/ca apart from the cluster CA), one serving + peer
 * certificate for loopback members, and the API server's client certificate. Made with the `openssl`
 * CLI like src/apiserver/pki (Node's crypto cannot sign X.509), reused when present, keys mode 0600.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** File paths of an etcd PKI. */
export interface EtcdPki {
  caFile: string;
  /** Serving and peer certificate of the members (SANs 127.0.0.1, localhost). */
  serverCertFile: string;
  serverKeyFile: string;
  /** The API server's client certificate (CN=clusterip-apiserver-etcd-client). */
  clientCertFile: string;
  clientKeyFile: string;
}

async function exists(p: string): Promise<boolean> {
  try { await access(p); return true; } catch { return false; }
}

function serial(): string {
  return '0x' + randomBytes(16).toString('hex').replace(/^[89a-f]/, '1');
}

/** Loads or creates the etcd PKI in `dir` (~50 ms the first time). */
export async function ensureEtcdPki(dir: string): Promise<EtcdPki> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const f = (n: string): string => join(dir, n);
  if (!(await exists(f('ca.crt'))) || !(await exists(f('ca.key')))) {
    await run('openssl', ['req', '-x509', ...EC, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '3650',
      '-subj', '/CN=clusterip-etcd-ca', '-set_serial', serial(),
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature']);
  }
  const leaf = async (name: string, subj: string, ext: string[]): Promise<void> => {
    if ((await exists(f(`${name}.crt`))) && (await exists(f(`${name}.key`)))) return;
    await run('openssl', ['req', '-x509', ...EC, '-keyout', f(`${name}.key`), '-out', f(`${name}.crt`), '-days', '3650',
      '-subj', subj, '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-set_serial', serial(),
      ...ext.flatMap((e) => ['-addext', e])]);
  };
  await Promise.all([
    // Members use one certificate to serve clients and to talk to each other (peer TLS is mutual).
    leaf('server', '/CN=clusterip-etcd', ['basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth,clientAuth',
      'subjectAltName=IP:127.0.0.1,DNS:localhost']),
    leaf('apiserver-etcd-client', '/CN=clusterip-apiserver-etcd-client', ['basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=clientAuth']),
  ]);
  for (const n of ['ca.key', 'server.key', 'apiserver-etcd-client.key']) await chmod(f(n), 0o600);
  return {
    caFile: f('ca.crt'), serverCertFile: f('server.crt'), serverKeyFile: f('server.key'),
    clientCertFile: f('apiserver-etcd-client.crt'), clientKeyFile: f('apiserver-etcd-client.key'),
  };
}

/**
 * A real registry for tests: Debian's `docker-registry` (the CNCF distribution registry) on a free
 * loopback port, with its own config and its storage in a temp dir, optionally behind htpasswd
 * Basic auth; images are pushed with `skopeo copy` from OCI layouts. Everything (process, dirs)
 * is removed in `t.after`, also when the test fails.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export interface TestRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  /** Where the registry keeps blobs (tests corrupt them on purpose). */
  storageDir: string;
  /** Pushes `oci:<layout>:<tag>` to `<host>/<repo>:<tag>` (with `all`: a whole index). */
  push(layout: string, tag: string, repo: string, opts?: { all?: boolean }): void;
  /** The registry's file of a blob (filesystem driver layout). */
  blobPath(digest: string): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); });
  });
}

async function waitListening(port: number, proc: ChildProcess, log: () => string): Promise<void> {
  const end = Date.now() + 15_000;
  while (Date.now() < end) {
    if (proc.exitCode !== null) throw new Error(`docker-registry exited ${proc.exitCode}: ${log()}`);
    const ok = await new Promise<boolean>((r) => {
      const c = net.connect(port, '127.0.0.1', () => { c.destroy(); r(true); });
      c.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry did not listen on 127.0.0.1:${port}: ${log()}`);
}

/** Starts a registry (see the module comment). `auth`: htpasswd user and password. */
export async function startRegistry(t: { after(fn: () => Promise<void> | void): void }, opts: { auth?: { user: string; password: string } } = {}): Promise<TestRegistry> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cip-registry-'));
  const storageDir = path.join(dir, 'storage');
  fs.mkdirSync(storageDir);
  let authConf = '';
  if (opts.auth) {
    const r = spawnSync('htpasswd', ['-Bbn', opts.auth.user, opts.auth.password], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`htpasswd (apache2-utils) failed: ${r.stderr || r.error?.message}`);
    fs.writeFileSync(path.join(dir, 'htpasswd'), r.stdout);
    authConf = `auth:\n  htpasswd:\n    realm: clusterip-test-realm\n    path: ${path.join(dir, 'htpasswd')}\n`;
  }
  let proc: ChildProcess | undefined;
  let port = 0;
  let out = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    port = await freePort();
    const conf = path.join(dir, 'config.yml');
    fs.writeFileSync(conf, `version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${storageDir}
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: 127.0.0.1:${port}
  secret: clusterip-test
${authConf}`);
    out = '';
    proc = spawn('docker-registry', ['serve', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    proc.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    try { await waitListening(port, proc, () => out); break; } catch (e) {
      proc.kill('SIGKILL');
      if (attempt === 4 || !/address already in use/.test(out)) { fs.rmSync(dir, { recursive: true, force: true }); throw e; }
    }
  }
  const host = `127.0.0.1:${port}`;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (proc && proc.exitCode === null) {
      const gone = new Promise((r) => proc!.once('exit', r));
      proc.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  t.after(stop);
  return {
    host, storageDir, stop,
    push(layout, tag, repo, o = {}) {
      const args = ['copy', '--quiet', '--dest-tls-verify=false', ...(o.all ? ['--all'] : []),
        ...(opts.auth ? ['--dest-creds', `${opts.auth.user}:${opts.auth.password}`] : []),
        `oci:${layout}:${tag}`, `docker://${host}/${repo}:${tag}`];
      const r = spawnSync('skopeo', args, { encoding: 'utf8', timeout: 120_000 });
      if (r.status !== 0) throw new Error(`skopeo ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
    },
    blobPath(digest) {
      const hex = digest.replace(/^sha256:/, '');
      return path.join(storageDir, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
    },
  };
}

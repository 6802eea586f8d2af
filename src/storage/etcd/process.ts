/**
 * Runs Debian's `etcd` (etcd-server 3.4) as a child process on loopback: one member for
 * `clusterip up --embedded-etcd`, or a small cluster for tests. A supervised member is restarted
 * after an unexpected exit with backoff (1 s doubling to 30 s, reset after a minute of uptime), as
 * the daemon's other component processes are.
 *
 * Members listen on 127.0.0.1 (and, for clients, on `extraClientHost` when given: the machine's address,
 * so API servers of other machines share the embedded etcd). With a PKI, clients must present a certificate from its CA
 * (`--client-cert-auth`) and peers talk mutual TLS, as kubeadm configures etcd.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, writeFileSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { EtcdClient } from './client.js';
import { ensureEtcdPki, type EtcdPki } from './pki.js';

/** etcd's default request limit is 1.5 MiB; Kubernetes objects stay below it, our conformance suite writes 2 MB. */
export const DEFAULT_MAX_REQUEST_BYTES = 8 * 1024 * 1024;

export interface EtcdMemberOptions {
  name: string;
  dataDir: string;
  clientPort: number;
  peerPort: number;
  /** `name=peerURL,...` of every member (default: this member alone). */
  initialCluster?: string;
  /** Distinguishes clusters whose members might meet (default: random per cluster). */
  clusterToken?: string;
  /** TLS for clients (certificate required) and peers. Without it, plain http on loopback. */
  pki?: EtcdPki;
  /** Restart after an unexpected exit. Default false. */
  supervise?: boolean;
  /** Append etcd's own log here (default: keep only the last lines in memory for errors). */
  logFile?: string;
  maxRequestBytes?: number;
  /** Raft heartbeat / election timeout (ms). Default etcd's 100 / 1000. */
  heartbeatMs?: number;
  electionMs?: number;
  /** The etcd binary. Default `etcd` on PATH. */
  binary?: string;
  /** Written with the pid at every (re)start, so a later run can find a leftover member. */
  /**
   * A second address clients may reach the member at besides 127.0.0.1 (the machine's own, so that
   * API servers on other machines share this etcd). Its certificate must name it.
   */
  extraClientHost?: string;
  pidFile?: string;
}

/** A free TCP port on 127.0.0.1 (bound and released; the caller binds it soon after). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class EtcdMember {
  readonly clientURL: string;
  readonly peerURL: string;
  private child?: ChildProcess;
  private stopping = false;
  private restartTimer?: NodeJS.Timeout;
  private backoffMs = 1000;
  private startedAt = 0;
  private readonly tail: string[] = [];
  private log?: WriteStream;
  /** Times the supervisor restarted the member after an unexpected exit. */
  restarts = 0;

  constructor(readonly opts: EtcdMemberOptions) {
    const scheme = opts.pki ? 'https' : 'http';
    this.clientURL = `${scheme}://127.0.0.1:${opts.clientPort}`;
    this.peerURL = `${scheme}://127.0.0.1:${opts.peerPort}`;
  }

  /** Every URL clients may use (loopback first). */
  clientURLs(): string[] {
    const scheme = this.opts.pki ? 'https' : 'http';
    return this.opts.extraClientHost ? [this.clientURL, `${scheme}://${this.opts.extraClientHost}:${this.opts.clientPort}`] : [this.clientURL];
  }

  get pid(): number | undefined {
    const c = this.child;
    return c && c.exitCode === null && c.signalCode === null ? c.pid : undefined;
  }

  get running(): boolean {
    return this.pid !== undefined;
  }

  private args(): string[] {
    const o = this.opts;
    const a = [
      '--name', o.name, '--data-dir', o.dataDir,
      '--listen-client-urls', this.clientURLs().join(','), '--advertise-client-urls', this.clientURLs().join(','),
      '--listen-peer-urls', this.peerURL, '--initial-advertise-peer-urls', this.peerURL,
      '--initial-cluster', o.initialCluster ?? `${o.name}=${this.peerURL}`,
      '--initial-cluster-state', 'new', '--initial-cluster-token', o.clusterToken ?? `cip-${randomBytes(4).toString('hex')}`,
      '--max-request-bytes', String(o.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES),
      '--logger', 'zap', '--log-outputs', 'stderr', '--log-level', 'warn',
    ];
    if (o.heartbeatMs) a.push('--heartbeat-interval', String(o.heartbeatMs));
    if (o.electionMs) a.push('--election-timeout', String(o.electionMs));
    if (o.pki) {
      a.push('--cert-file', o.pki.serverCertFile, '--key-file', o.pki.serverKeyFile, '--trusted-ca-file', o.pki.caFile, '--client-cert-auth',
        '--peer-cert-file', o.pki.serverCertFile, '--peer-key-file', o.pki.serverKeyFile, '--peer-trusted-ca-file', o.pki.caFile, '--peer-client-cert-auth');
    }
    return a;
  }

  /** Starts the process (does not wait for it to serve: see `waitReady`). */
  spawn(): void {
    if (this.running) return;
    this.stopping = false;
    mkdirSync(this.opts.dataDir, { recursive: true, mode: 0o700 });
    if (this.opts.logFile && !this.log) this.log = createWriteStream(this.opts.logFile, { flags: 'a' });
    const child = spawn(this.opts.binary ?? 'etcd', this.args(), { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    this.startedAt = Date.now();
    if (this.opts.pidFile && child.pid) writeFileSync(this.opts.pidFile, `${child.pid}\n`);
    child.stderr!.on('data', (d: Buffer) => {
      this.log?.write(d);
      for (const line of d.toString().split('\n')) if (line.trim()) this.tail.push(line);
      if (this.tail.length > 20) this.tail.splice(0, this.tail.length - 20);
    });
    child.once('error', (e) => { this.tail.push(`spawn failed: ${e.message}`); });
    child.once('exit', (code, signal) => {
      if (this.child !== child) return;
      if (this.stopping || !this.opts.supervise) return;
      // Uptime of a minute means the last crash is history: start over with a short delay.
      if (Date.now() - this.startedAt > 60_000) this.backoffMs = 1000;
      const delay = this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, 30_000);
      this.log?.write(`clusterip: etcd exited (code ${code}, signal ${signal}); restarting in ${delay} ms\n`);
      this.restartTimer = setTimeout(() => {
        this.restartTimer = undefined;
        if (this.stopping) return;
        this.restarts++;
        this.spawn();
      }, delay);
    });
  }

  /** The last lines etcd wrote (for error messages). */
  recentLog(): string {
    return this.tail.join('\n');
  }

  /** Stops it (SIGTERM, SIGKILL after 5 s); a supervised member stays stopped. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    await this.signal('SIGTERM', 5000);
    this.log?.end();
    this.log = undefined;
  }

  /** Kills the process as a crash would (SIGKILL). A supervised member is restarted. */
  async crash(): Promise<void> {
    await this.signal('SIGKILL', 5000);
  }

  private async signal(sig: NodeJS.Signals, graceMs: number): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(sig);
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(t);
  }
}

/** Client options (endpoints + TLS files) that reach `members`. */
export function clientOptionsFor(members: EtcdMember[], pki?: EtcdPki): { endpoints: string[]; caFile?: string; certFile?: string; keyFile?: string } {
  return {
    endpoints: members.map((m) => m.clientURL),
    ...(pki ? { caFile: pki.caFile, certFile: pki.clientCertFile, keyFile: pki.clientKeyFile } : {}),
  };
}

/**
 * Waits until a linearizable read succeeds through `endpoints` (the cluster has a leader and serves).
 * Throws after `timeoutMs` with `why()` (the members' recent log) in the message.
 */
export async function waitEtcdReady(opts: { endpoints: string[]; caFile?: string; certFile?: string; keyFile?: string }, timeoutMs = 20_000, why: () => string = () => ''): Promise<void> {
  const client = new EtcdClient({ ...opts, requestTimeoutMs: 2000 });
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  try {
    while (Date.now() < deadline) {
      try {
        await client.range({ key: Buffer.from('/clusterip-ready-probe') });
        return;
      } catch (e) {
        last = e;
        await sleep(100);
      }
    }
  } finally {
    client.close();
  }
  throw new Error(`etcd did not become ready at ${opts.endpoints.join(',')} within ${timeoutMs} ms: ${(last as Error)?.message ?? last}\n${why()}`);
}

/** A cluster of etcd members on loopback (tests; one member for the embedded mode). */
export interface LocalEtcdCluster {
  members: EtcdMember[];
  pki?: EtcdPki;
  endpoints: string[];
  /** EtcdClient/EtcdStorage options reaching every member. */
  clientOptions: { endpoints: string[]; caFile?: string; certFile?: string; keyFile?: string };
  stop(): Promise<void>;
}

export interface LocalEtcdClusterOptions {
  /** Directory for data dirs (and the PKI when `tls`). */
  dir: string;
  /** Number of members. Default 1. */
  size?: number;
  tls?: boolean;
  supervise?: boolean;
  logDir?: string;
  heartbeatMs?: number;
  electionMs?: number;
}

/** Starts `size` members on free loopback ports and waits until the cluster serves. */
export async function startLocalEtcdCluster(opts: LocalEtcdClusterOptions): Promise<LocalEtcdCluster> {
  const size = opts.size ?? 1;
  const pki = opts.tls ? await ensureEtcdPki(join(opts.dir, 'pki')) : undefined;
  const ports = [];
  for (let i = 0; i < size; i++) ports.push({ client: await freeLoopbackPort(), peer: await freeLoopbackPort() });
  const scheme = pki ? 'https' : 'http';
  const names = ports.map((_, i) => `m${i}`);
  const initialCluster = ports.map((p, i) => `${names[i]}=${scheme}://127.0.0.1:${p.peer}`).join(',');
  const clusterToken = `cip-${randomBytes(4).toString('hex')}`;
  const members = ports.map((p, i) => new EtcdMember({
    name: names[i], dataDir: join(opts.dir, `${names[i]}.etcd`), clientPort: p.client, peerPort: p.peer,
    initialCluster, clusterToken, pki, supervise: opts.supervise,
    logFile: opts.logDir ? join(opts.logDir, `${names[i]}.log`) : undefined,
    heartbeatMs: opts.heartbeatMs, electionMs: opts.electionMs,
  }));
  const stop = async (): Promise<void> => { await Promise.all(members.map((m) => m.stop())); };
  try {
    for (const m of members) m.spawn();
    const clientOptions = clientOptionsFor(members, pki);
    await waitEtcdReady(clientOptions, 30_000, () => members.map((m) => `--- ${m.opts.name}:\n${m.recentLog()}`).join('\n'));
    return { members, pki, endpoints: clientOptions.endpoints, clientOptions, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

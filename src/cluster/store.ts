/**
 * Opens the cluster's store: SQLite in the state dir (the default), an external etcd cluster
 * (`--store etcd --etcd-endpoints ...`, client certificates optional), or an etcd this daemon runs
 * itself (`--embedded-etcd`: Debian's `etcd` as a supervised child on loopback, data and PKI in
 * `<stateDir>/etcd`). With etcd, the periodic compactor runs too.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EtcdMember } from '../storage/etcd/process.js';
import type { EtcdStorage } from '../storage/etcd/storage.js';
import { SqliteStorage } from '../storage/sqlite.js';
import { checkStateDb } from './statedb.js';
import type { Storage } from '../storage/storage.js';

/**
 * The etcd modules (the gRPC client and its protobuf definitions), loaded only when a cluster uses
 * etcd: loading them costs a SQLite cluster's daemon ~20 MB of RSS and start-up time for nothing.
 */
async function etcdModules() {
  const [client, compactor, pki, proc, storage] = await Promise.all([
    import('../storage/etcd/client.js'), import('../storage/etcd/compactor.js'), import('../storage/etcd/pki.js'),
    import('../storage/etcd/process.js'), import('../storage/etcd/storage.js'),
  ]);
  return { ...client, ...compactor, ...pki, ...proc, ...storage };
}

export type StoreOptions =
  | { kind: 'sqlite' }
  | {
    kind: 'etcd';
    endpoints: string[];
    caFile?: string;
    certFile?: string;
    keyFile?: string;
    /** Key prefix in etcd, for several clusters on one etcd. Default ''. */
    prefix?: string;
    /** Compaction interval (ms); 0 disables. Default 5 min. */
    compactionIntervalMs?: number;
  }
  | {
    kind: 'embedded-etcd';
    compactionIntervalMs?: number;
    /** Also serve clients on this address of the machine (so API servers of other machines can share it). */
    listenAddress?: string;
  };

/** How another API server of the cluster reaches the store (what the server-bootstrap hands over). */
export interface SharedEtcd {
  endpoints: string[];
  prefix: string;
  /** PEM contents (not paths: the other machine has no access to these files). */
  ca?: string;
  cert?: string;
  key?: string;
}

export interface OpenedStore {
  storage: Storage;
  /** One line for the progress log ("SQLite state.db", "etcd https://...", ...). */
  describe: string;
  /** For etcd stores: how another API server reaches the same store. */
  shared?: SharedEtcd;
  /** Closes the storage, stops the compactor and the embedded etcd (if any). */
  close(): Promise<void>;
}

/** True when `pid` runs an etcd on `dataDir` (a leftover of a daemon that was killed). */
function isOurEtcd(pid: number, dataDir: string): boolean {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmd.some((a) => a.endsWith('etcd')) && cmd.includes(dataDir);
  } catch {
    return false;
  }
}

/**
 * Stops an embedded etcd left running by a daemon that was killed (its pid file names it, and its
 * command line names our data dir). Returns true when it found and ended one.
 */
export async function stopLeftoverEmbeddedEtcd(stateDir: string): Promise<boolean> {
  const dataDir = join(stateDir, 'etcd', 'data');
  const pidFile = join(stateDir, 'etcd', 'etcd.pid');
  if (!existsSync(pidFile)) return false;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  if (!(pid > 0) || !isOurEtcd(pid, dataDir)) return false;
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 100 && isOurEtcd(pid, dataDir); i++) await new Promise((r) => setTimeout(r, 20));
  return true;
}

/** Starts the embedded etcd: one supervised member on loopback with client-certificate TLS. */
async function startEmbeddedEtcd(stateDir: string, listenAddress?: string): Promise<{ member: EtcdMember; clientOptions: { endpoints: string[]; caFile: string; certFile: string; keyFile: string } }> {
  const dir = join(stateDir, 'etcd');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const dataDir = join(dir, 'data');
  const pidFile = join(dir, 'etcd.pid');
  // A daemon killed with SIGKILL leaves its etcd running on our data dir: replace it.
  await stopLeftoverEmbeddedEtcd(stateDir);
  const { ensureEtcdPki, freeLoopbackPort, EtcdMember, waitEtcdReady } = await etcdModules();
  const pki = await ensureEtcdPki(join(dir, 'pki'), { sans: listenAddress ? [`IP:${listenAddress}`] : [] });
  // Keep the ports of the previous run when they are free (the member's advertised URLs stay the same).
  const portsFile = join(dir, 'ports.json');
  let ports: { client: number; peer: number } | undefined;
  try { ports = JSON.parse(readFileSync(portsFile, 'utf8')) as { client: number; peer: number }; } catch { ports = undefined; }
  if (!ports) {
    ports = { client: await freeLoopbackPort(), peer: await freeLoopbackPort() };
    writeFileSync(portsFile, JSON.stringify(ports) + '\n');
  }
  const member = new EtcdMember({
    name: 'clusterip', dataDir, clientPort: ports.client, peerPort: ports.peer, pki, supervise: true,
    logFile: join(dir, 'etcd.log'), clusterToken: 'clusterip-embedded', pidFile, extraClientHost: listenAddress,
  });
  member.spawn();
  const clientOptions = { endpoints: [member.clientURL], caFile: pki.caFile, certFile: pki.clientCertFile, keyFile: pki.clientKeyFile };
  try {
    await waitEtcdReady(clientOptions, 20_000, () => member.recentLog());
  } catch (e) {
    await member.stop();
    throw e;
  }
  return { member, clientOptions };
}

/** Opens the store described by `opts` for the cluster whose state lives in `stateDir`. */
export async function openStore(opts: StoreOptions, stateDir: string, log: (line: string) => void = () => {}): Promise<OpenedStore> {
  if (opts.kind === 'sqlite') {
    checkStateDb(join(stateDir, 'state.db')); // a damaged store is refused, never silently recreated
    const storage = new SqliteStorage(join(stateDir, 'state.db'));
    return { storage, describe: `SQLite ${join(stateDir, 'state.db')}`, close: () => storage.close() };
  }
  const { EtcdStorage, EtcdClient, EtcdCompactor, DEFAULT_COMPACTION_INTERVAL_MS } = await etcdModules();
  let member: EtcdMember | undefined;
  let clientOptions: { endpoints: string[]; caFile?: string; certFile?: string; keyFile?: string };
  let prefix = '';
  let sharedEndpoints: string[] = [];
  if (opts.kind === 'embedded-etcd') {
    ({ member, clientOptions } = await startEmbeddedEtcd(stateDir, opts.listenAddress));
    sharedEndpoints = member.clientURLs().filter((u) => !u.includes('://127.0.0.1:'));
  } else {
    clientOptions = { endpoints: opts.endpoints, caFile: opts.caFile, certFile: opts.certFile, keyFile: opts.keyFile };
    prefix = opts.prefix ?? '';
    sharedEndpoints = opts.endpoints.filter((u) => !/:\/\/(127\.|localhost[:/])/.test(u));
  }
  const pem = (f?: string): string | undefined => (f ? readFileSync(f, 'utf8') : undefined);
  const shared: SharedEtcd | undefined = sharedEndpoints.length
    ? { endpoints: sharedEndpoints, prefix, ca: pem(clientOptions.caFile), cert: pem(clientOptions.certFile), key: pem(clientOptions.keyFile) }
    : undefined;
  let storage: EtcdStorage;
  try {
    storage = await EtcdStorage.open({ ...clientOptions, prefix });
  } catch (e) {
    await member?.stop();
    throw new Error(`cannot use etcd at ${clientOptions.endpoints.join(',')}: ${(e as Error).message}`);
  }
  const compactorClient = new EtcdClient(clientOptions);
  const compactor = new EtcdCompactor(compactorClient, opts.compactionIntervalMs ?? DEFAULT_COMPACTION_INTERVAL_MS, log);
  compactor.start();
  return {
    storage,
    describe: `${member ? 'embedded etcd' : 'etcd'} ${(member ? member.clientURLs() : clientOptions.endpoints).join(',')}${prefix ? ` prefix ${prefix}` : ''}`,
    shared,
    async close() {
      compactor.stop();
      compactorClient.close();
      await storage.close();
      await member?.stop();
    },
  };
}

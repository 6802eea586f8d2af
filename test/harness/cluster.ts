/**
 * End-to-end test harness: a real API server (real API core over in-memory or SQLite storage, real
 * HTTPS with generated certificates) in a private temp state dir, and the REAL `kubectl` on PATH run
 * with its own HOME (fresh discovery cache) and KUBECONFIG. Everything is removed in t.after, also
 * when the test fails.
 *
 *   const c = await startTestCluster(t);
 *   const r = await c.kubectl(['get', 'svc']);   // { code, stdout, stderr }
 */
import type { TestContext } from 'node:test';
import { chmod, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Client } from '../../src/client/client.js';
import type { PodStreamProvider } from '../../src/api/streams.js';
import { createApiCore } from '../../src/apiserver/core.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import { SqliteStorage } from '../../src/storage/sqlite.js';
// etcd (its gRPC client) and the controllers are loaded only by the tests that ask for them: loaded
// for every cluster they were a fifth of a bench process's heap before its cluster started, and grew
// V8's young generation to its maximum (bench/apiserver-http/README.md, "the create p99 of 2026-12-07").
import type { EtcdStorageOptions } from '../../src/storage/etcd/storage.js';
import { ensurePki, type Pki } from '../../src/apiserver/pki/pki.js';
import { writeKubeconfig } from '../../src/client/kubeconfig.js';
import { startApiServer, type ExtraHandler, type RunningApiServer } from '../../src/apiserver/http/server.js';
import type { ProxyDial } from '../../src/apiserver/http/proxy.js';
import { standardExtensions } from '../../src/apiserver/http/standard.js';
import { HttpClient } from '../../src/client/http.js';
import { kubectlRunner, type KubectlRun, type KubectlRunOptions } from './kubectl.js';
import type { AdmissionPlugin } from '../../src/apiserver/registry/admission.js';
import type { ApiCore } from '../../src/apiserver/core.js';
import type { ServiceAccountKey } from '../../src/apiserver/auth/sakey.js';
import type { ControllerName, RunningControllers } from '../../src/controllers/manager.js';

/** Result and options of one kubectl run (see kubectl.ts). */
export type KubectlResult = KubectlRun;
export type KubectlOptions = KubectlRunOptions;

/** A running test cluster. */
export interface TestCluster {
  /** Temp state dir (removed at the end). */
  dir: string;
  pki: Pki;
  server: RunningApiServer;
  /** The core's in-process client (no HTTP). */
  core: Client;
  /** The API core itself (auth: tokens, authorizer). */
  api: ApiCore;
  /** The controllers, when `controllers` asked for them. */
  controllers?: RunningControllers;
  /** An HttpClient with the admin client certificate. */
  http: HttpClient;
  kubeconfig: string;
  /** Runs the real kubectl against this cluster. */
  kubectl(args: string[], opts?: KubectlOptions): Promise<KubectlResult>;
  /** Writes a file into the temp dir and returns its path (manifests, editor scripts). */
  file(name: string, content: string, mode?: number): Promise<string>;
  /**
   * Runs kubectl as the holder of a bearer `token` (a kubeconfig with the CA and the token only, no
   * client certificate), in `namespace` when given.
   */
  kubectlAs(token: string, args: string[], opts?: KubectlOptions & { namespace?: string }): Promise<KubectlResult>;
  /** Stops everything and removes the temp dir (also registered with t.after). */
  close(): Promise<void>;
}

/** Options of {@link startTestCluster}. */
export interface TestClusterOptions {
  storage?: 'memory' | 'sqlite';
  /** Store in this etcd instead (see src/storage/testing/etcd.ts); several clusters with one prefix share one store (HA). */
  etcd?: EtcdStorageOptions;
  /** Service CIDR of the API core (default 10.96.0.0/12). */
  serviceCIDR?: string;
  streams?: PodStreamProvider;
  /** A `pki/` directory to start with (copied), e.g. certificates made by an earlier version. */
  pkiFrom?: string;
  /** The ServiceAccount token signing key (default: a new one). */
  serviceAccountKey?: ServiceAccountKey;
  /** Mutating admission plugins (e.g. serviceAccountAdmission()). Default none. */
  admission?: readonly AdmissionPlugin[];
  /**
   * Run these controllers too (src/controllers/manager.ts names; `true`: all of them), with the
   * cluster CA and the core's legacy-token signer. Default none.
   */
  controllers?: boolean | readonly ControllerName[];
  /** services/proxy and pods/proxy: how the API server connects to an address of the cluster network. */
  proxyDial?: ProxyDial;
  /** Extra API server handlers, made from the core's in-process client (e.g. the web view's). */
  handlers?: (core: Client) => readonly ExtraHandler[];
}

/**
 * Starts a fresh cluster. With a test context `t`, cleanup is registered with `t.after`; for one
 * cluster per file pass `undefined` from a `before` hook and call `close()` in a top-level `after`.
 */
export async function startTestCluster(t: Pick<TestContext, 'after'> | undefined, opts: TestClusterOptions = {}): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), `cip-e2e-${randomBytes(3).toString('hex')}-`));
  const cleanups: (() => Promise<void> | void)[] = [() => rm(dir, { recursive: true, force: true })];
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => closed ??= (async () => {
    for (const c of cleanups.reverse()) { try { await c(); } catch { /* keep cleaning */ } }
  })();
  t?.after(close);
  try {
    const storage = opts.etcd ? await (await import('../../src/storage/etcd/storage.js')).EtcdStorage.open(opts.etcd)
      : opts.storage === 'sqlite' ? new SqliteStorage(join(dir, 'state.db')) : new MemoryStorage();
    cleanups.push(() => storage.close());
    const core = await createApiCore({ storage, serviceCIDR: opts.serviceCIDR, admission: opts.admission, serviceAccountKey: opts.serviceAccountKey });
    cleanups.push(() => core.close());
    if (opts.pkiFrom) await cp(opts.pkiFrom, join(dir, 'pki'), { recursive: true });
    const pki = await ensurePki(dir);
    const server = await startApiServer({
      client: core.client, pki, auth: core.auth, listen: { port: 0 }, unixSocket: join(dir, 'apiserver.sock'),
      streams: opts.streams, extensions: standardExtensions({ catalog: core.catalog }), log: () => { /* tests assert on Status, not logs */ },
      ...(opts.proxyDial ? { proxyDial: opts.proxyDial } : {}),
      ...(opts.handlers ? { handlers: opts.handlers(core.client) } : {}),
    });
    cleanups.push(() => server.close());
    const home = join(dir, 'home');
    await mkdir(home, { recursive: true });
    const kubeconfig = join(dir, 'kubeconfig');
    await writeKubeconfig(kubeconfig, pki, { name: 'e2e', server: server.url });
    const http = new HttpClient({ server: server.url, ca: pki.caCert, cert: pki.adminCert, key: pki.adminKey });
    cleanups.push(() => http.close());
    const kubectl = kubectlRunner(home, kubeconfig);
    cleanups.push(() => kubectl.killAll());
    const file = async (name: string, content: string, mode = 0o644): Promise<string> => {
      const p = join(dir, name);
      await writeFile(p, content);
      await chmod(p, mode);
      return p;
    };
    let tokenConfigs = 0;
    const kubectlAs = async (token: string, args: string[], o: KubectlOptions & { namespace?: string } = {}): Promise<KubectlResult> => {
      const path = await file(`token-${tokenConfigs++}.kubeconfig`, [
        'apiVersion: v1', 'kind: Config', 'current-context: t',
        `clusters: [{name: c, cluster: {server: "${server.url}", certificate-authority-data: ${Buffer.from(pki.caCert).toString('base64')}}}]`,
        `users: [{name: u, user: {token: "${token}"}}]`,
        `contexts: [{name: t, context: {cluster: c, user: u${o.namespace ? `, namespace: ${o.namespace}` : ''}}}]`, '',
      ].join('\n'), 0o600);
      return kubectl(['--kubeconfig', path, ...args], o);
    };
    let controllers: RunningControllers | undefined;
    if (opts.controllers) {
      const { ALL_CONTROLLERS, startControllers } = await import('../../src/controllers/manager.js');
      controllers = await startControllers(core.client, {
        enable: opts.controllers === true ? ALL_CONTROLLERS : opts.controllers,
        serviceAccounts: { caCert: pki.caCert, signLegacyToken: (ns, sa, secret) => core.auth.tokens.issueLegacy(ns, sa, secret) },
      });
      const running = controllers;
      cleanups.push(() => running.stop());
    }
    return { dir, pki, server, core: core.client, api: core, ...(controllers ? { controllers } : {}), http, kubeconfig, kubectl, kubectlAs, file, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * One node of a cluster whose API servers run on other machines: what `clusterip join` runs.
 *
 * join (src/cluster/join: CA pinned by the token, client certificate for a key made here, the Node
 * created by the server) → node-local API load balancer (loadbalancer.ts) → wait for the Pod CIDR
 * node IPAM gives the Node → node agent (src/node) in namespace `cip-<id>-n0` → VXLAN overlay
 * (src/overlay) → service proxy (src/proxy) → the server list kept up to date from the API servers'
 * Leases. Everything the node makes lives in namespaces `cip-<id>-*` (id from the local `--name`),
 * so `clusterip down` on this machine removes it; the machine's own namespace gets only the load
 * balancer's loopback listener and the overlay's UDP socket.
 *
 * Credentials are kept in `<stateDir>/pki` (node.crt, node.key, ca.crt, node-password) and the
 * cluster settings in `<stateDir>/join.json`, so a restarted node (killed, rebooted) comes back
 * without a token; it joins again only when its Node is gone or its credentials do not fit.
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Node } from 'kubernetes-types/core/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { isNotFound } from '../api/errors.js';
import { R } from '../api/resources.js';
import { signedBy } from '../certs/x509.js';
import { HttpClient } from '../client/http.js';
import { ANNOTATION_SERVER_URL, IDENTITY_VALUE, LABEL_IDENTITY, LEASE_NAMESPACE, leaseLive } from '../controllers/kubernetesservice/reconcile.js';
import { startNodeAgent, type NodeAgent } from '../node/agent.js';
import { removeUsageGroups } from '../node/usage.js';
import { startOverlay, type Overlay } from '../overlay/vxlan.js';
import { startNetworkPolicy } from '../netpol/netpol.js';
import { startProxy, type Proxy, type ProxyMode } from '../proxy/proxy.js';
import { runOk } from '../sys/command.js';
import { processIdentity } from '../sys/process.js';
import { joinCluster } from './join/client.js';
import type { ClusterInfo } from './join/service.js';
import { parseJoinCredentials, pinMismatch } from './join/token.js';
import { startLoadBalancer, type LoadBalancer } from './loadbalancer.js';
import { ANNOTATION_NODE_API, NODE_API_PORT, startNodeStreamServer } from './nodestreams.js';
import { STATE_VERSION, clusterId, writeRecord, type ClusterRecord } from './state.js';

/** Options of {@link startJoinedNode}. */
export interface JoinedNodeOptions {
  /** Local name (machine index, namespace ids); not the cluster's name. */
  name: string;
  stateDir: string;
  /** https URLs of API servers (the first is asked to join). */
  servers: string[];
  /** `--token`: K10<hash>::<id>.<secret>, or <id>.<secret> with `caCertHash`. Only needed for the first join. */
  token?: string;
  caCertHash?: string;
  nodeName: string;
  /** This machine's address for the overlay. Default: the source address of the route to the first server. */
  nodeIP?: string;
  /** The proxy backend. Default: the cluster's. */
  proxyMode?: ProxyMode;
  log?: (line: string) => void;
  /** Shorter crash-loop backoff (tests). */
  fastBackoff?: boolean;
}

/** A running joined node. */
export interface JoinedNode {
  readonly record: ClusterRecord;
  readonly cluster: ClusterInfo;
  readonly client: HttpClient;
  readonly agent: NodeAgent;
  readonly proxy: Proxy;
  readonly overlay: Overlay;
  readonly loadBalancer: LoadBalancer;
  /** Resolves once the Node is Ready. */
  waitReady(timeoutMs?: number): Promise<void>;
  /** Stops the agent (its Pods, namespaces), the overlay, the proxy and the load balancer. */
  stop(): Promise<void>;
}

/** What a joined node keeps between runs. */
interface Saved {
  nodeName: string;
  cluster: ClusterInfo;
  servers: string[];
}

/** Files of the node's credentials. */
function files(stateDir: string) {
  const pki = join(stateDir, 'pki');
  return { pki, cert: join(pki, 'node.crt'), key: join(pki, 'node.key'), ca: join(pki, 'ca.crt'), password: join(pki, 'node-password'), saved: join(stateDir, 'join.json') };
}

/** This machine's node password (k3s's): made once, kept; a rejoin with it is this machine's own. */
function nodePassword(path: string): string {
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const pw = randomBytes(32).toString('hex');
  writeFileSync(path, pw + '\n', { mode: 0o600 });
  return pw;
}

/** The address this machine uses to reach `server` (what the overlay publishes as the node's public IP). */
export async function sourceAddressTo(server: string): Promise<string> {
  const host = new URL(server).hostname.replace(/^\[|\]$/g, '');
  const ip = /^\d+\.\d+\.\d+\.\d+$/.test(host) ? host : (await lookup(host, { family: 4 })).address;
  const out = await runOk(['ip', '-4', 'route', 'get', ip]);
  const src = /\bsrc (\d+\.\d+\.\d+\.\d+)/.exec(out)?.[1];
  if (!src) throw new Error(`cannot tell this machine's address towards ${ip} (ip route get: ${out.trim()}); give --node-ip`);
  return src;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Joins (when needed) and starts the node. On failure everything already started is stopped again. */
export async function startJoinedNode(opts: JoinedNodeOptions): Promise<JoinedNode> {
  const log = opts.log ?? (() => undefined);
  const f = files(opts.stateDir);
  mkdirSync(f.pki, { recursive: true, mode: 0o700 });
  const cleanups: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const c of cleanups.splice(0).reverse()) {
      try { await c(); } catch (e) { log(`! cleanup: ${(e as Error).message}`); }
    }
  };
  const step = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const v = await fn();
    log(`✓ ${what} (${Math.round(performance.now() - t0)} ms)`);
    return v;
  };
  try {
    const password = nodePassword(f.password);
    let saved: Saved | undefined;
    try { saved = JSON.parse(readFileSync(f.saved, 'utf8')) as Saved; } catch { saved = undefined; }
    const creds = opts.token ? parseJoinCredentials(opts.token, opts.caCertHash) : undefined;
    const haveCreds = (): boolean => {
      if (!saved || saved.nodeName !== opts.nodeName || !existsSync(f.cert) || !existsSync(f.key) || !existsSync(f.ca)) return false;
      const ca = readFileSync(f.ca, 'utf8');
      if (!signedBy(readFileSync(f.cert, 'utf8'), ca)) return false;
      // A token for another cluster means: join that one.
      return !creds || pinMismatch(creds.pin, ca) === undefined;
    };
    const doJoin = async (): Promise<void> => {
      if (!creds) throw new Error('this machine has not joined yet (or its Node was deleted): give --token');
      const { response, key } = await joinCluster(opts.servers[0]!, creds, opts.nodeName, password);
      writeFileSync(f.key, key, { mode: 0o600 });
      writeFileSync(f.cert, response.certificate, { mode: 0o644 });
      writeFileSync(f.ca, response.caCertificate, { mode: 0o644 });
      saved = { nodeName: opts.nodeName, cluster: response.cluster, servers: response.servers };
      writeFileSync(f.saved, JSON.stringify(saved, null, 2) + '\n', { mode: 0o600 });
    };
    if (!haveCreds()) await step(`joined the cluster at ${opts.servers[0]} as node ${opts.nodeName}`, doJoin);

    const lb = await step('API load balancer listening', () => startLoadBalancer({ servers: [...opts.servers, ...(saved?.servers ?? [])], log }));
    cleanups.push(() => lb.close());
    const connect = (): HttpClient => new HttpClient({ server: lb.url, ca: readFileSync(f.ca), cert: readFileSync(f.cert), key: readFileSync(f.key) });
    let client = connect();
    cleanups.push(async () => client.close());

    // The Node must exist (the join made it); a node deleted while this machine was away joins again.
    const podCIDR = await step('Pod CIDR from node IPAM', async () => {
      for (let i = 0; ; i++) {
        let node: Node | undefined;
        try { node = await client.get<Node>(R.nodes, undefined, opts.nodeName); } catch (e) { if (!isNotFound(e)) throw e; }
        if (!node) {
          await doJoin();
          client.close();
          client = connect();
          continue;
        }
        if (node.spec?.podCIDR) return node.spec.podCIDR;
        if (i > 600) throw new Error(`node ${opts.nodeName} got no Pod CIDR within 30 s: is node IPAM running (the API server's controllers)?`);
        await sleep(50);
      }
    });
    const cluster = saved!.cluster;
    const id = clusterId(opts.name);
    // The agent's accounting groups (src/node/usage.ts), removed last (once the Pods are gone).
    cleanups.push(async () => { removeUsageGroups(`cip-${id}`); });
    const netns = `cip-${id}-n0`;
    const nodeDir = join(opts.stateDir, 'node');
    mkdirSync(nodeDir, { recursive: true });
    if (!existsSync(join(opts.stateDir, 'images.json'))) writeFileSync(join(opts.stateDir, 'images.json'), '{}\n', { mode: 0o644 });
    if (!existsSync(join(nodeDir, 'images.json'))) symlinkSync(join(opts.stateDir, 'images.json'), join(nodeDir, 'images.json'));
    const publicIP = opts.nodeIP ?? await sourceAddressTo(opts.servers[0]!);

    const agent = await step(`node ${opts.nodeName} agent started`, () => startNodeAgent({
      client, nodeName: opts.nodeName, nodeIndex: 0, netns, podCIDR, stateDir: nodeDir,
      clusterDNS: cluster.clusterDNS, clusterDomain: cluster.clusterDomain, idPrefix: `cip-${id}`,
      leaseRenewMs: Math.max(100, (cluster.nodeLeaseDurationSeconds * 1000) / 4),
      ...(opts.fastBackoff ? { backoffBaseMs: 200, backoffMaxMs: 2000 } : {}),
    }));
    cleanups.push(() => agent.stop());
    // kubectl logs/exec/attach/port-forward reach this node's Pods through its stream server.
    const streams = await step(`node stream server on ${publicIP}:${NODE_API_PORT}`, () => startNodeStreamServer({
      nodeName: opts.nodeName, agent, client, caCert: readFileSync(f.ca, 'utf8'), host: publicIP, pkiDir: f.pki,
    }));
    cleanups.push(() => streams.close());
    await client.patch(R.nodes, undefined, opts.nodeName, 'application/merge-patch+json', { metadata: { annotations: { [ANNOTATION_NODE_API]: streams.nodeApiURL } } });
    // The node itself must reach ClusterIPs (see cluster.ts): Service IPs are routed as local.
    await runOk(['ip', '-n', netns, 'route', 'replace', 'local', cluster.serviceCIDR, 'dev', 'lo']);
    const overlay = await step(`overlay (VXLAN from ${publicIP})`, () => startOverlay({
      client, nodeName: opts.nodeName, netns, podCIDR, clusterCIDR: cluster.podCIDR, publicIP,
      onError: (e) => log(`! overlay: ${(e as Error).message}`),
    }));
    cleanups.push(() => overlay.stop({ remove: true }));
    const proxyMode = opts.proxyMode ?? cluster.proxyMode;
    const proxy = await step(`proxy (${proxyMode}) started`, () => startProxy({
      client, nodeName: opts.nodeName, netns, mode: proxyMode, serviceCIDR: cluster.serviceCIDR, podCIDR: cluster.podCIDR,
      onError: (e) => log(`! proxy: ${(e as Error).message}`),
    }));
    cleanups.push(() => proxy.stop({ flush: false }));
    // NetworkPolicy for this node's Pods, as cluster.ts starts it for its own nodes.
    const policy = await step('network policy started', () => startNetworkPolicy({ client, nodeName: opts.nodeName, netns }));
    cleanups.push(() => policy.stop({ flush: false }));

    // Learn every API server from their Leases (k3s's agent learns them from the kubernetes endpoints).
    const refresh = async (): Promise<void> => {
      try {
        const leases = await client.list<Lease>(R.leases, LEASE_NAMESPACE, { labelSelector: `${LABEL_IDENTITY}=${IDENTITY_VALUE}` });
        const now = new Date();
        const urls = leases.items.filter((l) => leaseLive(l, now)).map((l) => l.metadata?.annotations?.[ANNOTATION_SERVER_URL]).filter((u): u is string => !!u);
        lb.setServers([...urls, ...opts.servers]);
      } catch { /* no server reachable right now: keep the list */ }
    };
    await refresh();
    const refresher = setInterval(() => { void refresh(); }, 10_000);
    refresher.unref();
    cleanups.push(async () => clearInterval(refresher));

    const me = processIdentity();
    const record: ClusterRecord = {
      stateVersion: STATE_VERSION, name: opts.name, id, pid: process.pid, pidStartTime: me?.startTime, bootId: me?.bootId,
      apiPort: lb.port, apiURL: opts.servers[0]!, unixSocket: '', kubeconfig: '', context: '',
      nodes: 1, proxyMode, serviceCIDR: cluster.serviceCIDR, podCIDR, startedAt: new Date().toISOString(),
      role: 'node', nodeName: opts.nodeName,
    };
    writeRecord(opts.stateDir, record);
    return {
      record, cluster, client, agent, proxy, overlay, loadBalancer: lb,
      async waitReady(timeoutMs = 30_000) {
        await step(`node ${opts.nodeName} Ready`, async () => {
          const end = Date.now() + timeoutMs;
          for (;;) {
            const n = await client.get<Node>(R.nodes, undefined, opts.nodeName).catch(() => undefined);
            if (n?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return;
            if (Date.now() > end) throw new Error(`node ${opts.nodeName} not Ready after ${timeoutMs} ms`);
            await sleep(20);
          }
        });
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}


/**
 * Composition of a whole cluster in one process: storage → API core → HTTPS + unix-socket API server
 * → controllers → per node: network namespace, node agent, proxy → built-in add-ons (kubernetes and
 * kube-dns Services, the DNS Deployment). This is what `clusterip up` runs and what end-to-end tests
 * start. Each step reports progress with its duration.
 */
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { ApiError, isAlreadyExists } from '../api/errors.js';
import type { KubeObject } from '../api/object.js';
import { R, type ResourceInfo } from '../api/resources.js';
import { createApiCore, type ApiCore } from '../apiserver/core.js';
import { startApiServer, type RunningApiServer } from '../apiserver/http/server.js';
import { standardExtensions } from '../apiserver/http/standard.js';
import { ensurePki } from '../apiserver/pki/pki.js';
import { serviceAccountAdmission } from '../apiserver/admission/serviceaccount.js';
import { ensureServiceAccountKey } from '../apiserver/auth/sakey.js';
import { writeKubeconfig } from '../client/kubeconfig.js';
import type { Client } from '../client/client.js';
import { ALL_CONTROLLERS, startControllers, type RunningControllers } from '../controllers/manager.js';
import { startOverlay } from '../overlay/vxlan.js';
import type { ClusterInfo } from './join/service.js';
import { CONTROL_PLANE_LABELS, LABEL_APISERVER, servingSans, setUpJoining, type Joining } from './joining.js';
import { electedControllers, ipamNodeCIDRs, storeFromShared } from './ha.js';
import { fetchServerBootstrap } from './join/client.js';
import { parseJoinCredentials } from './join/token.js';
import { ANNOTATION_NODE_API } from './nodestreams.js';
import { startNodeAgent, type NodeAgent } from '../node/agent.js';
import type { ImageMode } from '../node/runtime/select.js';
import { startProxy, type Proxy, type ProxyMode } from '../proxy/proxy.js';
import { startNetworkPolicy } from '../netpol/netpol.js';
import { Observability } from '../inspect/observe.js';
import type { ClusterView } from '../inspect/clusterview.js';
import { podNetnsName } from '../node/podnames.js';
import { WebUi } from '../ui/webui.js';
import type { Storage } from '../storage/storage.js';
import { dnsDeployment, kubeDnsService, kubernetesService, nthAddress } from './addons.js';
import { inNetns } from '../sys/netns.js';
import { UNDERLAY_PREFIX, attachNode, createUnderlay, nodeName as nodeNameOf, nodeUnderlayIP, removeAllNamespaces, topologyNames } from './topology.js';
import { STATE_VERSION, clusterId, readRecord, writeRecord, type ClusterRecord } from './state.js';
import { openStore, type StoreOptions } from './store.js';
import { processIdentity } from '../sys/process.js';
import { removeLeftovers } from './leftovers.js';
import { ProxyStatusWriter, proxyStatusPath } from './proxystatus.js';
import { checkLbPool, DEFAULT_LB_POOL } from './lbpool.js';
import { startAnnouncer } from '../controllers/loadbalancer/announcer.js';
import { labelNodeZone } from './zones.js';
import { startHostNodePorts } from './hostports.js';
import { netnsDial } from './dial.js';
import { MetricsServer } from '../metrics/server.js';
import { removeUsageGroups } from '../node/usage.js';
import { resourceMetricsHandler } from '../metrics/nodeproxy.js';
import { gatewayOf } from '../node/ipam.js';
import { apiServerId, publishApiServer, type PublishedApiServer } from './apiforwarder.js';

export interface ClusterOptions {
  name: string;
  stateDir: string;
  /** Number of nodes (each its own network namespace). Default 1. */
  nodes?: number;
  proxyMode?: ProxyMode;
  serviceCIDR?: string;
  /** Cluster Pod CIDR, a /16; node N gets the N-th /24. */
  podCIDR?: string;
  /** HTTPS port on 127.0.0.1; 0 picks a free one. Default 6443. */
  apiPort?: number;
  /** kubeconfig to write (merged into an existing file). */
  kubeconfig: string;
  clusterDomain?: string;
  /** Upstream resolver for names outside the cluster zone (default none: REFUSED). */
  dnsUpstream?: string;
  /** Progress lines ("✓ API server ready (35 ms)"). */
  log?: (line: string) => void;
  /** Shorter crash-loop backoff etc. for tests. */
  fastBackoff?: boolean;
  /** Where objects are stored. Default SQLite in the state dir (src/cluster/store.ts). */
  store?: StoreOptions;
  /** Record traces and collect flows (src/inspect). Default true; false only to measure what they cost. */
  observe?: boolean;
  /** NodePort range. Default 30000-32767. */
  nodePortRange?: string;
  /** LoadBalancer address pool on the underlay. Default 172.31.255.200-172.31.255.254 (lbpool.ts). */
  lbPool?: string;
  /** Allow Services to set spec.externalIPs (default off: CVE-2020-8554). */
  allowExternalIPs?: boolean;
  /** Zones assigned to the nodes in turn (`topology.kubernetes.io/zone`). Default with several nodes: zone-a, zone-b. */
  zones?: string[];
  /** Forward each NodePort from 127.0.0.1 on this machine through the outside host (hostports.ts). Default off. */
  hostNodePorts?: boolean;
  /** Sampling period of the nodes' resource use (metrics.k8s.io). Default 15 000 ms. */
  metricResolutionMs?: number;
  /** HorizontalPodAutoscaler sync period. Default 15 000 ms. */
  hpaSyncPeriodMs?: number;
  /** Duration of this API server's Lease, which keeps it in the `kubernetes` endpoints (s). Default 15. */
  apiServerLeaseSeconds?: number;
  /**
   * This machine's address that other machines reach (kube-apiserver's --advertise-address). With
   * it the cluster accepts nodes from other machines: the API server also listens there (see
   * `bindAddress`), its certificate names it, `up` prints the join command, and this machine's
   * nodes join the VXLAN overlay with it as their public address.
   */
  advertiseAddress?: string;
  /** Address the API server's HTTPS port listens on. Default 127.0.0.1, or 0.0.0.0 with `advertiseAddress`. */
  bindAddress?: string;
  /** Silence after which a node is unreachable (`--node-monitor-grace-period`, s). Default 40; node agents renew their Lease every quarter of it. */
  nodeMonitorGracePeriodSeconds?: number;
  /** How long Pods stay on an unreachable node before they are evicted (`--pod-eviction-timeout`, s). Default 300. */
  podEvictionTimeoutSeconds?: number;
  /**
   * Start another API server of an existing cluster (k3s's `server --server URL --token T`): the CA,
   * admin token, settings and (when shared) the etcd come from the first server (ha.ts); this
   * server's nodes get their Pod CIDRs from node IPAM. The token needs the `join-server` usage.
   */
  joinServer?: { servers: string[]; token: string; caCertHash?: string };
  /** Duration of the controller manager's leader Lease when the store is shared (ms). Default 15 000. */
  leaderElectLeaseMs?: number;
  /** Images: `catalog` (default here), `auto` or `oci` (src/node/runtime/select.ts); `clusterip up` defaults to auto. */
  images?: ImageMode;
  /** The machine's image store (default /var/lib/clusterip/images, shared by every cluster). */
  imageStore?: string;
  /** Registries pulled from over plain HTTP besides loopback ones. */
  insecureRegistries?: string[];
  /** The kubelet's podPidsLimit for OCI containers (default none). */
  podPidsLimit?: number;
}

export interface Cluster {
  readonly record: ClusterRecord;
  /** `clusterip join --server ... --token ...` for another machine's node. */
  readonly joinCommand: string;
  /** In-process client of the API core. */
  readonly client: Client;
  readonly agents: readonly NodeAgent[];
  readonly proxies: readonly Proxy[];
  /** Trace recorder and flow collectors (undefined with `observe: false`). */
  readonly observability?: Observability;
  /** Resolves once every node is Ready and cluster DNS answers from inside node 0. */
  waitReady(timeoutMs?: number): Promise<void>;
  /** Stops everything and removes every namespace, veth, rule and process the cluster made. */
  stop(): Promise<void>;
}

/** Node N's Pod CIDR: the N-th /24 of a /16 cluster CIDR. */
export function nodePodCIDR(podCIDR: string, n: number): string {
  const [base] = podCIDR.split('/');
  const o = base.split('.').map(Number);
  return `${o[0]}.${o[1]}.${n}.0/24`;
}

/**
 * One user image catalog per cluster: `<stateDir>/images.json`, linked into each node's state dir
 * (where the node agent reads it on every lookup, so edits apply without a restart).
 */
function linkImageCatalog(stateDir: string, nodeDir: string): void {
  const shared = join(stateDir, 'images.json');
  if (!existsSync(shared)) writeFileSync(shared, '{}\n', { mode: 0o644 });
  mkdirSync(nodeDir, { recursive: true });
  const link = join(nodeDir, 'images.json');
  if (!existsSync(link)) symlinkSync(shared, link);
}

async function ensureObject(client: Client, res: ResourceInfo, obj: KubeObject): Promise<void> {
  try {
    await client.create(res, obj.metadata?.namespace, obj);
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
  }
}

/** Starts a cluster. On failure everything already started is stopped again before the error is thrown. */
export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const log = opts.log ?? (() => undefined);
  const nodes = opts.nodes ?? 1;
  // A second API server takes the cluster's CA, settings and store from the first one (ha.ts).
  const boot = opts.joinServer
    ? await fetchServerBootstrap(opts.joinServer.servers[0]!, parseJoinCredentials(opts.joinServer.token, opts.joinServer.caCertHash))
    : undefined;
  if (boot && !boot.etcd && opts.store?.kind !== 'etcd') {
    throw new Error(`the API server at ${opts.joinServer!.servers[0]} does not share its store with other machines: start it with --embedded-etcd and --advertise-address, or give both servers the same --store etcd`);
  }
  const serviceCIDR = boot?.cluster.serviceCIDR ?? opts.serviceCIDR ?? '10.96.0.0/12';
  const podCIDR = boot?.cluster.podCIDR ?? opts.podCIDR ?? '10.244.0.0/16';
  const proxyMode = boot?.cluster.proxyMode ?? opts.proxyMode ?? 'nftables';
  const domain = boot?.cluster.clusterDomain ?? opts.clusterDomain ?? 'cluster.local';
  const storeOptions: StoreOptions = opts.store?.kind === 'etcd' ? opts.store
    : boot?.etcd ? storeFromShared(opts.stateDir, boot.etcd)
      : opts.store?.kind === 'embedded-etcd' ? { ...opts.store, listenAddress: opts.advertiseAddress }
        : opts.store ?? { kind: 'sqlite' };
  const lbPoolText = opts.lbPool ?? DEFAULT_LB_POOL;
  const lbPool = checkLbPool(lbPoolText);
  const zones = opts.zones ?? (nodes > 1 ? ['zone-a', 'zone-b'] : []);
  const id = clusterId(opts.name);
  const names = topologyNames(id);
  mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
  const socketPath = join(opts.stateDir, 'api.sock');

  const cleanups: (() => Promise<void>)[] = [];
  const agents: NodeAgent[] = [];
  const proxies: Proxy[] = [];
  const step = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const v = await fn();
    log(`✓ ${what} (${Math.round(performance.now() - t0)} ms)`);
    return v;
  };
  const stopAll = async (): Promise<void> => {
    for (const c of cleanups.splice(0).reverse()) {
      try { await c(); } catch (e) { log(`! cleanup: ${(e as Error).message}`); }
    }
  };

  // The underlay and the outside host are only `ip` commands, so they are built while this process
  // is busy with the store, the certificates (on a first start ~100 ms of CPU) and the API server.
  let network: Promise<number> | undefined;
  let published: Promise<PublishedApiServer> | undefined;
  let flowsStarted: Promise<void> = Promise.resolve();
  try {
    // What an earlier run of this cluster left (it was killed, or crashed): namespaces and Pods of
    // the same shape are adopted, everything else is emptied and removed (leftovers.ts).
    let previous: ClusterRecord | undefined;
    try { previous = readRecord(opts.stateDir); } catch { /* unreadable: nothing to adopt */ }
    await step(`leftovers of an earlier run`, async () => {
      const plan = await removeLeftovers({ id, stateDir: opts.stateDir, previous, current: { nodes, proxyMode, serviceCIDR, podCIDR } });
      if (plan.reason !== 'none') log(`  leftovers of an earlier run: ${plan.reason}`);
    });
    // Certificates too (key generation and signing run on the thread pool): started now, awaited
    // when the API server needs them.
    const pkiReady = ensurePki(opts.stateDir, {
      sans: servingSans(opts.advertiseAddress, serviceCIDR),
      ...(boot ? { shared: { ca: { cert: boot.caCertificate, key: boot.caKey }, adminToken: boot.adminToken } } : {}),
    });
    pkiReady.catch(() => undefined);
    // A second API server signs with the first one's key (the server-bootstrap hands it over).
    const saKeyReady = ensureServiceAccountKey(join(opts.stateDir, 'pki'), boot?.serviceAccountKey);
    saKeyReady.catch(() => undefined);
    cleanups.push(async () => { await removeAllNamespaces(id); removeUsageGroups(`cip-${id}`); });
    const tNet = performance.now();
    network = createUnderlay(id).then(() => performance.now() - tNet);
    network.catch(() => undefined); // awaited below; this only keeps an early failure from being "unhandled"
    const store = await step('storage opened', () => openStore(storeOptions, opts.stateDir, log));
    cleanups.push(() => store.close());
    log(`  store: ${store.describe}`);
    const storage: Storage = store.storage;
    const serviceAccountKey = await saKeyReady;
    const core: ApiCore = await step('API core loaded', () => createApiCore({
      storage, serviceCIDR, serviceAccountKey, serviceAccountIssuer: `https://kubernetes.default.svc.${domain}`,
      admission: [serviceAccountAdmission()], nodePortRange: opts.nodePortRange, allowExternalIPs: opts.allowExternalIPs,
    }));
    cleanups.push(() => core.close());
    const pki = await step('certificates ready', () => pkiReady);
    const obs = opts.observe === false ? undefined : new Observability({ serviceCIDR, outsideNetns: names.outside });
    let joining: Joining | undefined;
    // The web view (/ui/ on this listener): its watches start on the first page load.
    // Explain and diagnose for the page: the functions the CLI runs, with this daemon's view of the cluster (set once the nodes exist).
    let view: ClusterView | undefined;
    const viewNow = (): ClusterView => {
      if (!view) throw new ApiError(503, 'ServiceUnavailable', 'the cluster is still starting');
      return view;
    };
    const ui = new WebUi({
      client: core.client, clusterName: opts.name, ...(obs ? { inspectHandlers: obs.handlers } : {}),
      // Loaded on the first use (~150 kB of code the daemon otherwise never runs; bench/cluster).
      inspect: {
        explain: async (ns, name, signal) => (await import('../inspect/explain.js')).explainService(core.client, viewNow(), ns, name, { signal }),
        diagnose: async (ns, name, signal) => (await import('../inspect/diagnose.js')).diagnoseService(core.client, viewNow(), ns, name, { signal, command: 'clusterip', imagesFile: join(opts.stateDir, 'images.json') }),
      },
    });
    cleanups.push(async () => ui.stop());
    const server: RunningApiServer = await step('API server listening', () => startApiServer({
      client: core.client, pki, auth: core.auth,
      listen: { host: opts.bindAddress ?? (opts.advertiseAddress ? '0.0.0.0' : '127.0.0.1'), port: opts.apiPort ?? 6443 },
      // /cacerts and the join API (src/cluster/join/service.ts), once the join token is ready.
      extraRoutes: async (req, res, path, user) => (joining ? joining.routes(req, res, path, user) : false),
      unixSocket: socketPath,
      extensions: standardExtensions({ serverAddress: `127.0.0.1:${opts.apiPort ?? 6443}`, catalog: core.catalog }),
      streams: (_ns, _pod, nodeName) => agents.find((a) => a.nodeName === nodeName),
      // Pods of nodes joined from other machines: passed on to their node's stream server (kubelet-style).
      remoteStreams: async (_ns, _pod, nodeName) => {
        const url = (await core.client.get<Node>(R.nodes, undefined, nodeName).catch(() => undefined))?.metadata?.annotations?.[ANNOTATION_NODE_API];
        const p = await pkiReady;
        return url ? { url, cert: p.adminCert, key: p.adminKey } : undefined;
      },
      // services/proxy, pods/proxy: from the node namespace that runs the endpoint (node 0 when unknown).
      proxyDial: ({ nodeName, ip, port }) => {
        const n = Math.max(0, agents.findIndex((a) => a.nodeName === nodeName));
        return netnsDial(names.node(n), ip, port);
      },
      // /readyz fails while the store cannot serve (etcd unreachable), as kube-apiserver's etcd check does.
      ready: () => storage.unavailable?.() === undefined,
      handlers: [...ui.handlers, ...(obs?.handlers ?? []), resourceMetricsHandler(() => agents)],
      ...(obs ? { onWrite: obs.onWrite } : {}),
    }));
    cleanups.push(() => server.close());
    const serverURL = opts.advertiseAddress ? `https://${opts.advertiseAddress}:${server.port}` : server.url;
    const graceSeconds = opts.nodeMonitorGracePeriodSeconds ?? 40;
    const clusterInfo: ClusterInfo = {
      name: opts.name, serviceCIDR, podCIDR, clusterDNS: nthAddress(serviceCIDR, 10), clusterDomain: domain, proxyMode,
      nodeLeaseDurationSeconds: graceSeconds,
    };
    joining = await step('join token ready', () => setUpJoining({ storage, pki, client: core.client, stateDir: opts.stateDir, serverURL, cluster: clusterInfo, sharedStore: store.shared,
      serviceAccountKey: serviceAccountKey.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }));
    const startPublishing = (netns: string, address: string): Promise<PublishedApiServer> => {
      const p = publishApiServer({
        server, client: core.client, netns, address, id: apiServerId(opts.stateDir), serverURL,
        leaseDurationSeconds: opts.apiServerLeaseSeconds,
        onError: (e) => log(`! kubernetes endpoints: ${(e as Error).message}`),
      });
      p.catch(() => undefined); // awaited below
      return p;
    };
    const context = await writeKubeconfig(opts.kubeconfig, pki, { name: opts.name, server: server.url, merge: true, setCurrent: true });

    const record: ClusterRecord = {
      stateVersion: STATE_VERSION, name: opts.name, id, pid: process.pid,
      pidStartTime: processIdentity()?.startTime, bootId: processIdentity()?.bootId,
      apiPort: server.port, apiURL: server.url, unixSocket: socketPath, kubeconfig: opts.kubeconfig, context,
      nodes, proxyMode, serviceCIDR, podCIDR, startedAt: new Date().toISOString(),
      role: 'server', joinCommand: joining.joinCommand,
      nodeIPs: Array.from({ length: nodes }, (_, n) => nodeUnderlayIP(n)), nodePortRange: opts.nodePortRange ?? '30000-32767', lbPool: lbPoolText,
    };

    await step('add-on objects present', async () => {
      await ensureObject(core.client, R.services, kubernetesService(serviceCIDR));
      await ensureObject(core.client, R.services, kubeDnsService(serviceCIDR));
      // The DNS Pod reads the API over this server's unix socket: it runs on this server's nodes.
      await ensureObject(core.client, R.deployments, dnsDeployment({ apiSocket: socketPath, zone: domain, upstream: opts.dnsUpstream, nodeSelector: { [LABEL_APISERVER]: apiServerId(opts.stateDir) } }));
    });

    // The node agents start now, beside the controllers and the underlay still being built: an
    // agent needs only the API (it makes its own node namespace and bridge), and the DNS Pod, which
    // `up` waits for, can start only once its node's agent runs (a kubelet also registers its Node
    // whether or not the controller manager runs yet). A second API server's nodes wait for their
    // Pod CIDRs from node IPAM, which needs the controllers: those start in the loop below.
    const nodeNames = Array.from({ length: nodes }, (_, n) => nodeNameOf(opts.name, n, nodes));
    const agentOptions = (n: number, podCIDRn: string): Parameters<typeof startNodeAgent>[0] => {
      const nodeName = nodeNames[n]!;
      const nodeDir = join(opts.stateDir, 'nodes', nodeName);
      linkImageCatalog(opts.stateDir, nodeDir);
      return {
        client: core.client, nodeName, nodeIndex: n, netns: names.node(n), podCIDR: podCIDRn,
        stateDir: nodeDir, clusterDNS: nthAddress(serviceCIDR, 10),
        clusterDomain: domain, idPrefix: `cip-${id}`, internalIP: nodeUnderlayIP(n),
        labels: { ...CONTROL_PLANE_LABELS, [LABEL_APISERVER]: apiServerId(opts.stateDir) }, leaseRenewMs: Math.min(10_000, Math.max(100, (graceSeconds * 1000) / 4)),
        ...(opts.fastBackoff ? { backoffBaseMs: 200, backoffMaxMs: 2000 } : {}),
        imageMode: opts.images ?? 'catalog', imageStoreDir: opts.imageStore, insecureRegistries: opts.insecureRegistries, podPidsLimit: opts.podPidsLimit,
      };
    };
    const startAgent = (n: number, podCIDRn: string): Promise<NodeAgent> => {
      const p = step(`node ${nodeNames[n]} agent started`, () => startNodeAgent(agentOptions(n, podCIDRn)));
      p.catch(() => undefined); // awaited in the node loop
      // Stopped on failure too, also when the failure came while it was still starting.
      cleanups.push(async () => { const a = await p.catch(() => undefined); await a?.stop(); });
      return p;
    };
    const earlyAgents = boot ? undefined : nodeNames.map((_, n) => startAgent(n, nodePodCIDR(podCIDR, n)));

    const runControllers = (): Promise<RunningControllers> => startControllers(core.client, {
      loadBalancerPool: lbPool,
      ...(obs ? { observer: obs.controllerObserver } : {}),
      ...(opts.fastBackoff ? { jobBackoffBaseMs: 1000 } : {}),
      ...(opts.hpaSyncPeriodMs ? { hpaSyncPeriodMs: opts.hpaSyncPeriodMs } : {}),
      serviceAccounts: { caCert: pki.caCert, signLegacyToken: (ns, sa, secret) => core.auth.tokens.issueLegacy(ns, sa, secret) },
      enable: [...ALL_CONTROLLERS, 'nodeipam', 'nodelifecycle'],
      nodeIpam: { clusterCIDR: podCIDR, nodeCIDRMaskSize: 24 },
      nodeLifecycle: { gracePeriodMs: graceSeconds * 1000, podEvictionTimeoutMs: (opts.podEvictionTimeoutSeconds ?? 300) * 1000 },
    });
    // A store other API servers may share (etcd): the controllers run only while this server leads.
    const controllers: RunningControllers = storeOptions.kind === 'sqlite'
      ? await step('controllers running', runControllers)
      : await step('controllers under leader election', () => electedControllers({
        client: core.client, identity: apiServerId(opts.stateDir), leaseDurationMs: opts.leaderElectLeaseMs, start: runControllers, log,
      }));
    cleanups.push(() => controllers.stop());
    // metrics.k8s.io: sampled from the node agents, served through the registry (kubectl top, the HPA).
    const metrics = new MetricsServer({ client: core.client, sources: () => agents, resolutionMs: opts.metricResolutionMs });
    core.registry.setProvider(R.podmetrics, metrics.pods);
    core.registry.setProvider(R.nodemetrics, metrics.nodes);
    metrics.start();
    cleanups.push(() => metrics.stop());

    const netMs = await network;
    log(`✓ ${nodes > 1 ? 'underlay network' : 'outside host'} (${Math.round(netMs)} ms, built meanwhile)`);

    // The first API server's nodes have the fixed N-th blocks; another server's come from node IPAM.
    const nodeCIDRs = boot
      ? await step('Pod CIDRs from node IPAM', () => ipamNodeCIDRs(core.client, nodeNames, { ...CONTROL_PLANE_LABELS, [LABEL_APISERVER]: apiServerId(opts.stateDir) }))
      : nodeNames.map((_, n) => nodePodCIDR(podCIDR, n));
    for (let n = 0; n < nodes; n++) {
      const nodeName = nodeNames[n]!;
      const netns = names.node(n);
      const agent = await (earlyAgents?.[n] ?? startAgent(n, nodeCIDRs[n]!));
      agents.push(agent);
      // Node 0's namespace now has its Pod bridge: the API server listens on its gateway there.
      if (n === 0) published = startPublishing(netns, gatewayOf(nodeCIDRs[0]!));
      // Topology labels, as a cloud provider sets them: the proxies keep PreferClose traffic in a zone.
      if (zones.length) await labelNodeZone(core.client, nodeName, zones[n % zones.length]!);
      await step(`node ${nodeName} joined the underlay`, () => attachNode(id, n, nodeCIDRs));
      // The node itself (not only its Pods) must reach ClusterIPs, e.g. for the DNS readiness check:
      // without a route, locally sent packets fail with "network unreachable" before the proxy's
      // output hook can DNAT them. Service IPs are on no interface, so route them as local.
      await inNetns(netns, 'ip', ['route', 'replace', 'local', serviceCIDR, 'dev', 'lo']);
      // Sync times and errors for `clusterip explain` / `diagnose`, which run as other processes.
      const statusFile = new ProxyStatusWriter(proxyStatusPath(opts.stateDir, nodeName));
      const proxy = await step(`node ${nodeName} proxy (${proxyMode}) started`, () => startProxy({
        client: core.client, nodeName, netns, mode: proxyMode, serviceCIDR, podCIDR, nodeIPs: [nodeUnderlayIP(n)],
        ...(obs ? { onSync: obs.onSync(nodeName, proxyMode) } : {}),
        onStatus: (s) => statusFile.update(s),
      }));
      proxies.push(proxy);
      obs?.addProxy(nodeName, proxy);
      if (opts.advertiseAddress) {
        // Nodes of other machines are reached over VXLAN from this machine's advertised address.
        const overlay = await step(`node ${nodeName} overlay (VXLAN from ${opts.advertiseAddress})`, () => startOverlay({
          client: core.client, nodeName, netns, podCIDR: nodeCIDRs[n]!, clusterCIDR: podCIDR, publicIP: opts.advertiseAddress!,
          onError: (e) => log(`! overlay ${nodeName}: ${(e as Error).message}`),
        }));
        cleanups.push(() => overlay.stop());
      }
      // No flush: the rules live in the node namespace, which is deleted right after (flushing
      // iptables rule by rule would only slow `down`).
      cleanups.push(async () => { await proxy.stop({ flush: false }); statusFile.close(); });
      // This node's share of the LoadBalancer addresses (MetalLB's layer-2 speaker).
      const announcer = await step(`node ${nodeName} load-balancer announcer started`, () => startAnnouncer({ client: core.client, nodeName, netns, interface: 'eth1', pool: lbPool }));
      cleanups.push(() => announcer.stop());
      // NetworkPolicy enforcement: a table of its own in the node namespace (src/netpol/README.md).
      const policy = await step(`node ${nodeName} network policy started`, () => startNetworkPolicy({ client: core.client, nodeName, netns }));
      cleanups.push(() => policy.stop({ flush: false }));
    }
    if (opts.hostNodePorts) {
      const forward = await step('NodePorts forwarded from 127.0.0.1', () => startHostNodePorts({ client: core.client, outsideNetns: names.outside, nodeIP: nodeUnderlayIP(0), log }));
      cleanups.push(() => forward.stop());
    }

    if (obs) {
      const nodeList = agents.map((a, n) => ({ name: a.nodeName, netns: names.node(n) }));
      const hosts = new Map<string, string>([[`${UNDERLAY_PREFIX}.2`, 'outside']]);
      agents.forEach((a, n) => {
        hosts.set(gatewayOf(nodeCIDRs[n]!), `node ${a.nodeName}`);
        hosts.set(nodeUnderlayIP(n), `node ${a.nodeName}`);
      });
      // Stopped before the node namespaces go (cleanups run in reverse order).
      cleanups.push(() => obs.stop());
      // Not awaited here: `waitReady` waits for it beside the DNS check, so the collectors start
      // (~10 short processes) while the DNS Pod starts rather than before the check begins.
      flowsStarted = step('flow collectors started', () => obs.startFlows(core.client, nodeList, hosts)).then((hub) => {
        for (const n of hub.stats().nodes) if (!n.ok) log(`! flows on ${n.node}: ${n.missing}`);
      });
      flowsStarted.catch(() => undefined); // awaited in waitReady
    }
    // The API server on the cluster network and in the `kubernetes` Service (apiforwarder.ts):
    // waited for in `waitReady`, beside the DNS check (its helper is a Node process of its own).
    const publishing = step('API server on the cluster network', () => published!);
    publishing.catch(() => undefined); // awaited in waitReady
    cleanups.push(async () => { await (await publishing.catch(() => undefined))?.stop({ release: true }); });

    view = daemonClusterView(record, domain, agents.map((a, n) => ({ name: a.nodeName, netns: names.node(n), ip: nodeUnderlayIP(n) })), proxies);
    writeRecord(opts.stateDir, record);

    /** Every node Ready, then cluster DNS answering from inside node 0 (the end of `up`). */
    const dnsReady = async (deadline: number, timeoutMs: number): Promise<void> => {
      await step('nodes Ready', async () => {
        for (;;) {
          const list = await core.client.list<Node>(R.nodes, undefined);
          const ready = list.items.filter((nd) => nd.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
          if (ready.length >= nodes) return;
          if (Date.now() > deadline) throw new Error(`nodes not Ready after ${timeoutMs} ms`);
          await new Promise((r) => setTimeout(r, 20));
        }
      });
      // Whether the kube-dns Service has a ready endpoint: until it has, no query can be answered
      // (the proxy has nowhere to send it), and each `dig` is two short processes competing for
      // the CPU with the DNS Pod's own start; an in-process list costs next to nothing.
      const dnsEndpoint = async (): Promise<boolean> => {
        const slices = await core.client.list<EndpointSlice>(R.endpointslices, 'kube-system', { labelSelector: 'kubernetes.io/service-name=kube-dns' }).catch(() => undefined);
        return !!slices?.items.some((sl) => sl.endpoints?.some((e) => e.conditions?.ready !== false));
      };
      await step('cluster DNS answering', async () => {
        for (;;) {
          if (!(await dnsEndpoint())) {
            if (Date.now() > deadline) throw new Error(`cluster DNS not answering after ${timeoutMs} ms: the kube-dns Service has no ready endpoint`);
            await new Promise((r) => setTimeout(r, 20));
            continue;
          }
          // Asked from inside node 0's namespace, never from the host.
          const out = await inNetns(names.node(0), 'dig', ['+short', '+time=1', '+tries=1', '@' + nthAddress(serviceCIDR, 10),
            `kubernetes.default.svc.${domain}`], { timeoutMs: 500 }).catch(() => '');
          if (out.trim() === nthAddress(serviceCIDR, 1)) return;
          if (Date.now() > deadline) throw new Error(`cluster DNS not answering after ${timeoutMs} ms`);
          // Before the DNS Pod listens, a query is refused at once (ICMP port unreachable). A
          // query lost on the way would make dig wait its smallest timeout (1 s), so dig is
          // killed after 500 ms and asked again.
          await new Promise((r) => setTimeout(r, 20));
        }
      });
    };

    return {
      record, joinCommand: joining.joinCommand, client: core.client, agents, proxies, ...(obs ? { observability: obs } : {}),
      async waitReady(timeoutMs = 30_000) {
        const deadline = Date.now() + timeoutMs;
        await Promise.all([flowsStarted, publishing, dnsReady(deadline, timeoutMs)]);
      },
      async stop() {
        await stopAll();
      },
    };
  } catch (err) {
    await network?.catch(() => undefined); // let it finish before its namespaces are removed
    await published?.then((p) => p.stop(), () => undefined);
    await stopAll();
    throw err;
  }
}

/**
 * What explain and diagnose need beyond the API, from the daemon's own objects: the same view the
 * CLI builds from the cluster record (clusterViewFromRecord, src/cli/inspectcommon.ts), with each
 * proxy's status read live instead of from its status file.
 */
function daemonClusterView(rec: ClusterRecord, clusterDomain: string, nodes: { name: string; netns: string; ip: string }[], proxies: readonly Proxy[]): ClusterView {
  const names = topologyNames(rec.id);
  const byName = new Map(nodes.map((n) => [n.name, n.netns]));
  return {
    name: rec.name, proxyMode: rec.proxyMode, serviceCIDR: rec.serviceCIDR, podCIDR: rec.podCIDR, clusterDomain,
    dnsServiceIP: nthAddress(rec.serviceCIDR, 10), nodes,
    outside: { netns: names.outside, ip: `${UNDERLAY_PREFIX}.2` },
    podNetns(pod: Pod) {
      if (pod.spec?.hostNetwork) return pod.spec.nodeName ? byName.get(pod.spec.nodeName) : undefined;
      const uid = pod.metadata?.uid;
      return uid && pod.spec?.nodeName ? podNetnsName(`cip-${rec.id}`, uid) : undefined;
    },
    sandboxNetns: (uid) => podNetnsName(`cip-${rec.id}`, uid),
    proxyStatus: (node) => proxies[nodes.findIndex((n) => n.name === node)]?.status(),
  };
}

/**
 * The node agent (the kubelet's role): registers the Node and keeps its Lease fresh, watches the
 * Pods bound to this node and runs each with a PodWorker, and serves their streams. Pods are keyed
 * `namespace/name` in a deduplicating work queue; a worker's `sync` is the only thing that acts on a
 * Pod. On start it re-adopts Pods a previous agent left running (by their state-dir records) and
 * removes orphans (records whose Pod no longer exists, or whose holder process died).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Duplex, Readable } from 'node:stream';
import type { ConfigMap, Node, Pod, Secret, Service } from 'kubernetes-types/core/v1.js';
import { R } from '../api/resources.js';
import type { ExecOptions, ExecSession, LogOptions, PodStreamProvider } from '../api/streams.js';
import type { Client } from '../client/client.js';
import { Informer } from '../client/informer.js';
import { WorkQueue } from '../client/workqueue.js';
import { ImageCatalog, type UserImageEntry } from './images/catalog.js';
import { Ipam, gatewayOf } from './ipam.js';
import { deleteNetns, ensureNodeNetwork } from './network.js';
import { cleanupOrphan, PodWorker, realClock, type Clock, type WorkerContext } from './podworker.js';
import { PodEvents } from './events.js';
import { NodeProber } from './prober.js';
import { CatalogRuntime } from './runtime/catalog.js';
import { OciRuntime } from './runtime/oci.js';
import type { ContainerRuntime } from './runtime/runtime.js';
import { SelectingRuntime, type ImageMode } from './runtime/select.js';
import { DEFAULT_IMAGE_STORE, ImageStore, KUBELET_GC_POLICY } from '../images/store.js';
import type { GCPolicy } from '../images/gc.js';
import { nodeResources, registerNode, renewLease, setNodeStatus } from './registration.js';
import { referencedObjects } from './volumes/podvolumes.js';
import { TokenManager } from './volumes/tokenmanager.js';
import type { SandboxEnv } from './sandbox.js';
import { NodeStreams } from './streams.js';
import type { NodeUsageSample, UsageSource } from '../api/usage.js';
import { UsageAccountant } from './usage.js';

/** Options of `startNodeAgent`. */
export interface NodeAgentOptions {
  client: Client;
  nodeName: string;
  /** N of node N (informational; the Pod CIDR carries the addressing). */
  nodeIndex: number;
  /** The node's network namespace (created if absent, and then removed on stop). */
  netns: string;
  /** e.g. 10.244.0.0/24 */
  podCIDR: string;
  /** Agent state: IPAM, per-Pod dirs (logs, /etc files, records), images.json. */
  stateDir: string;
  /** 10.96.0.10 */
  clusterDNS: string;
  /** cluster.local */
  clusterDomain: string;
  /** Prefix of Pod network namespace names, e.g. `cip-c1a2` → `cip-c1a2-p<8 hex>`. */
  idPrefix: string;
  /** Extra image entries (besides built-ins and <stateDir>/images.json). */
  images?: Record<string, UserImageEntry>;
  /** The node's InternalIP. Default: the bridge gateway 10.244.N.1. */
  internalIP?: string;
  /** Crash-loop / image-pull backoff base and cap in ms. Default 10 000 / 300 000 (Kubernetes). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Lease renew interval in ms. Default 10 000. */
  leaseRenewMs?: number;
  /** Length of a probe "second" in ms (tests shorten). Default 1000. */
  probeSecondMs?: number;
  /**
   * Every Pod is synced again this often even without a change (the kubelet's sync frequency),
   * which notices what sends no event, e.g. a sandbox holder that died. Default 10 000 ms.
   */
  resyncMs?: number;
  /**
   * Which runtime runs an image (runtime/select.ts): `catalog` (default here: no registry is ever
   * contacted), `auto` (the catalog when it has an entry, else pulled and run with runc), `oci`
   * (everything pulled, except the cluster's own `clusterip/*` images). `clusterip up` defaults
   * to `auto`.
   */
  imageMode?: ImageMode;
  /** The image store (shared by every cluster on the machine). Default /var/lib/clusterip/images. */
  imageStoreDir?: string;
  /** Registries pulled from over plain HTTP besides loopback ones. */
  insecureRegistries?: string[];
  /** The kubelet's podPidsLimit, applied to each OCI container's pids cgroup (default: none). */
  podPidsLimit?: number;
  /** Image GC thresholds (kubelet defaults 85 % / 80 % / 2 min), checked every `imageGCPeriodMs` (5 min). */
  imageGC?: GCPolicy;
  imageGCPeriodMs?: number;
  /** The container runtime. Default: chosen by `imageMode`. */
  runtime?: ContainerRuntime;
  /** Time source for the Pod workers' decisions. Default: the real clock. */
  clock?: Clock;
  /** Skip Node/Lease registration (unit tests against clients without those resources). */
  register?: boolean;
  /** Extra labels on the Node object. */
  labels?: Record<string, string>;
}

/** A running agent. */
export interface NodeAgent extends PodStreamProvider, UsageSource {
  readonly nodeName: string;
  /** Stops the agent. Default: every Pod process, netns and veth it made is removed; Node → NotReady. */
  stop(opts?: { keepPods?: boolean }): Promise<void>;
  /** The worker of a Pod on this node (tests and diagnostics). */
  worker(namespace: string, name: string): PodWorker | undefined;
  /** Resolves once the queue is idle. */
  idle(): Promise<void>;
}

/** Starts a node agent (see NodeAgentOptions). */
export async function startNodeAgent(opts: NodeAgentOptions): Promise<NodeAgent> {
  const { client, nodeName } = opts;
  const podsDir = path.join(opts.stateDir, 'pods');
  fs.mkdirSync(podsDir, { recursive: true });
  // Ownership of the node namespace is remembered in the state dir, so an agent restarted after a
  // crash still removes the namespace its predecessor created.
  const ownedMarker = path.join(opts.stateDir, 'node-netns-owned');
  const createdNetns = (await ensureNodeNetwork(opts.netns, opts.podCIDR)) || fs.existsSync(ownedMarker);
  if (createdNetns) fs.writeFileSync(ownedMarker, opts.netns);
  const internalIP = opts.internalIP ?? gatewayOf(opts.podCIDR);
  const sandboxEnv: SandboxEnv = {
    nodeNetns: opts.netns, podCIDR: opts.podCIDR, idPrefix: opts.idPrefix, ipam: new Ipam(opts.stateDir, opts.podCIDR),
    dns: { clusterDNS: opts.clusterDNS, clusterDomain: opts.clusterDomain },
  };
  let store: ImageStore | undefined;
  let oci: OciRuntime | undefined;
  let runtime = opts.runtime;
  if (!runtime) {
    const mode = opts.imageMode ?? 'catalog';
    if (mode !== 'catalog') {
      store = ImageStore.open(opts.imageStoreDir ?? DEFAULT_IMAGE_STORE);
      oci = new OciRuntime({ store, stateDir: opts.stateDir, insecureRegistries: opts.insecureRegistries, podPidsLimit: opts.podPidsLimit });
    }
    runtime = new SelectingRuntime(mode, new CatalogRuntime(new ImageCatalog(opts.stateDir, opts.images)), oci);
  }
  // The kubelet's image GC: every 5 minutes, unused images go when the disk is above the threshold.
  const gcTimer = store && setInterval(() => { try { store!.gc(opts.imageGC ?? KUBELET_GC_POLICY); } catch { /* next round */ } }, opts.imageGCPeriodMs ?? 300_000);
  gcTimer?.unref();
  const pods = new Informer<Pod>(client, R.pods);
  const services = new Informer<Service>(client, R.services);
  // What Pods read from the API besides themselves: env valueFrom/envFrom and volume contents.
  const configMaps = new Informer<ConfigMap>(client, R.configmaps);
  const secrets = new Informer<Secret>(client, R.secrets);
  const workers = new Map<string, PodWorker>();
  let stopping = false;

  const ctx: WorkerContext = {
    client, nodeName, hostIP: internalIP, sandboxEnv, runtime, prober: new NodeProber(opts.netns), events: new PodEvents(client, nodeName),
    services: () => services.list(),
    enqueue: (key) => queue.add(key),
    backoff: { baseMs: opts.backoffBaseMs ?? 10_000, maxMs: opts.backoffMaxMs ?? 300_000 },
    probeSecondMs: opts.probeSecondMs ?? 1000,
    clock: opts.clock ?? realClock,
    configMap: (ns, name) => configMaps.get(`${ns}/${name}`),
    secret: (ns, name) => secrets.get(`${ns}/${name}`),
    tokens: new TokenManager(client, () => (opts.clock ?? realClock).now()),
    allocatable: nodeResources(),
  };

  const queue = new WorkQueue(async (key) => {
    if (stopping) return;
    const pod = pods.get(key);
    const mine = pod && pod.spec?.nodeName === nodeName ? pod : undefined;
    let w = workers.get(key);
    if (w && (!mine || w.uid !== mine.metadata?.uid)) {
      // Deleted, or replaced by a new Pod of the same name: the API object is already gone (its
      // grace period was spent by the graceful path below, or skipped by a force delete).
      await w.terminate(0);
      workers.delete(key);
      w = undefined;
    }
    if (!mine) return;
    if (!w) {
      w = new PodWorker(ctx, mine, path.join(podsDir, mine.metadata!.uid!));
      const adopted = w.adopt();
      workers.set(key, w);
      const terminal = mine.status?.phase === 'Succeeded' || mine.status?.phase === 'Failed';
      // A finished Pod whose sandbox is gone is never rerun; the worker stays only to clean up.
      if (terminal && !adopted && !mine.metadata?.deletionTimestamp) return;
    }
    await w.sync(mine);
    if (w.done) workers.delete(key);
  }, { workers: 16, baseDelayMs: 200, maxDelayMs: 10_000 });

  // A ConfigMap or Secret that changed (or appeared) is synced into the Pods that use it: their
  // volumes are rewritten, and a container waiting on it (CreateContainerConfigError) can start.
  const touched = (kind: 'configMaps' | 'secrets') => (o: ConfigMap | Secret): void => {
    const key = `${o.metadata?.namespace}/${o.metadata?.name}`;
    for (const w of workers.values()) if (referencedObjects(w.pod)[kind].has(key)) queue.add(w.key);
  };
  configMaps.addHandlers({ onAdd: touched('configMaps'), onUpdate: (_a, b) => touched('configMaps')(b), onDelete: touched('configMaps') });
  secrets.addHandlers({ onAdd: touched('secrets'), onUpdate: (_a, b) => touched('secrets')(b), onDelete: touched('secrets') });

  pods.addHandlers({
    onAdd: (p) => { if (p.spec?.nodeName === nodeName) queue.add(`${p.metadata?.namespace}/${p.metadata?.name}`); },
    onUpdate: (_o, p) => { if (p.spec?.nodeName === nodeName) queue.add(`${p.metadata?.namespace}/${p.metadata?.name}`); },
    onDelete: (p) => { queue.add(`${p.metadata?.namespace}/${p.metadata?.name}`); },
  });

  const identity = { nodeName, podCIDR: opts.podCIDR, internalIP, labels: opts.labels };
  const repostReady = async (): Promise<void> => {
    if (stopping) return;
    const node = await client.get<Node>(R.nodes, undefined, nodeName);
    if (node.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True') await setNodeStatus(client, identity, true);
  };
  let nodeUid: string | undefined;
  if (opts.register !== false) {
    const node = await registerNode(client, identity, true);
    nodeUid = node.metadata?.uid;
    await renewLease(client, nodeName, nodeUid).catch(() => undefined);
  }
  const leaseTimer = opts.register === false ? undefined : setInterval(() => {
    // After each renewal, Ready is posted again if the API does not show it (the node lifecycle
    // controller set it Unknown while this agent could not reach the API), as the kubelet's
    // periodic node status does.
    void renewLease(client, nodeName, nodeUid).then(() => repostReady()).catch(() => undefined);
  }, opts.leaseRenewMs ?? 10_000);

  await Promise.all([services.start(), configMaps.start(), secrets.start(), pods.start()]);

  // Re-adopt or clean up what a previous agent left in the state dir. Pods still bound here are
  // adopted by their worker's first sync; the rest are orphans.
  const live = new Set(pods.list().filter((p) => p.spec?.nodeName === nodeName).map((p) => p.metadata?.uid));
  for (const uid of fs.readdirSync(podsDir)) {
    if (!live.has(uid)) await cleanupOrphan(sandboxEnv, runtime, path.join(podsDir, uid));
  }
  for (const uid of sandboxEnv.ipam.holders()) if (!live.has(uid)) sandboxEnv.ipam.release(uid);
  const resync = setInterval(() => { for (const k of workers.keys()) queue.add(k); }, opts.resyncMs ?? 10_000);
  resync.unref();
  // The kubelet's PLEG relists containers every second; container exits reach the workers on
  // their own (exit events), so the relist here only looks for sandboxes whose holder died.
  const relist = setInterval(() => { for (const w of workers.values()) if (w.sandboxDied()) queue.add(w.key); }, 1000);
  relist.unref();

  // Resource accounting of the containers this agent runs (/metrics/resource, metrics.k8s.io).
  const accountant = new UsageAccountant(`${opts.idPrefix}/${nodeName}`);
  const resourceUsage = async (): Promise<NodeUsageSample> => accountant.sample(nodeName, [...workers.values()].filter((w) => !w.done).map((w) => ({
    namespace: w.pod.metadata?.namespace ?? '', name: w.pod.metadata?.name ?? '', uid: w.uid,
    containers: (w.pod.spec?.containers ?? []).flatMap((c) => {
      const pid = w.container(c.name)?.pid;
      const stats = w.containerStats(c.name);
      return pid ? [{ name: c.name, pid, ...(stats ? { stats } : {}) }] : [];
    }),
  })));

  const streams = new NodeStreams((ns, name) => {
    const w = workers.get(`${ns}/${name}`);
    return w && !w.done ? w : undefined;
  });

  return {
    nodeName,
    resourceUsage,
    worker: (ns, name) => workers.get(`${ns}/${name}`),
    idle: () => queue.whenIdle(),
    logs: (ns: string, pod: string, o: LogOptions, signal: AbortSignal): Promise<Readable> => streams.logs(ns, pod, o, signal),
    exec: (ns: string, pod: string, o: ExecOptions): Promise<ExecSession> => streams.exec(ns, pod, o),
    attach: (ns: string, pod: string, o: ExecOptions): Promise<ExecSession> => streams.attach(ns, pod, o),
    portForward: (ns: string, pod: string, port: number): Promise<Duplex> => streams.portForward(ns, pod, port),
    async stop(o: { keepPods?: boolean } = {}): Promise<void> {
      stopping = true;
      if (leaseTimer) clearInterval(leaseTimer);
      clearInterval(resync);
      clearInterval(relist);
      pods.stop();
      services.stop();
      configMaps.stop();
      secrets.stop();
      queue.stop();
      if (o.keepPods) {
        for (const w of workers.values()) w.detach();
      } else {
        await Promise.all([...workers.values()].map((w) => w.terminate(0)));
        // Syncs already under way finish (they see the worker terminating and start nothing).
        await queue.whenIdle();
        await Promise.all([...workers.values()].map((w) => w.terminate(0)));
        for (const uid of fs.existsSync(podsDir) ? fs.readdirSync(podsDir) : []) await cleanupOrphan(sandboxEnv, runtime, path.join(podsDir, uid));
      }
      workers.clear();
      if (!o.keepPods) accountant.close();
      if (gcTimer) clearInterval(gcTimer);
      oci?.close();
      store?.close();
      await ctx.events.flush();
      if (opts.register !== false) await setNodeStatus(client, identity, false).catch(() => undefined);
      if (!o.keepPods && createdNetns) {
        await deleteNetns(opts.netns);
        fs.rmSync(ownedMarker, { force: true });
      }
    },
  };
}

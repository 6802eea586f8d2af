/**
 * `clusterip up`: checks, then runs the cluster in this process (foreground) or in a detached
 * daemon (`--detach`) that reports its progress and readiness back through a pipe.
 *
 * Exclusivity, in order: a cluster of the same name running from another state directory (machine
 * index), the record's daemon still running, and — the one that holds under races — the state
 * directory's kernel lock (src/cluster/lock.ts), which the daemon takes before it touches anything.
 * The cluster itself (src/cluster/cluster.ts, the whole API server and node) is loaded only in the
 * process that runs it, so the detaching parent starts fast.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { flagHelp, parseArgs, UsageError, type FlagSpec } from './args.js';
import { preflight } from './preflight.js';
import { storeOptions } from './storeflags.js';
import type { StoreOptions } from '../cluster/store.js';
import { HELP_FLAG, NAME_FLAG, resolveTarget, STATE_DIR_FLAG, type Target } from './target.js';
import { detach, refuseIfRunning, runDaemon } from './daemon.js';
import { StateError } from '../cluster/state.js';
import { DEFAULT_LB_POOL, checkLbPool } from '../cluster/lbpool.js';
import { parsePortRange } from '../apiserver/portallocator/allocator.js';
import { ipvsUnavailable } from './ipvs.js';
import { IMAGE_MODES, type ImageMode } from '../node/runtime/select.js';

export const UP_FLAGS: Record<string, FlagSpec> = {
  name: NAME_FLAG,
  nodes: { type: 'number', description: 'number of nodes', default: 1 },
  'proxy-mode': { type: 'string', description: 'service proxy backend: nftables, iptables or userspace (ipvs: not available, says why)', default: 'nftables' },
  'service-node-port-range': { type: 'string', description: 'NodePort range, low-high', default: '30000-32767' },
  'lb-pool': { type: 'string', description: 'LoadBalancer IPs (range, CIDR or list) on the underlay 172.31.255.0/24', default: DEFAULT_LB_POOL },
  'allow-external-ips': { type: 'boolean', description: 'let Services set spec.externalIPs (off: CVE-2020-8554, as the DenyServiceExternalIPs admission plugin)' },
  'host-nodeports': { type: 'boolean', description: 'also forward each NodePort from 127.0.0.1:<nodePort> on this machine (through the outside host; off by default)' },
  zones: { type: 'string', description: 'topology.kubernetes.io/zone of the nodes, comma-separated, assigned in turn (default with --nodes > 1: zone-a,zone-b)' },
  'service-cidr': { type: 'string', description: 'Service IP range', default: '10.96.0.0/12' },
  'pod-cidr': { type: 'string', description: 'Pod IP range (a /16; node N gets the N-th /24)', default: '10.244.0.0/16' },
  'api-port': { type: 'number', description: 'HTTPS port of the API server on 127.0.0.1 (0 = any free port)', default: 6443 },
  'state-dir': STATE_DIR_FLAG,
  kubeconfig: { type: 'string', description: 'kubeconfig to write (default: $KUBECONFIG or ~/.kube/config, merged)' },
  'dns-upstream': { type: 'string', description: 'resolver (ip[:port]) for names outside cluster.local; default: answer REFUSED' },
  detach: { type: 'boolean', description: 'return once the cluster is ready, leaving it running in the background' },
  'metric-resolution': { type: 'number', description: 'seconds between samples of the nodes\' resource use (metrics.k8s.io, kubectl top, autoscaling)', default: 15 },
  'hpa-sync-period': { type: 'number', description: 'seconds between HorizontalPodAutoscaler evaluations', default: 15 },
  store: { type: 'string', description: 'where objects are stored: sqlite (a file in the state dir) or etcd', default: 'sqlite' },
  'etcd-endpoints': { type: 'string', description: 'with --store etcd: comma-separated etcd URLs, e.g. https://h1:2379,https://h2:2379' },
  'etcd-cafile': { type: 'string', description: 'CA bundle that signed the etcd servers\' certificates' },
  'etcd-certfile': { type: 'string', description: 'client certificate presented to etcd' },
  'etcd-keyfile': { type: 'string', description: 'key of --etcd-certfile' },
  'etcd-prefix': { type: 'string', description: 'key prefix in etcd, for several clusters on one etcd', default: '' },
  'etcd-compaction-interval': { type: 'number', description: 'seconds between compactions of etcd history (0 = never)', default: 300 },
  'embedded-etcd': { type: 'boolean', description: 'store in an etcd this daemon runs (Debian etcd-server, loopback, data in <state-dir>/etcd)' },
  'advertise-address': { type: 'string', description: 'this machine\'s IPv4 address other machines reach: accept nodes from them (clusterip join), VXLAN between machines' },
  'bind-address': { type: 'string', description: 'address the API server listens on (default 127.0.0.1, or 0.0.0.0 with --advertise-address)' },
  'node-monitor-grace-period': { type: 'number', description: 'seconds without a heartbeat after which a node is NotReady (agents renew every quarter of it)', default: 40 },
  'pod-eviction-timeout': { type: 'number', description: 'seconds Pods stay on a NotReady node before they are replaced elsewhere', default: 300 },
  server: { type: 'string', description: 'start another API server of the cluster at this URL (https://host:port): CA, settings and store come from it' },
  token: { type: 'string', description: 'with --server: a token with the join-server usage (clusterip token create --usages join-node,join-server)' },
  'discovery-token-ca-cert-hash': { type: 'string', description: 'with --server and a bare bootstrap token: sha256:<hex> of the cluster CA\'s public key' },
  'apiserver-lease-duration': { type: 'number', description: 'seconds after which a dead API server leaves the kubernetes Service\'s endpoints', default: 15 },
  'leader-elect-lease-duration': { type: 'number', description: 'seconds a dead API server keeps the controllers\' leadership (several API servers on one etcd)', default: 15 },
  images: { type: 'string', description: 'what runs an image: auto (the catalog when it has the image, else pull it and run it with runc), catalog (never pull), oci (pull every image)', default: 'auto' },
  'image-store': { type: 'string', description: 'where pulled images are kept, shared by every cluster on the machine', default: '/var/lib/clusterip/images' },
  'insecure-registry': { type: 'string', description: 'comma-separated registries (host:port) to pull from over plain HTTP (loopback ones always may)' },
  'pod-max-pids': { type: 'number', description: 'pids limit of each pulled container (the kubelet\'s --pod-max-pids); -1 = none', default: -1 },
  help: HELP_FLAG,
};


function kubeconfigPath(flag: string | undefined): string {
  if (flag) return flag;
  const env = process.env.KUBECONFIG?.split(':').filter(Boolean)[0];
  return env ?? join(homedir(), '.kube', 'config');
}

async function portFree(port: number): Promise<boolean> {
  if (port === 0) return true;
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}


/** `clusterip up`. */
export async function run(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, UP_FLAGS, { command: 'up' });
  if (flags.help) { console.log(`clusterip up [flags]\n\nStarts a cluster.\n\n${flagHelp(UP_FLAGS)}`); return 0; }
  const t = resolveTarget(flags);
  const mode = String(flags['proxy-mode']);
  if (mode === 'ipvs') throw new UsageError(ipvsUnavailable());
  if (mode !== 'nftables' && mode !== 'iptables' && mode !== 'userspace') throw new UsageError(`--proxy-mode must be nftables, iptables or userspace, not ${JSON.stringify(mode)}`);
  const nodePortRange = String(flags['service-node-port-range']);
  try { parsePortRange(nodePortRange); } catch (e) { throw new UsageError(`--service-node-port-range: ${(e as Error).message}`); }
  const lbPool = String(flags['lb-pool']);
  try { checkLbPool(lbPool); } catch (e) { throw new UsageError(`--lb-pool: ${(e as Error).message}`); }
  const zones = flags.zones === undefined ? undefined : String(flags.zones).split(',').map((z) => z.trim()).filter(Boolean);
  if (zones?.some((z) => !/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(z))) throw new UsageError('--zones: each zone must be a label value (letters, digits, -, _, .)');
  const nodes = Number(flags.nodes);
  if (!(nodes >= 1 && nodes <= 16)) throw new UsageError('--nodes must be between 1 and 16');
  const apiPort = Number(flags['api-port']);
  if (!(apiPort >= 0 && apiPort <= 65535)) throw new UsageError('--api-port must be between 0 and 65535');
  const store = storeOptions(flags);
  const metricResolution = Number(flags['metric-resolution']);
  if (!(metricResolution >= 1 && metricResolution <= 3600)) throw new UsageError('--metric-resolution must be between 1 and 3600 seconds');
  const hpaSyncPeriod = Number(flags['hpa-sync-period']);
  if (!(hpaSyncPeriod >= 1 && hpaSyncPeriod <= 3600)) throw new UsageError('--hpa-sync-period must be between 1 and 3600 seconds');
  const advertise = flags['advertise-address'] as string | undefined;
  const bind = flags['bind-address'] as string | undefined;
  for (const [flag, v] of [['advertise-address', advertise], ['bind-address', bind]] as const) {
    if (v !== undefined && !/^\d{1,3}(\.\d{1,3}){3}$/.test(v)) throw new UsageError(`--${flag} ${JSON.stringify(v)} is not an IPv4 address`);
  }
  const grace = Number(flags['node-monitor-grace-period']);
  const eviction = Number(flags['pod-eviction-timeout']);
  if (!(grace >= 1)) throw new UsageError('--node-monitor-grace-period must be at least 1 second');
  if (!(eviction >= 0)) throw new UsageError('--pod-eviction-timeout must be 0 or more seconds');
  const serverURLs = String(flags.server ?? '').split(',').map((u) => u.trim()).filter(Boolean);
  if (serverURLs.length && !flags.token) throw new UsageError('--server needs --token (a token with the join-server usage)');
  if (!serverURLs.length && flags.token) throw new UsageError('--token goes with --server (joining another API server\'s cluster)');
  if (serverURLs.length && store.kind === 'embedded-etcd') throw new UsageError('--server and --embedded-etcd exclude each other: the second API server uses the first one\'s store');
  const apiLeaseSeconds = Number(flags['apiserver-lease-duration']);
  if (!(apiLeaseSeconds >= 1)) throw new UsageError('--apiserver-lease-duration must be at least 1 second');
  const leaseSeconds = Number(flags['leader-elect-lease-duration']);
  if (!(leaseSeconds >= 1)) throw new UsageError('--leader-elect-lease-duration must be at least 1 second');
  const images = String(flags.images);
  if (!IMAGE_MODES.includes(images as ImageMode)) throw new UsageError(`--images must be auto, catalog or oci, not ${JSON.stringify(images)}`);
  const insecure = String(flags['insecure-registry'] ?? '').split(',').map((r) => r.trim()).filter(Boolean);
  preflight(mode);
  refuseIfRunning(t);
  if (!(await portFree(apiPort))) {
    throw new StateError('PORT_IN_USE', `port ${apiPort} on 127.0.0.1 is in use; choose another with --api-port (e.g. --api-port 6444) or stop what uses it`);
  }
  const kubeconfig = kubeconfigPath(flags.kubeconfig as string | undefined);
  if (flags.detach && !process.env.CLUSTERIP_DAEMON) return detach('up', argv, t, ['--kubeconfig', kubeconfig]);
  return runCluster(t, {
    nodes, proxyMode: mode, apiPort, kubeconfig, nodePortRange, lbPool, zones,
    allowExternalIPs: flags['allow-external-ips'] === true, hostNodePorts: flags['host-nodeports'] === true,
    serviceCIDR: String(flags['service-cidr']), podCIDR: String(flags['pod-cidr']),
    dnsUpstream: flags['dns-upstream'] as string | undefined, store, metricResolution, hpaSyncPeriod,
    advertiseAddress: advertise, bindAddress: bind, nodeMonitorGracePeriodSeconds: grace, podEvictionTimeoutSeconds: eviction,
    leaderElectLeaseMs: leaseSeconds * 1000, apiServerLeaseSeconds: apiLeaseSeconds,
    joinServer: serverURLs.length ? { servers: serverURLs, token: String(flags.token), caCertHash: flags['discovery-token-ca-cert-hash'] as string | undefined } : undefined,
    images: images as ImageMode, imageStore: String(flags['image-store']), insecureRegistries: insecure, podPidsLimit: Number(flags['pod-max-pids']),
  });
}


interface RunOptions {
  nodes: number;
  proxyMode: 'nftables' | 'iptables' | 'userspace';
  nodePortRange: string;
  lbPool: string;
  zones?: string[];
  allowExternalIPs: boolean;
  hostNodePorts: boolean;
  apiPort: number;
  kubeconfig: string;
  serviceCIDR: string;
  podCIDR: string;
  dnsUpstream?: string;
  store: StoreOptions;
  metricResolution: number;
  hpaSyncPeriod: number;
  advertiseAddress?: string;
  bindAddress?: string;
  nodeMonitorGracePeriodSeconds: number;
  podEvictionTimeoutSeconds: number;
  leaderElectLeaseMs: number;
  apiServerLeaseSeconds: number;
  joinServer?: { servers: string[]; token: string; caCertHash?: string };
  images: ImageMode;
  imageStore: string;
  insecureRegistries: string[];
  podPidsLimit: number;
}


/** Runs the cluster in this process until SIGINT/SIGTERM. */
function runCluster(t: Target, o: RunOptions): Promise<number> {
  return runDaemon(t, {
    what: 'cluster', label: `cluster "${t.name}"`,
    startingLine: `Starting cluster "${t.name}" (state in ${t.stateDir})`,
    async start(say) {
      const { startCluster } = await import('../cluster/cluster.js');
      return startCluster({
        name: t.name, stateDir: t.stateDir, nodes: o.nodes, proxyMode: o.proxyMode, apiPort: o.apiPort, kubeconfig: o.kubeconfig,
        serviceCIDR: o.serviceCIDR, podCIDR: o.podCIDR, dnsUpstream: o.dnsUpstream, store: o.store,
        nodePortRange: o.nodePortRange, lbPool: o.lbPool, zones: o.zones, allowExternalIPs: o.allowExternalIPs, hostNodePorts: o.hostNodePorts,
        metricResolutionMs: o.metricResolution * 1000, hpaSyncPeriodMs: o.hpaSyncPeriod * 1000,
        advertiseAddress: o.advertiseAddress, bindAddress: o.bindAddress,
        nodeMonitorGracePeriodSeconds: o.nodeMonitorGracePeriodSeconds, podEvictionTimeoutSeconds: o.podEvictionTimeoutSeconds,
        leaderElectLeaseMs: o.leaderElectLeaseMs, apiServerLeaseSeconds: o.apiServerLeaseSeconds, joinServer: o.joinServer,
        images: o.images, imageStore: o.imageStore, insecureRegistries: o.insecureRegistries, podPidsLimit: o.podPidsLimit,
        log: (l) => say(`  ${l}`),
      });
    },
    readyLines(cluster, ms) {
      const r = cluster.record;
      return [
        `cluster "${t.name}" is ready in ${ms} ms: API ${r.apiURL}, context ${r.context} in ${r.kubeconfig}`,
        '  try: kubectl get nodes; kubectl get svc -A',
        o.advertiseAddress ? `  to add a node on another machine, run there:\n    ${cluster.joinCommand}`
          : `  nodes on other machines can join when started with --advertise-address <this machine's IP> (join token: ${join(t.stateDir, 'pki', 'node-token')})`,
        `  NodePorts and LoadBalancer IPs are on the underlay (nodes ${r.nodeIPs?.join(', ') ?? ''}; LoadBalancer pool ${o.lbPool}); from this machine:`,
        `    sudo clusterip outside --name ${t.name} -- curl http://${r.nodeIPs?.[0] ?? '<node-ip>'}:<nodePort>/`,
        ...(o.hostNodePorts ? ['    or http://127.0.0.1:<nodePort>/ (--host-nodeports: forwarded through the outside host)'] : []),
      ];
    },
  });
}

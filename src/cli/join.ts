/**
 * `clusterip join --server https://H:6443 --token T`: runs this machine's node of an existing
 * cluster — its node agent, service proxy and Pod network (src/cluster/joined.ts) — in the
 * foreground or as a detached daemon (`--detach`), like `up`. The token is what `clusterip up`
 * prints or `clusterip token create` makes: `K10<ca-hash>::<id>.<secret>` (k3s), or `<id>.<secret>`
 * with `--discovery-token-ca-cert-hash sha256:<hex>` (kubeadm). `clusterip down` (same --name /
 * --state-dir) stops it and removes everything it made on this machine.
 */
import { hostname } from 'node:os';
import { flagHelp, parseArgs, UsageError, type FlagSpec } from './args.js';
import { preflight } from './preflight.js';
import { HELP_FLAG, NAME_FLAG, resolveTarget, STATE_DIR_FLAG, type Target } from './target.js';
import { detach, refuseIfRunning, runDaemon } from './daemon.js';

export const JOIN_FLAGS: Record<string, FlagSpec> = {
  server: { type: 'string', description: 'URL of an API server of the cluster, e.g. https://192.168.1.10:6443 (several: comma-separated)' },
  token: { type: 'string', description: 'join token: K10<ca-hash>::<id>.<secret>, or <id>.<secret> with --discovery-token-ca-cert-hash' },
  'discovery-token-ca-cert-hash': { type: 'string', description: 'with a bare bootstrap token: sha256:<hex> of the cluster CA\'s public key (kubeadm)' },
  'node-name': { type: 'string', description: 'name of this node in the cluster (default: this machine\'s hostname)' },
  'node-ip': { type: 'string', description: 'this machine\'s address the other machines reach (default: the source address towards --server)' },
  'proxy-mode': { type: 'string', description: 'service proxy backend: nftables or iptables (default: the cluster\'s)' },
  name: NAME_FLAG,
  'state-dir': STATE_DIR_FLAG,
  detach: { type: 'boolean', description: 'return once the node is Ready, leaving it running in the background' },
  help: HELP_FLAG,
};

/** `clusterip join`. */
export async function run(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, JOIN_FLAGS, { command: 'join' });
  if (flags.help) {
    console.log(`clusterip join --server URL --token TOKEN [flags]\n\nRuns this machine's node (node agent, proxy, Pod network) in an existing cluster.\n\n${flagHelp(JOIN_FLAGS)}`);
    return 0;
  }
  const servers = String(flags.server ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (servers.length === 0) throw new UsageError('--server is required (the URL clusterip up printed, e.g. https://192.168.1.10:6443)');
  for (const s of servers) if (!/^https:\/\/[^/]+\/?$/.test(s)) throw new UsageError(`--server ${JSON.stringify(s)} must be https://host:port`);
  const nodeName = String(flags['node-name'] ?? hostname()).toLowerCase();
  const mode = flags['proxy-mode'] as string | undefined;
  if (mode !== undefined && mode !== 'nftables' && mode !== 'iptables') throw new UsageError(`--proxy-mode must be nftables or iptables, not ${JSON.stringify(mode)}`);
  const nodeIP = flags['node-ip'] as string | undefined;
  if (nodeIP !== undefined && !/^\d{1,3}(\.\d{1,3}){3}$/.test(nodeIP)) throw new UsageError(`--node-ip ${JSON.stringify(nodeIP)} is not an IPv4 address`);
  const t = resolveTarget(flags);
  preflight(mode ?? 'nftables');
  refuseIfRunning(t);
  if (flags.detach && !process.env.CLUSTERIP_DAEMON) return detach('join', argv, t);
  return runNode(t, {
    servers, token: flags.token as string | undefined, caCertHash: flags['discovery-token-ca-cert-hash'] as string | undefined,
    nodeName, nodeIP, proxyMode: mode as 'nftables' | 'iptables' | undefined,
  });
}

interface NodeRunOptions {
  servers: string[];
  token?: string;
  caCertHash?: string;
  nodeName: string;
  nodeIP?: string;
  proxyMode?: 'nftables' | 'iptables';
}

/** Runs the joined node in this process until SIGINT/SIGTERM. */
function runNode(t: Target, o: NodeRunOptions): Promise<number> {
  return runDaemon(t, {
    what: 'node', label: `node "${o.nodeName}"`,
    startingLine: `Joining node "${o.nodeName}" to the cluster at ${o.servers[0]} (state in ${t.stateDir})`,
    async start(say) {
      const { startJoinedNode } = await import('../cluster/joined.js');
      return startJoinedNode({
        name: t.name, stateDir: t.stateDir, servers: o.servers, token: o.token, caCertHash: o.caCertHash,
        nodeName: o.nodeName, nodeIP: o.nodeIP, proxyMode: o.proxyMode, log: (l) => say(`  ${l}`),
      });
    },
    readyLines: (node, ms) => [`node "${o.nodeName}" is Ready in ${ms} ms (Pod CIDR ${node.record.podCIDR}, API through ${node.loadBalancer.url})`],
  });
}

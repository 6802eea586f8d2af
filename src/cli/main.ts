#!/usr/bin/env node
/**
 * The `clusterip` command: up, down, status, outside. See `clusterip help`.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { flagHelp, parseArgs, UsageError, type FlagSpec } from './args.js';
import { down } from './down.js';
import { preflight } from './preflight.js';
import { startCluster } from '../cluster/cluster.js';
import { storeOptions } from './store-flags.js';
import { defaultStateDir, isAlive, readRecord, validateClusterName, StateError } from '../cluster/state.js';
import { topologyNames } from '../cluster/topology.js';
import { cmdTrace } from './trace.js';
import { cmdFlows } from './flows.js';

const NAME: FlagSpec = { type: 'string', description: 'cluster name', default: 'default' };
const STATE_DIR: FlagSpec = { type: 'string', description: 'state directory (default /var/lib/clusterip/<name>)' };

const UP_FLAGS: Record<string, FlagSpec> = {
  name: NAME,
  nodes: { type: 'number', description: 'number of nodes', default: 1 },
  'proxy-mode': { type: 'string', description: 'service proxy backend: nftables or iptables', default: 'nftables' },
  'service-cidr': { type: 'string', description: 'Service IP range', default: '10.96.0.0/12' },
  'pod-cidr': { type: 'string', description: 'Pod IP range (a /16; node N gets the N-th /24)', default: '10.244.0.0/16' },
  'api-port': { type: 'number', description: 'HTTPS port of the API server on 127.0.0.1 (0 = any free port)', default: 6443 },
  'state-dir': STATE_DIR,
  kubeconfig: { type: 'string', description: 'kubeconfig to write (default: $KUBECONFIG or ~/.kube/config, merged)' },
  'dns-upstream': { type: 'string', description: 'resolver (ip[:port]) for names outside cluster.local; default: answer REFUSED' },
  detach: { type: 'boolean', description: 'return once the cluster is ready, leaving it running in the background' },
  store: { type: 'string', description: 'where objects are stored: sqlite (a file in the state dir) or etcd', default: 'sqlite' },
  'etcd-endpoints': { type: 'string', description: 'with --store etcd: comma-separated etcd URLs, e.g. https://h1:2379,https://h2:2379' },
  'etcd-cafile': { type: 'string', description: 'CA bundle that signed the etcd servers\' certificates' },
  'etcd-certfile': { type: 'string', description: 'client certificate presented to etcd' },
  'etcd-keyfile': { type: 'string', description: 'key of --etcd-certfile' },
  'etcd-prefix': { type: 'string', description: 'key prefix in etcd, for several clusters on one etcd', default: '' },
  'etcd-compaction-interval': { type: 'number', description: 'seconds between compactions of etcd history (0 = never)', default: 300 },
  'embedded-etcd': { type: 'boolean', description: 'store in an etcd this daemon runs (Debian etcd-server, loopback, data in <state-dir>/etcd)' },
  help: { type: 'boolean', description: 'show this help' },
};
const DOWN_FLAGS: Record<string, FlagSpec> = {
  name: NAME, 'state-dir': STATE_DIR,
  purge: { type: 'boolean', description: 'also delete stored objects, certificates and the kubeconfig context' },
  help: { type: 'boolean', description: 'show this help' },
};
const STATUS_FLAGS: Record<string, FlagSpec> = { name: NAME, 'state-dir': STATE_DIR, help: { type: 'boolean', description: 'show this help' } };

const USAGE = `clusterip — a Kubernetes-API-compatible cluster on this machine, with real ClusterIP Services

Usage:
  clusterip up [flags]              start a cluster (foreground; Ctrl-C stops it; --detach to background it)
  clusterip down [flags]            stop it and remove every namespace, veth, rule and process it made
  clusterip status [flags]          show components, nodes, CIDRs, proxy mode, API address
  clusterip outside [flags] -- CMD  run CMD on a host outside the cluster network
  clusterip trace svc/NAME [-f]     how each change of a Service travelled: API → slice → rules → DNS → traffic
  clusterip flows [svc/NAME] [-f]   connections through Services: client → ClusterIP → Pod, from conntrack
  clusterip help                    this text

Run 'clusterip <command> --help' for the flags of a command.`;

function stateDirOf(flags: Record<string, unknown>): string {
  const name = String(flags.name);
  validateClusterName(name);
  return (flags['state-dir'] as string | undefined) ?? defaultStateDir(name);
}

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

async function cmdUp(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, UP_FLAGS);
  if (flags.help) { console.log(`clusterip up [flags]\n\n${flagHelp(UP_FLAGS)}`); return 0; }
  const name = String(flags.name);
  const stateDir = stateDirOf(flags);
  const mode = String(flags['proxy-mode']);
  if (mode !== 'nftables' && mode !== 'iptables') throw new UsageError(`--proxy-mode must be nftables or iptables, not ${JSON.stringify(mode)}`);
  const nodes = Number(flags.nodes);
  if (!(nodes >= 1 && nodes <= 16)) throw new UsageError('--nodes must be between 1 and 16');
  const store = storeOptions(flags);
  await preflight(mode);
  const existing = readRecord(stateDir);
  if (existing?.pid && isAlive(existing.pid) && existing.pid !== process.pid) {
    throw new StateError(`a cluster named "${name}" is already running (pid ${existing.pid}, API ${existing.apiURL}); stop it with 'clusterip down --name ${name}'`);
  }
  const apiPort = Number(flags['api-port']);
  if (!(await portFree(apiPort))) {
    throw new StateError(`port ${apiPort} on 127.0.0.1 is in use; choose another with --api-port (e.g. --api-port 6444) or stop what uses it`);
  }
  const kubeconfig = kubeconfigPath(flags.kubeconfig as string | undefined);

  if (flags.detach && !process.env.CLUSTERIP_DAEMON) {
    // Re-run ourselves in the background and wait until the daemon says it is ready.
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const logPath = join(stateDir, 'daemon.log');
    const fd = openSync(logPath, 'w');
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1], 'up', ...argv.filter((a) => a !== '--detach'), '--kubeconfig', kubeconfig], {
      detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, CLUSTERIP_DAEMON: '1' },
    });
    closeSync(fd);
    child.unref();
    let shown = 0;
    for (;;) {
      await new Promise((r) => setTimeout(r, 50));
      const text = existsSync(logPath) ? readFileSync(logPath, 'utf8') : '';
      const lines = text.split('\n');
      for (; shown < lines.length - 1; shown++) console.log(lines[shown]);
      if (/^cluster ".*" is ready/m.test(text)) return 0;
      if (!isAlive(child.pid) || /^error: /m.test(text)) {
        console.error(`clusterip up failed; the daemon log is ${logPath}`);
        return 1;
      }
    }
  }

  const t0 = performance.now();
  console.log(`Starting cluster "${name}" (state in ${stateDir})`);
  const cluster = await startCluster({
    name, stateDir, nodes, proxyMode: mode, apiPort, kubeconfig,
    serviceCIDR: String(flags['service-cidr']), podCIDR: String(flags['pod-cidr']),
    dnsUpstream: flags['dns-upstream'] as string | undefined, store,
    log: (l) => console.log(`  ${l}`),
  });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping cluster "${name}"...`);
    await cluster.stop();
    console.log('stopped; nothing left behind');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  try {
    await cluster.waitReady(60_000);
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    await cluster.stop();
    return 1;
  }
  const r = cluster.record;
  console.log(`cluster "${name}" is ready in ${Math.round(performance.now() - t0)} ms: API ${r.apiURL}, context ${r.context} in ${r.kubeconfig}`);
  console.log(`  try: kubectl get nodes; kubectl get svc -A`);
  if (!process.env.CLUSTERIP_DAEMON) console.log('  (Ctrl-C stops the cluster)');
  return new Promise<number>(() => { /* runs until a signal */ });
}

async function cmdDown(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, DOWN_FLAGS);
  if (flags.help) { console.log(`clusterip down [flags]\n\n${flagHelp(DOWN_FLAGS)}`); return 0; }
  const stateDir = stateDirOf(flags);
  const t0 = performance.now();
  const r = await down(stateDir, { purge: !!flags.purge });
  console.log(`cluster "${flags.name}" ${r.stopped ? 'stopped' : 'was not running'}; removed ${r.namespaces.length} leftover network namespaces` +
    `${r.purged ? '; state purged' : ''} (${Math.round(performance.now() - t0)} ms)`);
  return 0;
}

async function cmdStatus(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, STATUS_FLAGS);
  if (flags.help) { console.log(`clusterip status [flags]\n\n${flagHelp(STATUS_FLAGS)}`); return 0; }
  const rec = readRecord(stateDirOf(flags));
  if (!rec) { console.log(`no cluster named "${flags.name}" (nothing in ${stateDirOf(flags)})`); return 1; }
  const running = isAlive(rec.pid);
  const names = topologyNames(rec.id);
  console.log([
    `cluster:      ${rec.name} (${running ? `running, pid ${rec.pid}` : 'stopped'})`,
    `API server:   ${rec.apiURL} (unix socket ${rec.unixSocket})`,
    `kubeconfig:   ${rec.kubeconfig} (context ${rec.context})`,
    `nodes:        ${rec.nodes} (${Array.from({ length: rec.nodes }, (_, n) => names.node(n)).join(', ')})`,
    `proxy mode:   ${rec.proxyMode}`,
    `Service CIDR: ${rec.serviceCIDR}`,
    `Pod CIDR:     ${rec.podCIDR}`,
    `outside host: ${names.outside} ('clusterip outside --name ${rec.name} -- CMD')`,
  ].join('\n'));
  return running ? 0 : 3;
}

async function cmdOutside(argv: string[]): Promise<number> {
  const { flags, rest } = parseArgs(argv, STATUS_FLAGS);
  if (flags.help || rest.length === 0) { console.log('clusterip outside [--name NAME] -- CMD [ARGS...]\n\nRuns CMD on a host outside the cluster network (no route to the Service CIDR).'); return rest.length ? 0 : 2; }
  const rec = readRecord(stateDirOf(flags));
  if (!rec || !isAlive(rec.pid)) throw new StateError(`cluster "${flags.name}" is not running; start it with 'clusterip up --name ${flags.name}'`);
  const child = spawn('ip', ['netns', 'exec', topologyNames(rec.id).outside, ...rest], { stdio: 'inherit' });
  return new Promise((resolve) => child.on('exit', (code, sig) => resolve(code ?? (sig ? 128 : 1))));
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'up': return cmdUp(rest);
    case 'down': return cmdDown(rest);
    case 'status': return cmdStatus(rest);
    case 'outside': return cmdOutside(rest);
    case 'trace': return cmdTrace(rest);
    case 'flows': return cmdFlows(rest);
    case undefined: case 'help': case '--help': case '-h': console.log(USAGE); return 0;
    default: throw new UsageError(`unknown command ${JSON.stringify(cmd)}\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err: Error) => {
  console.error(`error: ${err.message}`);
  process.exit(err instanceof UsageError ? 2 : 1);
});

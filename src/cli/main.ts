#!/usr/bin/env node
/**
 * The `clusterip` command. One file per subcommand, each loaded only when it runs (so `--help`,
 * `list` or the parent of `up --detach` never load the API server); a new subcommand is one entry in
 * COMMANDS and one file exporting `run(argv) → exit code`.
 */
import { UsageError } from './args.js';

interface Command {
  usage: string;
  summary: string;
  load: () => Promise<{ run(argv: string[]): Promise<number> }>;
}

const COMMANDS: Record<string, Command> = {
  up: { usage: 'up [flags]', summary: 'start a cluster (foreground; Ctrl-C stops it; --detach to background it)', load: () => import('./up.js') },
  down: { usage: 'down [flags]', summary: 'stop it and remove every namespace, veth, rule and process it made', load: () => import('./down.js') },
  status: { usage: 'status [flags]', summary: 'show components, nodes, CIDRs, proxy mode, API address', load: () => import('./status.js') },
  list: { usage: 'list [flags]', summary: 'show every cluster on this machine', load: () => import('./list.js') },
  outside: { usage: 'outside [flags] -- CMD', summary: 'run CMD on a host outside the cluster network', load: () => import('./outside.js') },
  trace: { usage: 'trace svc/NAME [-f]', summary: 'how each change of a Service travelled: API → slice → rules → DNS → traffic', load: () => import('./trace.js') },
  flows: { usage: 'flows [svc/NAME] [-f]', summary: 'connections through Services: client → ClusterIP → Pod, from conntrack', load: () => import('./flows.js') },
  explain: { usage: 'explain svc/NAME', summary: "a Service's path from the live system: DNS, VIP, rules with counters, endpoints, Pods", load: () => import('./explain.js') },
  image: { usage: 'image load|ls|rm|pull', summary: "the machine's image store: load an archive, list, remove, pull", load: () => import('./image.js') },
  diagnose: { usage: 'diagnose [svc/NAME]', summary: 'the "Debug Services" checklist with real probes; a fix for each failure', load: () => import('./diagnose.js') },
  join: { usage: 'join --server URL --token T', summary: 'run this machine\'s node in a cluster whose API server runs elsewhere', load: () => import('./join.js') },
  token: { usage: 'token create|list|delete', summary: 'manage the bootstrap tokens machines join with', load: () => import('./token.js') },
  ui: { usage: 'ui [--open]', summary: 'the web view: URL with a one-time login (topology, packet path, trace, flows, live)', load: () => import('./ui.js') },
};

/** `kubectl clusterip` when run as the kubectl plugin (src/cli/kubectl-clusterip.ts). */
const PROG = process.env.CLUSTERIP_KUBECTL_PLUGIN === '1' ? 'kubectl clusterip' : 'clusterip';

/** The usage column is as wide as the longest usage plus two spaces. */
const USAGE_WIDTH = Math.max(...Object.values(COMMANDS).map((c) => c.usage.length)) + 2;

const USAGE = `${PROG} — a Kubernetes-API-compatible cluster on this machine, with real ClusterIP Services

Usage:
${[...Object.values(COMMANDS).map((c) => [c.usage, c.summary]), ['help', 'this text']]
    .map(([u, s]) => `  ${PROG} ${u!.padEnd(USAGE_WIDTH)}${s}`).join('\n')}

Run '${PROG} <command> --help' for the flags of a command.`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') { console.log(USAGE); return 0; }
  const c = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
  if (!c) throw new UsageError(`unknown command ${JSON.stringify(cmd)}\n\n${USAGE}`);
  return (await c.load()).run(rest);
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err: Error) => {
  console.error(`error: ${err.message}`);
  process.exit(err instanceof UsageError ? 2 : 1);
});

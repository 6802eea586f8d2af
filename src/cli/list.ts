/** `clusterip list`: every cluster on this machine, from the machine index, with its live state. */
import { flagHelp, parseArgs, UsageError, type FlagSpec } from './args.js';
import { HELP_FLAG } from './target.js';
import { listEntries } from '../cluster/machineindex.js';

export const LIST_FLAGS: Record<string, FlagSpec> = {
  output: { type: 'string', short: 'o', description: 'table or json', default: 'table' },
  help: HELP_FLAG,
};

/** `clusterip list`. */
export async function run(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, LIST_FLAGS, { command: 'list' });
  if (flags.help) { console.log(`clusterip list [flags]\n\nShows every cluster on this machine: name, state, pid, API URL, state dir, nodes, proxy mode.\n\n${flagHelp(LIST_FLAGS)}`); return 0; }
  if (flags.output !== 'table' && flags.output !== 'json') throw new UsageError(`--output must be table or json, not ${JSON.stringify(flags.output)}`);
  const rows = listEntries().map(({ entry: e, state }) => ({
    name: e.name, state, pid: state === 'running' || state === 'starting' ? e.pid : undefined,
    apiURL: e.apiURL, stateDir: e.stateDir, nodes: e.nodes, proxyMode: e.proxyMode,
  }));
  if (flags.output === 'json') { console.log(JSON.stringify(rows, null, 2)); return 0; }
  if (rows.length === 0) { console.log('no clusters on this machine (start one with: sudo clusterip up)'); return 0; }
  const table = [['NAME', 'STATE', 'PID', 'API', 'STATE DIR', 'NODES', 'PROXY'],
    ...rows.map((r) => [r.name, r.state, String(r.pid ?? '-'), r.apiURL ?? '-', r.stateDir, String(r.nodes ?? '-'), r.proxyMode ?? '-'])];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  for (const row of table) console.log(row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('   '));
  return 0;
}

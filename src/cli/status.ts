/** `clusterip status`: one cluster's components, nodes, CIDRs, proxy mode and API address. */
import { flagHelp, parseArgs, type FlagSpec } from './args.js';
import { HELP_FLAG, NAME_FLAG, resolveTarget, STATE_DIR_FLAG } from './target.js';
import { entryState } from '../cluster/machineindex.js';
import { daemonRunning } from '../cluster/state.js';
import { topologyNames } from '../cluster/topology.js';

export const STATUS_FLAGS: Record<string, FlagSpec> = { name: NAME_FLAG, 'state-dir': STATE_DIR_FLAG, help: HELP_FLAG };

/** `clusterip status`: exit 0 when running, 3 when stopped, 1 when there is no such cluster. */
export async function run(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, STATUS_FLAGS, { command: 'status' });
  if (flags.help) { console.log(`clusterip status [flags]\n\nShows one cluster: state, API address, nodes, CIDRs, proxy mode.\n\n${flagHelp(STATUS_FLAGS)}`); return 0; }
  const t = resolveTarget(flags);
  const rec = t.record;
  if (!rec) {
    const starting = t.entry && entryState(t.entry) === 'starting';
    console.log(starting ? `cluster "${t.name}" is starting (pid ${t.entry!.pid}, state in ${t.stateDir})` : `no cluster named "${t.name}" (nothing in ${t.stateDir})`);
    return starting ? 0 : 1;
  }
  const running = daemonRunning(rec);
  const state = running ? `running, pid ${rec.pid}` : t.entry && entryState(t.entry) === 'crashed' ? 'crashed (its daemon is gone; `clusterip up` restarts it)' : 'stopped';
  const names = topologyNames(rec.id);
  console.log([
    `cluster:      ${rec.name} (${state})`,
    `state dir:    ${t.stateDir}`,
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

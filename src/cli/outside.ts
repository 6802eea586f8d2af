/** `clusterip outside -- CMD`: runs CMD on the cluster's "outside" host (no route to the Service CIDR). */
import { spawn } from 'node:child_process';
import { parseArgs, type FlagSpec } from './args.js';
import { HELP_FLAG, NAME_FLAG, resolveTarget, STATE_DIR_FLAG } from './target.js';
import { daemonRunning, StateError } from '../cluster/state.js';
import { topologyNames } from '../cluster/topology.js';

export const OUTSIDE_FLAGS: Record<string, FlagSpec> = { name: NAME_FLAG, 'state-dir': STATE_DIR_FLAG, help: HELP_FLAG };

/** `clusterip outside`: the command's exit code. */
export async function run(argv: string[]): Promise<number> {
  const { flags, rest } = parseArgs(argv, OUTSIDE_FLAGS, { command: 'outside' });
  if (flags.help || rest.length === 0) { console.log('clusterip outside [--name NAME] -- CMD [ARGS...]\n\nRuns CMD on a host outside the cluster network (no route to the Service CIDR).'); return rest.length ? 0 : 2; }
  const t = resolveTarget(flags);
  if (!t.record || !daemonRunning(t.record)) throw new StateError('CLUSTER_NOT_RUNNING', `cluster "${t.name}" is not running; start it with 'clusterip up --name ${t.name}'`);
  const child = spawn('ip', ['netns', 'exec', topologyNames(t.record.id).outside, ...rest], { stdio: 'inherit' });
  return new Promise((resolve) => child.on('exit', (code, sig) => resolve(code ?? (sig ? 128 : 1))));
}

/**
 * Commands inside a named network namespace (`ip netns exec <netns> ...`). The namespace name is
 * mandatory and never empty, so nothing run through here can land in the host's own namespace by
 * accident; callers only ever name namespaces the project created (`cip-<id>-...`).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { CommandError, runOk, type CommandOptions } from './command.js';

/** `argv` prefixed to run inside `netns`. Throws CommandError COMMAND_NOT_STARTED for an empty name. */
export function netnsArgv(netns: string, argv: readonly string[]): string[] {
  if (!netns) throw new CommandError('COMMAND_NOT_STARTED', argv, 127, 'network namespace name is empty');
  return ['ip', 'netns', 'exec', netns, ...argv];
}

/** Runs `cmd args...` inside `netns`; resolves with stdout, rejects with CommandError (default limit 30 s). */
export function inNetns(netns: string, cmd: string, args: readonly string[], opts: CommandOptions = {}): Promise<string> {
  return runOk(netnsArgv(netns, [cmd, ...args]), { timeoutMs: 30_000, ...opts });
}

/** Starts a long-lived `argv` inside `netns` with piped stdio (e.g. `nft -i`). */
export function spawnInNetns(netns: string, argv: readonly string[]): ChildProcessWithoutNullStreams {
  const full = netnsArgv(netns, argv);
  return spawn(full[0]!, full.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Names of the named network namespaces (`/run/netns`, where `ip netns add` puts them). */
export async function listNetns(): Promise<string[]> {
  try {
    return readdirSync('/run/netns').sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

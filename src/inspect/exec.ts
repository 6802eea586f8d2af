/**
 * How explain and diagnose start a program (nft, iptables-save, ss, conntrack, dig, the probe
 * helper): src/sys's one command runner, with a default time limit and the CLI's Ctrl-C signal.
 * Every program that touches the network runs inside a namespace the cluster created — `ip netns
 * exec <ns>` (netnsArgv refuses an empty name), `nsenter -t <pid>` or `ss -N <ns>` — never in the
 * host's own. Results never reject: callers read `code`, `timedOut`, `spawnError`, `aborted`.
 */
import { run, type CommandOptions, type CommandResult } from '../sys/command.js';
import { netnsArgv } from '../sys/netns.js';

export type { CommandResult };

/** Runs argv (default limit 10 s). */
export function runCommand(argv: readonly string[], opts: CommandOptions = {}): Promise<CommandResult> {
  return run(argv, { timeoutMs: 10_000, ...opts });
}

/** `ip netns exec <netns> argv...` (default limit 10 s). */
export function inNetns(netns: string, argv: readonly string[], opts: CommandOptions = {}): Promise<CommandResult> {
  if (!netns) return Promise.resolve({ code: 127, stdout: '', stderr: '', spawnError: 'no network namespace given' });
  return run(netnsArgv(netns, argv), { timeoutMs: 10_000, ...opts });
}

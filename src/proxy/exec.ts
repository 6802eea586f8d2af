/**
 * The proxy's executors: functions bound to one network namespace that run a command there
 * (`ip netns exec <netns> ...`) or start a long-lived one (the nft / iptables-restore sessions).
 * They are injected so unit tests can record calls; the real ones use the project's one command
 * runner (src/sys). Every kernel change the proxy makes goes through here, so nothing ever touches
 * the host's own namespace: the namespace name is mandatory and never empty.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { run, runOk, type CommandResult } from '../sys/command.js';
import { netnsArgv, spawnInNetns } from '../sys/netns.js';
import { ProxyError } from './errors.js';

/** What a finished command left (exit code, output). */
export type ExecResult = CommandResult;

/** A function that runs argv in the proxy's namespace. Injected so unit tests can record calls. */
export type NetnsExec = (argv: string[], stdin?: string) => Promise<ExecResult>;

/** A function that starts a long-lived argv in the proxy's namespace with piped stdio. */
export type NetnsSpawn = (argv: string[]) => ChildProcessWithoutNullStreams;

function checkNetns(netns: string): void {
  if (!netns) throw new ProxyError('INVALID_PROXY_OPTIONS', 'network namespace name is empty');
}

/** Runs `argv` in `netns`; resolves with the exit code (callers decide what non-zero means). */
export async function runInNetns(netns: string, argv: string[], stdin?: string): Promise<ExecResult> {
  checkNetns(netns);
  return run(netnsArgv(netns, argv), { input: stdin });
}

/** Like runInNetns but rejects with CommandError unless the command exits 0. */
export async function mustRunInNetns(netns: string, argv: string[], stdin?: string): Promise<string> {
  checkNetns(netns);
  return runOk(netnsArgv(netns, argv), { input: stdin });
}

/** An executor bound to one namespace. */
export function netnsExec(netns: string): NetnsExec {
  return (argv, stdin) => runInNetns(netns, argv, stdin);
}

/** A starter of long-lived processes bound to one namespace (`ip netns exec <netns> ...`). */
export function netnsSpawn(netns: string): NetnsSpawn {
  checkNetns(netns);
  return (argv) => spawnInNetns(netns, argv);
}

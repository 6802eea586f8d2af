/**
 * Runs a command inside a network namespace (`ip netns exec <netns> ...`), optionally feeding it
 * stdin, or starts a long-lived one there (the nftables session). Every kernel change the proxy
 * makes goes through here, so nothing ever touches the host's own namespace: the namespace name is
 * mandatory and never empty.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { ProxyError } from './errors.js';

export interface ExecResult { stdout: string; stderr: string; code: number }

/** A function that runs argv in the proxy's namespace. Injected so unit tests can record calls. */
export type NetnsExec = (argv: string[], stdin?: string) => Promise<ExecResult>;

/** A function that starts a long-lived argv in the proxy's namespace with piped stdio. */
export type NetnsSpawn = (argv: string[]) => ChildProcessWithoutNullStreams;

/** Runs `argv` in `netns`; resolves with the exit code (callers decide what non-zero means). */
export function runInNetns(netns: string, argv: string[], stdin?: string): Promise<ExecResult> {
  if (!netns) return Promise.reject(new ProxyError('InvalidProxyOptions', 'network namespace name is empty'));
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', netns, ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new ProxyError('KernelCommandFailed', `${argv[0]}: ${e.message}`)));
    child.on('close', (code) => resolve({
      stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), code: code ?? 1,
    }));
    child.stdin.on('error', () => { /* the command exited early; its exit code tells why */ });
    child.stdin.end(stdin ?? '');
  });
}

/** Like runInNetns but throws KernelCommandFailed on a non-zero exit. */
export async function mustRunInNetns(netns: string, argv: string[], stdin?: string): Promise<string> {
  const r = await runInNetns(netns, argv, stdin);
  if (r.code !== 0) {
    throw new ProxyError('KernelCommandFailed', `${argv.join(' ')} (in ${netns}) exited ${r.code}: ${r.stderr.trim().slice(0, 2000)}`);
  }
  return r.stdout;
}

/** An executor bound to one namespace. */
export function netnsExec(netns: string): NetnsExec {
  return (argv, stdin) => runInNetns(netns, argv, stdin);
}

/** A starter of long-lived processes bound to one namespace (`ip netns exec <netns> ...`). */
export function netnsSpawn(netns: string): NetnsSpawn {
  if (!netns) throw new ProxyError('InvalidProxyOptions', 'network namespace name is empty');
  return (argv) => spawn('ip', ['netns', 'exec', netns, ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
}

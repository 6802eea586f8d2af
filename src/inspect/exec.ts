/**
 * The one place explain and diagnose start a program (nft, iptables-save, ss, conntrack, the probe
 * helper). Every program that touches the network runs inside a namespace the cluster created —
 * callers pass `ip netns exec <ns>`, `nsenter --net=…` or `ss -N <ns>` — never in the host's own.
 * Bounded by a timeout and an AbortSignal (Ctrl-C ends what is running).
 */
import { spawn } from 'node:child_process';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CommandOptions {
  input?: string;
  /** Kill after this long (default 10 s); the result then has code 124 and says so in stderr. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Runs argv; resolves with its exit code and output (never rejects for a non-zero exit). */
export function runCommand(argv: readonly string[], opts: CommandOptions = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    if (opts.signal?.aborted) { resolve({ code: 130, stdout: '', stderr: 'aborted' }); return; }
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, opts.timeoutMs ?? 10_000);
    const onAbort = (): void => { child.kill('SIGKILL'); };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve({ code: 127, stdout: '', stderr: `${argv[0]}: ${e.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      const stderr = Buffer.concat(err).toString();
      resolve({
        code: timedOut ? 124 : code ?? 1, stdout: Buffer.concat(out).toString(),
        stderr: timedOut ? `${stderr}${argv.join(' ')}: timed out after ${opts.timeoutMs ?? 10_000} ms` : stderr,
      });
    });
    child.stdin.on('error', () => { /* exited before reading stdin */ });
    child.stdin.end(opts.input ?? '');
  });
}

/** `ip netns exec <netns> argv...` */
export function inNetns(netns: string, argv: readonly string[], opts?: CommandOptions): Promise<CommandResult> {
  if (!netns) return Promise.resolve({ code: 2, stdout: '', stderr: 'no network namespace given' });
  return runCommand(['ip', 'netns', 'exec', netns, ...argv], opts);
}

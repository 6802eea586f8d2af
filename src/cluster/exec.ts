/**
 * Running the system tools the cluster needs (ip, nft, ...) with clear errors. Every command that
 * touches networking runs inside a project-created namespace via `inNetns`.
 */
import { execFile } from 'node:child_process';

export class CommandError extends Error {
  constructor(readonly command: string, readonly code: number | null, readonly stderr: string) {
    super(`${command} failed (exit ${code}): ${stderr.trim()}`);
    this.name = 'CommandError';
  }
}

/** Runs `cmd args...`, resolving with stdout; rejects with CommandError. */
export function run(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new CommandError([cmd, ...args].join(' '), typeof err.code === 'number' ? err.code : null, String(stderr || err.message)));
      else resolve(String(stdout));
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Runs a command inside network namespace `netns` (which the project created). */
export function inNetns(netns: string, cmd: string, args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<string> {
  return run('ip', ['netns', 'exec', netns, cmd, ...args], opts);
}

/** Names of the network namespaces that exist. */
export async function listNetns(): Promise<string[]> {
  const out = await run('ip', ['netns', 'list']);
  return out.split('\n').map((l) => l.split(' ')[0]).filter(Boolean);
}

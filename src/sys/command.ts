/**
 * The one command runner of the project: every layer that runs a system tool (ip, nft,
 * iptables-restore, conntrack, nsenter, dig...) runs it through `run` or `runOk`, and every failure
 * is one error type, `CommandError`, with a stable `code`. It only spawns: which namespace a command
 * runs in is the caller's decision (see `netns.ts`), never this module's.
 */
import { spawn } from 'node:child_process';

/** Options of {@link run} and {@link runOk}. */
export interface CommandOptions {
  /** Written to the command's stdin, which is then closed (default: an empty stdin). */
  input?: string;
  /** SIGKILLs the command after this many milliseconds (default: no limit). */
  timeoutMs?: number;
  /** SIGKILLs the command when aborted (e.g. Ctrl-C of a CLI command); the result then has `aborted`. */
  signal?: AbortSignal;
}

/** What a finished command left. */
export interface CommandResult {
  /** Exit code; 128 + signal number when a signal ended it; 127 when it could not be started. */
  code: number;
  stdout: string;
  stderr: string;
  /** Set when the command never ran (e.g. ENOENT: not installed). */
  spawnError?: string;
  /** Set when `timeoutMs` ran out and the command was killed. */
  timedOut?: boolean;
  /** Set when `signal` aborted the command (or it was aborted before it started). */
  aborted?: boolean;
}

/**
 * Stable codes of {@link CommandError}:
 * - `COMMAND_FAILED`: the command ran and exited non-zero (or was killed by a signal);
 * - `COMMAND_NOT_STARTED`: it could not be started (not installed, not executable);
 * - `COMMAND_TIMED_OUT`: it ran longer than `timeoutMs` and was killed.
 */
export type CommandErrorCode = 'COMMAND_FAILED' | 'COMMAND_NOT_STARTED' | 'COMMAND_TIMED_OUT';

/** A command that did not succeed. The message names the command, its exit code and its stderr. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(
    readonly code: CommandErrorCode,
    readonly argv: readonly string[],
    readonly exitCode: number,
    readonly stderr: string,
  ) {
    const what = code === 'COMMAND_NOT_STARTED' ? 'could not be started'
      : code === 'COMMAND_TIMED_OUT' ? 'timed out' : `failed (exit ${exitCode})`;
    super(`${argv.join(' ')} ${what}: ${stderr.trim().slice(0, 2000)}`);
  }

  /** The error for a finished command's result (which must not be a success). */
  static of(argv: readonly string[], r: CommandResult): CommandError {
    const code = r.spawnError !== undefined ? 'COMMAND_NOT_STARTED' : r.timedOut ? 'COMMAND_TIMED_OUT' : 'COMMAND_FAILED';
    return new CommandError(code, argv, r.code, r.spawnError ?? r.stderr);
  }
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15 };

/** Runs `argv` to completion. Never rejects: a non-zero exit, a failed start and a timeout are in the result. */
export function run(argv: readonly string[], opts: CommandOptions = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    if (argv.length === 0 || !argv[0]) {
      resolve({ code: 127, stdout: '', stderr: '', spawnError: 'empty command' });
      return;
    }
    if (opts.signal?.aborted) {
      resolve({ code: 130, stdout: '', stderr: '', aborted: true });
      return;
    }
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    let aborted = false;
    let spawnError: string | undefined;
    const timer = opts.timeoutMs ? setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, opts.timeoutMs) : undefined;
    const onAbort = (): void => { aborted = true; child.kill('SIGKILL'); };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => { spawnError = `${argv[0]}: ${e.message}`; });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      const r: CommandResult = {
        code: spawnError !== undefined ? 127 : code ?? 128 + (SIGNALS[signal ?? ''] ?? 0),
        stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(),
      };
      if (spawnError !== undefined) r.spawnError = spawnError;
      if (timedOut) r.timedOut = true;
      if (aborted) r.aborted = true;
      resolve(r);
    });
    child.stdin.on('error', () => { /* the command may exit without reading its stdin */ });
    child.stdin.end(opts.input ?? '');
  });
}

/** Runs `argv` and resolves with its stdout; rejects with {@link CommandError} unless it exits 0. */
export async function runOk(argv: readonly string[], opts: CommandOptions = {}): Promise<string> {
  const r = await run(argv, opts);
  if (r.code !== 0 || r.spawnError !== undefined) throw CommandError.of(argv, r);
  return r.stdout;
}

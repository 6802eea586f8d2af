/**
 * A PodStreamProvider for wire tests, standing in for the node agent: exec understands
 * `echo ARGS...`, `cat` (stdin → stdout until stdin closes), `exit N` (writes "bye" to stderr) and
 * `sh -c 'exit N'`; logs are two fixed lines naming the Pod. No processes are started.
 */
import { PassThrough, Readable } from 'node:stream';
import { ApiError } from '../../src/api/errors.js';
import type { ExecOptions, ExecResult, ExecSession, PodStreamProvider } from '../../src/api/streams.js';

function session(opts: ExecOptions): ExecSession {
  const stdin = new PassThrough(); const stdout = new PassThrough(); const stderr = new PassThrough();
  let resolve!: (r: ExecResult) => void;
  const result = new Promise<ExecResult>((r) => { resolve = r; });
  let done = false;
  const finish = (exitCode: number): void => { if (done) return; done = true; stdout.end(); stderr.end(); resolve({ exitCode }); };
  const [cmd, ...args] = opts.command ?? [];
  const err = opts.tty ? stdout : stderr;
  if (cmd === 'echo') { stdout.write(args.join(' ') + '\n'); finish(0); }
  else if (cmd === 'cat') { stdin.on('data', (d: Buffer) => stdout.write(d)); stdin.on('end', () => finish(0)); }
  else if (cmd === 'exit') { err.write('bye\n'); finish(Number(args[0] ?? 0)); }
  else if (cmd === 'sh' && args[0] === '-c' && /^exit \d+$/.test(args[1] ?? '')) finish(Number(args[1].slice(5)));
  else { err.write(`${cmd}: not found\n`); finish(127); }
  return { stdin: opts.stdin ? stdin : undefined, stdout, stderr: opts.tty ? undefined : stderr, result, close: () => finish(137) };
}

/** The fake provider. */
export const fakeStreams: PodStreamProvider = {
  async logs(_ns, pod, opts) {
    const lines = [`hello from ${pod}\n`, `container ${opts.container ?? '(default)'}\n`];
    return Readable.from(opts.tailLines !== undefined ? lines.slice(-opts.tailLines) : lines);
  },
  async exec(_ns, _pod, opts) { return session(opts); },
  async attach(_ns, _pod, opts) { return session({ ...opts, command: ['cat'] }); },
  async portForward() { throw new ApiError(501, 'NotImplemented', 'port-forward is not served by the fake provider'); },
};

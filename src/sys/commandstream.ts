/**
 * A command's stdin and stdout as one byte stream in this process (a Duplex): what writes to it
 * goes to the command's stdin, what the command prints comes out of it. Used for TCP connections
 * made by `busybox nc` inside a network namespace (a Pod's port-forward, the API server's
 * services/proxy dials), so no packet leaves from the machine's own namespace.
 *
 * Ending the write side ends the command's stdin (busybox nc then shuts down its write side, so a
 * half-close reaches the remote end). The stream ends when the command exits 0; any other exit
 * ends it with the error `failure` makes of the command's stderr (the caller words it).
 */
import { spawn } from 'node:child_process';
import { Duplex } from 'node:stream';

export function commandStream(argv: readonly string[], failure: (stderr: string, code: number | null, signal: NodeJS.Signals | null) => Error): Duplex {
  const [cmd, ...args] = argv;
  const child = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.on('error', () => undefined);
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => { if (stderr.length < 4096) stderr += b.toString(); });
  const d = new Duplex({
    read() { child.stdout.resume(); },
    write(chunk: Buffer, _enc, cb) { child.stdin.write(chunk, cb); },
    final(cb) { child.stdin.end(); cb(); },
    destroy(err, cb) { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); cb(err); },
  });
  child.stdout.on('data', (b: Buffer) => { if (!d.push(b)) child.stdout.pause(); });
  // The stream ends only once the exit status is known, so a failed connect is an error rather
  // than an empty success.
  child.on('close', (code, signal) => {
    if (d.destroyed) return;
    if (code === 0) { d.push(null); return; }
    d.destroy(failure(stderr, code, signal));
  });
  child.on('error', (e) => d.destroy(e));
  return d;
}

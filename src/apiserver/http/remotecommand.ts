/**
 * pods/exec and pods/attach over SPDY/3.1 (the remotecommand protocol older kubectl and client-go
 * speak, and what kubectl falls back to when the WebSocket upgrade is refused): the client asks for
 * `Upgrade: SPDY/3.1` offering `X-Stream-Protocol-Version`s, the server answers 101 with the one it
 * chose, and the client opens one stream per channel, named by its `streamType` header: `error`
 * (always), `stdin`, `stdout`, `stderr` (not with a TTY) and, from v3 on with a TTY, `resize`
 * (a sequence of `{"Width":..,"Height":..}` objects). When every expected stream is there the
 * session runs; at its end the outputs get FIN, then the error stream carries the outcome — v4: a
 * Status (Success, or NonZeroExitCode with the code as a cause), v2/v3: the error text — and the
 * connection closes, as the kubelet's remotecommand server does.
 *
 * Everything that can fail (the Pod, the container, the options) is checked before the 101, so a
 * refusal reaches the client as the answer to its upgrade (kubectl prints
 * `unable to upgrade connection: container not found ("c")`).
 */
import type { ExecSession } from '../../api/streams.js';
import { exitStatus } from './channels.js';
import { SpdyServerSession, type SpdyStream, type SpdyTransport } from './spdy/session.js';

/** The remotecommand versions served over SPDY, most preferred first (v5 is WebSocket-only). */
export const SPDY_EXEC_PROTOCOLS = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'] as const;

/** httpstream.Handshake: the first of the client's offered versions this server speaks; undefined when none. */
export function negotiateSpdyProtocol(offered: readonly string[]): string | undefined {
  return offered.find((p) => (SPDY_EXEC_PROTOCOLS as readonly string[]).includes(p));
}

/** The 101 answer to a remotecommand SPDY upgrade. */
export function spdyExecUpgradeResponse(protocol: string): string {
  return `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`;
}

/** Which streams the client will open for these options (the kubelet waits for exactly these). */
export function expectedStreams(opts: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean }, protocol: string): Set<string> {
  const s = new Set(['error']);
  if (opts.stdin) s.add('stdin');
  if (opts.stdout) s.add('stdout');
  if (opts.stderr && !opts.tty) s.add('stderr');
  if (opts.tty && protocol !== 'v2.channel.k8s.io' && protocol !== 'channel.k8s.io') s.add('resize');
  return s;
}

/** Options of {@link startSpdyExec}. */
export interface SpdyExecOptions {
  protocol: string;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  /** How long the client may take to open its streams (kubelet: 30 s). */
  streamCreationTimeoutMs?: number;
  onClose?(): void;
}

/** Reads concatenated JSON objects (Go's json.Decoder on the resize stream). */
function resizeReader(onSize: (w: number, h: number) => void): (chunk: Buffer) => void {
  let buf = '';
  return (chunk) => {
    buf += chunk.toString('utf8');
    for (;;) {
      const end = buf.indexOf('}');
      if (end < 0) { if (buf.length > 4096) buf = ''; return; }
      const text = buf.slice(0, end + 1);
      buf = buf.slice(end + 1);
      try {
        const s = JSON.parse(text.slice(text.indexOf('{'))) as { Width?: number; Height?: number };
        if (typeof s.Width === 'number' && typeof s.Height === 'number') onSize(s.Width, s.Height);
      } catch { /* malformed sizes are ignored, as the kubelet does */ }
    }
  };
}

/** Serves one exec/attach connection: `session` is already running (checked before the 101). */
export function startSpdyExec(transport: SpdyTransport, session: ExecSession, opts: SpdyExecOptions): SpdyServerSession {
  const want = expectedStreams(opts, opts.protocol);
  const streams = new Map<string, SpdyStream>();
  let started = false;
  let finished = false;
  const timer = setTimeout(() => {
    if (started) return;
    session.close();
    spdy.close();
  }, opts.streamCreationTimeoutMs ?? 30_000);

  const finish = (outcome: { exitCode: number } | { error: string }): void => {
    if (finished) return;
    finished = true;
    const error = streams.get('error');
    if (error && !error.destroyed) {
      if (opts.protocol === 'v4.channel.k8s.io') error.write(JSON.stringify(exitStatus(outcome)));
      else if ('error' in outcome) error.write(outcome.error);
      else if (outcome.exitCode !== 0) error.write(`command terminated with non-zero exit code: error executing command [], exit code ${outcome.exitCode}`);
      error.end();
    }
    // Let the FINs reach the client before the connection goes.
    setTimeout(() => spdy.close(), 50).unref();
  };

  const run = (): void => {
    started = true;
    clearTimeout(timer);
    const pipeOut = (src: NodeJS.ReadableStream | undefined, dst: SpdyStream | undefined): Promise<void> => new Promise((resolve) => {
      if (!src || !dst) { dst?.end(); resolve(); return; }
      src.on('data', (d: Buffer) => { if (!dst.destroyed && !dst.write(d)) src.pause(); });
      dst.on('drain', () => src.resume());
      const done = (): void => { if (!dst.destroyed && !dst.writableEnded) dst.end(); resolve(); };
      src.on('end', done); src.on('close', done); src.on('error', done);
    });
    const outputs = Promise.all([pipeOut(session.stdout, streams.get('stdout')), pipeOut(session.stderr, streams.get('stderr'))]);
    const stdin = streams.get('stdin');
    if (stdin) {
      session.stdin?.on('error', () => { /* the process is gone: EPIPE is expected */ });
      stdin.on('data', (d: Buffer) => { if (session.stdin && !session.stdin.writableEnded) session.stdin.write(d); });
      stdin.on('end', () => session.stdin?.end());
    }
    const resize = streams.get('resize');
    if (resize && session.resize) resize.on('data', resizeReader((w, h) => session.resize!(w, h)));
    session.result.then(async (r) => { await outputs; finish(r); }, (e: unknown) => finish({ error: (e as Error)?.message ?? String(e) }));
  };

  const spdy = new SpdyServerSession(transport, {
    onStream: (s) => {
      s.on('error', () => { /* the connection went away; onClose cleans up */ });
      const type = s.header('streamtype') ?? '';
      if (!want.has(type) || streams.has(type) || started) { s.destroy(); return; }
      s.reply();
      streams.set(type, s);
      if (type !== 'stdin' && type !== 'resize') s.resume(); // nothing is read from output streams
      if (streams.size === want.size) run();
    },
    onClose: () => {
      clearTimeout(timer);
      if (!finished) session.close();
      opts.onClose?.();
    },
  });
  return spdy;
}

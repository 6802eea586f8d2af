/**
 * The node side of pods/log, pods/exec, pods/attach and pods/portforward (PodStreamProvider from
 * src/api/streams.ts). The API server owns the wire; this owns the processes:
 * - logs read the per-container log files (one file per restart, so `previous` is the file before);
 * - exec runs the command through the container runtime's exec entry (catalog runtime: `nsenter -t
 *   <holder> -n -u -m -- cmd`), under `script` for a real pseudo-terminal;
 * - attach writes to the container's stdin FIFO (closing it after the first attach for stdinOnce)
 *   and follows its log file;
 * - portForward runs busybox `nc 127.0.0.1 <port>` inside the Pod's network namespace, so the bytes
 *   are sent from inside the Pod, never from the host namespace.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { Duplex, PassThrough, Readable } from 'node:stream';
import { ApiError, badRequest, notFound } from '../api/errors.js';
import { R } from '../api/resources.js';
import { StreamRefusal, type ExecOptions, type ExecSession, type LogOptions, type PodStreamProvider } from '../api/streams.js';
import { commandStream } from '../sys/commandstream.js';
import { LogTimesReader } from './logtimes.js';
import { renderLogLines } from './logview.js';
import { containerLogPath, type PodWorker } from './podworker.js';

/** Finds the worker running a Pod on this node. */
export type WorkerLookup = (namespace: string, name: string) => PodWorker | undefined;

function worker(lookup: WorkerLookup, ns: string, name: string): PodWorker {
  const w = lookup(ns, name);
  if (!w) throw notFound(R.pods, name);
  return w;
}

function pick(w: PodWorker, container?: string): NonNullable<ReturnType<PodWorker['container']>> {
  const c = w.container(container);
  if (!c) {
    throw badRequest(`container ${container} is not valid for pod ${w.pod.metadata?.name}`);
  }
  return c;
}

/** Serves the streaming subresources for the Pods of one agent. */
export class NodeStreams implements PodStreamProvider {
  constructor(private readonly lookup: WorkerLookup) {}

  async logs(namespace: string, pod: string, opts: LogOptions, signal: AbortSignal): Promise<Readable> {
    const w = worker(this.lookup, namespace, pod);
    const c = pick(w, opts.container);
    let n = c.view.restartCount;
    if (opts.previous) {
      if (n === 0 && !c.view.last) throw badRequest(`previous terminated container "${c.spec.name}" in pod "${pod}" not found`);
      if (c.view.running || c.view.waiting) n -= 1;
    }
    const file = containerLogPath(w.dir, c.spec.name, Math.max(0, n));
    if (!fs.existsSync(file)) {
      if (!c.view.running && !c.view.last) {
        throw new ApiError(400, 'BadRequest', `container "${c.spec.name}" in pod "${pod}" is waiting to start: ${c.view.waiting?.reason ?? 'ContainerCreating'}`);
      }
      return Readable.from([]);
    }
    const sinceMs = opts.sinceTime !== undefined ? Date.parse(opts.sinceTime)
      : opts.sinceSeconds !== undefined ? Date.now() - opts.sinceSeconds * 1000 : undefined;
    const stamped = opts.timestamps || sinceMs !== undefined;
    const following = !!opts.follow && !opts.previous;
    // Lines get the time they were written (logtimes.ts); everything written so far gets a time first.
    // One reader for the whole request: a follow parses only the records added since its last poll.
    const times = stamped ? new LogTimesReader(file) : undefined;
    const render = (bytes: Buffer, base: number, view: { tailLines?: number }): Buffer => {
      if (!stamped && view.tailLines === undefined) return bytes;
      if (!opts.previous) w.flushLogTimes(c.spec.name);
      let mtime = Date.now();
      try { mtime = fs.statSync(file).mtimeMs; } catch { /* removed: the Pod is going */ }
      return renderLogLines(bytes, base, times?.read() ?? [], mtime, { timestamps: opts.timestamps, sinceMs, ...view });
    };
    const all = fs.readFileSync(file);
    let offset = all.length;
    let text: Buffer;
    if (following && stamped && opts.tailLines !== 0) {
      // Stamped output that follows goes line by line (see the poll below): a last line still being
      // written is left to the poll, so it is stamped once, when complete. It still counts for tail.
      offset = all.lastIndexOf(0x0a) + 1;
      const partial = offset < all.length ? 1 : 0;
      const tailLines = opts.tailLines === undefined ? undefined : opts.tailLines - partial;
      text = render(all.subarray(0, offset), 0, { tailLines });
    } else {
      text = render(all, 0, { tailLines: opts.tailLines });
    }
    if (opts.limitBytes !== undefined) text = text.subarray(0, opts.limitBytes);
    if (!following) return Readable.from(text.length ? [text] : []);
    times?.forgetBefore(offset);
    const out = new PassThrough();
    if (text.length) out.write(text);
    const poll = setInterval(() => {
      const cur = w.container(opts.container);
      // The stream ends when this container instance has exited (kubectl logs -f returns).
      const ended = w.done || !cur || cur.view.restartCount !== n || (!cur.view.running && !!cur.view.last);
      try {
        const size = fs.statSync(file).size;
        if (size > offset) {
          const fd = fs.openSync(file, 'r');
          const buf = Buffer.alloc(size - offset);
          fs.readSync(fd, buf, 0, buf.length, offset);
          fs.closeSync(fd);
          // Stamped output goes line by line: a line still being written waits for its newline
          // (or for the container's end), so it is stamped once, with the time it was completed.
          const cut = stamped && !ended ? buf.lastIndexOf(0x0a) + 1 : buf.length;
          if (cut > 0) {
            out.write(render(buf.subarray(0, cut), offset, {}));
            offset += cut;
            times?.forgetBefore(offset);
          }
        }
      } catch { /* file removed: the Pod is gone */ }
      if (ended) {
        if (fs.existsSync(file) && fs.statSync(file).size > offset) return; // drain first
        clearInterval(poll);
        out.end();
      }
    }, 100);
    const stop = (): void => { clearInterval(poll); out.end(); };
    signal.addEventListener('abort', stop, { once: true });
    out.on('close', () => clearInterval(poll));
    return out;
  }

  async exec(namespace: string, pod: string, opts: ExecOptions): Promise<ExecSession> {
    const w = worker(this.lookup, namespace, pod);
    const c = pick(w, opts.container);
    const cmd = opts.command?.length ? opts.command : ['sh'];
    // The runtime gives the argv, with a pseudo-terminal when asked (`script` where the runtime
    // can put it: inside the Pod's namespaces for the catalog, around `runc exec` for OCI).
    const full = w.execArgv(c.spec.name, cmd, { tty: opts.tty });
    if (!full || !c.view.running) {
      // The kubelet's answer (GetExec finds no running container), passed on as plain text: kubectl
      // prints `unable to upgrade connection: container not found ("c")`.
      throw new StreamRefusal(500, `container not found ("${c.spec.name}")`);
    }
    const env = { ...process.env, ...w.containerEnv(c.spec.name) };
    if (opts.tty) { env.SHELL = '/bin/sh'; env.TERM = env.TERM ?? 'xterm'; }
    const child = spawn(full[0]!, full.slice(1), {
      stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', opts.tty ? 'pipe' : 'pipe'], env, detached: true,
    });
    const stdout = new PassThrough();
    const stderr = opts.tty ? undefined : new PassThrough();
    child.stdout!.pipe(stdout);
    if (stderr) child.stderr!.pipe(stderr);
    else child.stderr!.pipe(stdout, { end: false });
    child.stdin?.on('error', () => undefined);
    const result = new Promise<{ exitCode: number } | { error: string }>((resolve) => {
      child.on('error', (e) => resolve({ error: String(e) }));
      child.on('close', (code, sig) => resolve({ exitCode: code ?? (sig ? 128 + 9 : 1) }));
    });
    let rows = 24, cols = 80;
    return {
      stdin: child.stdin ?? undefined,
      stdout: opts.stdout ? stdout : undefined,
      stderr: opts.stderr ? stderr : undefined,
      resize: opts.tty ? (width, height) => {
        cols = width; rows = height;
        // `script` owns the pty; set its size from inside the session's terminal.
        resizePty(child.pid!, cols, rows);
      } : undefined,
      result,
      close: () => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } },
    };
  }

  async attach(namespace: string, pod: string, opts: ExecOptions): Promise<ExecSession> {
    const w = worker(this.lookup, namespace, pod);
    const c = pick(w, opts.container);
    if (!c.view.running && !c.view.last) throw new StreamRefusal(500, `container not found ("${c.spec.name}")`);
    if (opts.stdin && !c.spec.stdin) {
      throw badRequest(`Unable to use a TTY - container ${c.spec.name} did not allocate one`);
    }
    // The first attach to a container instance sees its output from the start (a `kubectl run -i`
    // of a short command must not lose what the command printed before kubectl attached); later
    // attaches see only new output. A container that already exited replays its output and ends.
    const instance = `${c.spec.name}/${c.view.restartCount}`;
    const first = !w.attached.has(instance);
    w.attached.add(instance);
    const ac = new AbortController();
    const out = await this.logs(namespace, pod, { container: c.spec.name, follow: !!c.view.running, ...(first ? {} : { tailLines: 0 }) }, ac.signal);
    let stdin: fs.WriteStream | undefined;
    if (opts.stdin && c.stdinOpen && c.view.running) {
      const fd = fs.openSync(c.stdinFifo, fs.constants.O_RDWR);
      stdin = fs.createWriteStream('', { fd });
      stdin.on('error', () => undefined);
      // stdinOnce (kubectl run -i sets it): when this attach stops writing — the client closed its
      // stdin or went away — the container's stdin is closed for good, as the kubelet does.
      if (c.spec.stdinOnce) stdin.on('close', () => w.closeStdin(c.spec.name));
    }
    const stdout = new PassThrough();
    out.pipe(stdout);
    const result = new Promise<{ exitCode: number }>((resolve) => {
      out.on('end', () => {
        const cur = w.container(c.spec.name);
        resolve({ exitCode: cur?.view.last?.exitCode ?? 0 });
      });
    });
    return {
      stdin,
      stdout: opts.stdout ? stdout : undefined,
      stderr: opts.stderr && !opts.tty ? new PassThrough().end() as PassThrough : undefined,
      resize: opts.tty ? (width, height) => w.resizeTerminal(c.spec.name, width, height) : undefined,
      result,
      close: () => { ac.abort(); stdin?.end(); },
    };
  }

  async portForward(namespace: string, pod: string, port: number): Promise<Duplex> {
    const w = worker(this.lookup, namespace, pod);
    if (!w.sandbox) throw badRequest(`pod ${pod} has no sandbox`);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw badRequest(`invalid port ${port}`);
    // busybox nc shuts down its write side when its stdin ends, so a client's half-close reaches the
    // Pod's server; it exits 0 when the server closes, 1 (with a message) when it cannot connect.
    return commandStream(['ip', 'netns', 'exec', w.sandbox.netns, 'busybox', 'nc', '127.0.0.1', String(port)], (stderr, code, signal) => {
      const why = stderr.replace(/^nc: /, '').trim() || (signal ? `killed by ${signal}` : `exit code ${code}`);
      return new Error(`failed to connect to localhost:${port} inside the Pod's network namespace: ${why}`);
    });
  }
}

function resizePty(scriptPid: number, cols: number, rows: number): void {
  // The child of `script` holds the pty slave as its stdin; stty on that tty sets the window size
  // and the kernel sends SIGWINCH to the foreground group.
  try {
    const kids = fs.readFileSync(`/proc/${scriptPid}/task/${scriptPid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    for (const k of kids) {
      const tty = fs.readlinkSync(`/proc/${k}/fd/0`);
      if (tty.startsWith('/dev/pts/')) {
        spawn('stty', ['-F', tty, 'cols', String(cols), 'rows', String(rows)], { stdio: 'ignore' }).on('error', () => undefined);
        return;
      }
    }
  } catch { /* process gone */ }
}

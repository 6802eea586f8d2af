/**
 * A long-lived kernel tool (`nft -i`, `iptables-restore`) inside the node namespace that applies
 * one transaction per call. Why not a fresh `ip netns exec …` per sync: starting the tool costs
 * several milliseconds (more from a Node process with a large heap), and when the transaction
 * deleted anything its exit costs ~10 ms more — closing the tool's netlink socket makes the kernel
 * finish freeing the deleted objects, which waits for an RCU grace period. A process that stays
 * open pays neither.
 *
 * Protocol: neither tool acknowledges a successful transaction, so after each one the session
 * writes a *marker* input — a read-only command that prints a known first line. The tool handles
 * its input in order, so when the marker line arrives the transaction has been committed (or
 * refused), and whatever came before the marker is the transaction's output. stderr is merged into
 * stdout (`2>&1`) so error text arrives in order. The marker line is learnt from the first answer,
 * because its wording depends on the tool's version. The protocol (argv, marker input, how a
 * transaction is framed, which output means failure) comes from the backend: `NftSession`,
 * `IptablesRestoreSession`.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { ProxyError } from './errors.js';
import type { NetnsSpawn } from './exec.js';

/** How one tool is driven. */
export interface SessionProtocol {
  /** The tool's name in error messages. */
  name: string;
  /** What `spawn` starts (in the node namespace); it must merge stderr into stdout. */
  argv: string[];
  /** Written after every transaction; the first line it prints is the marker. */
  markerInput: string;
  /** The transaction `text` as written to the tool; '' when there is nothing to do. */
  frame(text: string): string;
  /** An error message when `out` (the output before the marker) says the transaction failed. */
  failure(out: string): string | undefined;
}

export interface SessionOptions {
  /** How long one transaction may take before the process is considered stuck and killed (60 s). */
  timeoutMs?: number;
  /** After this much input the process is replaced (tools keep history or caches in memory). */
  recycleBytes: number;
  /** Restart the process when it exits on its own (see `SessionSupervision`). */
  supervise?: SessionSupervision;
}

/**
 * Supervision, as the kubelet does it for containers: a process that exits when nobody asked it to
 * (killed, crashed) is started again at once the first time, then after a delay doubling from
 * `baseMs` to `maxMs`; a process that ran for `resetAfterMs` starts the sequence afresh. Each
 * restart is reported through `onRestart` (the proxy records it as an Event on its Node).
 */
export interface SessionSupervision {
  baseMs?: number;
  maxMs?: number;
  resetAfterMs?: number;
  onRestart?(e: SessionRestart): void;
}

/** One supervised restart. */
export interface SessionRestart {
  /** The tool's name (`nft -i`, `iptables-restore`). */
  tool: string;
  /** How the process ended, e.g. `exited (SIGKILL)`. */
  why: string;
  /** When it is started again. */
  delayMs: number;
  /** Restarts in the current backoff sequence (1 for the first). */
  restarts: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;

interface Waiter { resolve(out: string): void; reject(err: Error): void; timer: NodeJS.Timeout }

export class KernelSession {
  private child?: ChildProcessWithoutNullStreams;
  private marker?: string;
  private buffered = '';
  private waiter?: Waiter;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Bytes written to the current process (for recycling it). */
  private written = 0;
  /** Supervision: when the current process started, the current backoff step, restarts so far. */
  private startedAt = 0;
  private restartDelay = 0;
  private restarts = 0;
  private restartTimer?: NodeJS.Timeout;
  /**
   * False once a started process did not answer the marker input: the tool cannot be driven this
   * way here (a missing table, a tool variant without the command), so the caller should stop
   * using the session and run each transaction as its own process.
   */
  usable = true;

  constructor(private readonly spawn: NetnsSpawn, private readonly protocol: SessionProtocol, private readonly opts: SessionOptions) {}

  /**
   * Applies `text` as one transaction. Rejects with ProxyError KERNEL_COMMAND_FAILED when the tool
   * refuses it (nothing of it is applied then) or the process fails; the next call starts a fresh
   * process.
   */
  run(text: string): Promise<void> {
    return this.enqueue(() => this.runNow(text));
  }

  /**
   * Starts the process now rather than at the first transaction, so the first change does not wait
   * for the tool to start. A failure here is left for `run` to report.
   */
  warm(): void {
    void this.enqueue(() => (this.closed ? undefined : this.ensureStarted())).catch(() => undefined);
  }

  /**
   * Ends the current process once the queued transactions are done, so the next one starts a
   * fresh process (whose view of the kernel is read anew).
   */
  recycle(): void {
    void this.enqueue(() => this.stopChild()).catch(() => undefined);
  }

  /** Ends the process (stdin closed, then SIGKILL if it has not exited within 2 s). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    await this.queue;
    await this.stopChild();
  }

  private enqueue<T>(fn: () => Promise<T> | T): Promise<T> {
    const p = this.queue.then(fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private async runNow(text: string): Promise<void> {
    if (this.closed) throw new ProxyError('PROXY_STOPPED', `${this.protocol.name} session closed`);
    const input = this.protocol.frame(text);
    if (!input) return;
    if (this.written > this.opts.recycleBytes) await this.stopChild();
    await this.ensureStarted();
    const out = await this.roundTrip(input);
    const failed = this.protocol.failure(out);
    if (failed !== undefined) throw new ProxyError('KERNEL_COMMAND_FAILED', `${this.protocol.name}: ${failed.trim().slice(0, 2000)}`);
  }

  private async ensureStarted(): Promise<void> {
    if (this.child) return;
    const { name } = this.protocol;
    const child = this.spawn(this.protocol.argv);
    this.child = child;
    this.startedAt = Date.now();
    this.written = 0;
    this.buffered = '';
    this.marker = undefined;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s: string) => { this.buffered += s; this.deliver(); });
    child.stdin.on('error', () => { /* the process died; 'close' reports it */ });
    const gone = (why: string): void => {
      // A process this session ended itself (recycle, close, a stuck transaction) was unset first.
      if (this.child !== child) return;
      this.child = undefined;
      // iptables-restore exits after refusing a transaction: that exit was asked for by our input,
      // not a failure of the process (the next transaction starts a new one, as always).
      const refused = this.buffered !== '' && this.protocol.failure(this.buffered) !== undefined;
      this.fail(new ProxyError('KERNEL_COMMAND_FAILED', `${name} ${why}${this.buffered ? `: ${this.buffered.trim().slice(0, 2000)}` : ''}`));
      if (!refused) this.restartLater(why);
    };
    child.on('error', (e) => gone(`could not start: ${e.message}`));
    child.on('close', (code, signal) => gone(`exited (${signal ?? code})`));
    // Learn the marker line from the first answer.
    let first: string;
    try {
      first = await this.roundTrip('');
    } catch (e) {
      this.usable = false;
      throw e;
    }
    const line = first.split('\n')[0] ?? '';
    if (!line || this.protocol.failure(line) !== undefined) {
      this.usable = false;
      await this.stopChild();
      throw new ProxyError('KERNEL_COMMAND_FAILED', `${name} did not answer its marker input: ${first.trim().slice(0, 500)}`);
    }
    this.marker = line;
  }

  /** Supervision: starts a process that exited on its own again, with backoff (see SessionSupervision). */
  private restartLater(why: string): void {
    const sup = this.opts.supervise;
    if (!sup || this.closed || !this.usable || this.marker === undefined) return;
    const base = sup.baseMs ?? 1000;
    const max = sup.maxMs ?? 30_000;
    if (Date.now() - this.startedAt > (sup.resetAfterMs ?? 60_000)) { this.restartDelay = 0; this.restarts = 0; }
    const delayMs = this.restartDelay;
    this.restartDelay = delayMs ? Math.min(delayMs * 2, max) : base;
    this.restarts++;
    try {
      sup.onRestart?.({ tool: this.protocol.name, why, delayMs, restarts: this.restarts });
    } catch { /* an observer's failure must not stop the restart */ }
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.closed && !this.child) this.warm();
    }, delayMs);
    this.restartTimer.unref();
  }

  /** Writes `input` followed by the marker input; resolves with the output before the marker. */
  private roundTrip(input: string): Promise<string> {
    const child = this.child;
    if (!child) return Promise.reject(new ProxyError('KERNEL_COMMAND_FAILED', `${this.protocol.name} is not running`));
    return new Promise<string>((resolve, reject) => {
      const timeoutMs = this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const timer = setTimeout(() => {
        this.fail(new ProxyError('KERNEL_COMMAND_FAILED', `${this.protocol.name} did not finish a transaction within ${timeoutMs} ms`));
        void this.stopChild();
      }, timeoutMs);
      this.waiter = { resolve, reject, timer };
      const data = `${input}${this.protocol.markerInput}`;
      this.written += data.length;
      child.stdin.write(data);
      this.deliver();
    });
  }

  /** Hands the output up to the marker line to the waiter, if it has arrived. */
  private deliver(): void {
    const w = this.waiter;
    if (!w) return;
    let out: string;
    if (this.marker === undefined) {
      // Starting: the first complete line is the marker itself.
      const nl = this.buffered.indexOf('\n');
      if (nl < 0) return;
      out = this.buffered.slice(0, nl + 1);
      this.buffered = this.buffered.slice(nl + 1);
    } else {
      const m = `${this.marker}\n`;
      const at = this.buffered.startsWith(m) ? 0 : this.buffered.indexOf(`\n${m}`);
      if (at < 0) return;
      const end = at === 0 ? 0 : at + 1;
      out = this.buffered.slice(0, end);
      this.buffered = this.buffered.slice(end + m.length);
    }
    this.waiter = undefined;
    clearTimeout(w.timer);
    w.resolve(out);
  }

  private fail(err: Error): void {
    const w = this.waiter;
    if (!w) return;
    this.waiter = undefined;
    clearTimeout(w.timer);
    w.reject(err);
  }

  private async stopChild(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    const exited = new Promise<void>((r) => {
      if (child.exitCode !== null || child.signalCode !== null) r();
      else child.once('close', () => r());
    });
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  }
}

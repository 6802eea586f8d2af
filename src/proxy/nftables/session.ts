/**
 * A long-lived `nft -i` process inside the node namespace that applies one atomic transaction per
 * call. Why not a fresh `ip netns exec … nft -f -` per sync: starting it costs ~4 ms, and when the
 * transaction deleted anything (a replaced endpoint is a deleted map element) its exit costs ~10 ms
 * more — closing nft's netlink socket makes the kernel finish freeing the deleted objects, which
 * waits for an RCU grace period. A process that stays open pays neither: one endpoint change is
 * then under a millisecond of nft time, at 1k and at 10k Services (bench/proxy/README.md).
 *
 * Protocol: in interactive mode nft reads a line, runs it as one buffer — one transaction, all or
 * nothing — and prints errors (stderr is merged into stdout so their order is kept). Commands on a
 * line are separated by ';'. After each transaction line the session sends `describe meta mark`, a
 * command that needs no kernel state and prints one fixed line (learnt when the process starts):
 * when that line arrives, nft has finished the transaction, and whatever came before it is the
 * transaction's output. An `Error:` there means nft or the kernel rejected the whole transaction.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { ProxyError } from '../errors.js';
import type { NetnsSpawn } from '../exec.js';

/** A command that touches no kernel state and prints exactly one line. */
const MARKER_COMMAND = 'describe meta mark';
/** How long one transaction may take before the process is considered stuck and killed. */
const DEFAULT_TIMEOUT_MS = 60_000;
/**
 * nft's line editor (libedit) keeps every line it has read in memory, and a proxy sends one line
 * per transaction for as long as it runs; so after this much input the process is replaced.
 */
const DEFAULT_RECYCLE_BYTES = 32 << 20;
/**
 * `nft -i` also saves that history to `$HOME/.nft.history` on exit and reads it back at start:
 * HOME points at a directory that cannot hold it, so nothing is written to root's home.
 */
const NFT_INTERACTIVE = 'HOME=/dev/null exec nft -i 2>&1';

interface Waiter { resolve(out: string): void; reject(err: Error): void; timer: NodeJS.Timeout }

export class NftSession {
  private child?: ChildProcessWithoutNullStreams;
  private marker?: string;
  private buffered = '';
  private waiter?: Waiter;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Bytes written to the current process (for recycling it, see DEFAULT_RECYCLE_BYTES). */
  private written = 0;

  /** `spawn` starts argv in the node namespace; `timeoutMs` bounds one transaction (default 60 s). */
  constructor(private readonly spawn: NetnsSpawn, private readonly opts: { timeoutMs?: number; recycleBytes?: number } = {}) {}

  /**
   * Applies `text` (nft commands, one per line) as one transaction. Rejects with ProxyError
   * KernelCommandFailed when nft refuses it (nothing of it is applied then) or the process fails;
   * the next call starts a fresh process.
   */
  run(text: string): Promise<void> {
    const p = this.queue.then(() => this.runNow(text));
    this.queue = p.catch(() => undefined);
    return p;
  }

  /**
   * Starts the process now rather than at the first transaction, so the first endpoint change
   * does not wait for nft to start. A failure here is left for `run` to report.
   */
  warm(): void {
    const p = this.queue.then(() => { if (!this.closed) return this.ensureStarted(); });
    this.queue = p.catch(() => undefined);
  }

  /** Ends the process (stdin closed, then SIGKILL if it has not exited within 2 s). */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    await this.stopChild();
  }

  private async runNow(text: string): Promise<void> {
    if (this.closed) throw new ProxyError('ProxyStopped', 'nft session closed');
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    if (lines.length === 0) return;
    if (this.written > (this.opts.recycleBytes ?? DEFAULT_RECYCLE_BYTES)) await this.stopChild();
    await this.ensureStarted();
    const out = await this.roundTrip(`${lines.join(' ; ')}\n`);
    // nft prefixes errors with a location ("internal:0:0-0: Error: …", "<cmdline>:1:5-9: Error: …").
    if (/\bError:/.test(out)) throw new ProxyError('KernelCommandFailed', `nft -i: ${out.trim().slice(0, 2000)}`);
  }

  private async ensureStarted(): Promise<void> {
    if (this.child) return;
    const child = this.spawn(['sh', '-c', NFT_INTERACTIVE]);
    this.child = child;
    this.written = 0;
    this.buffered = '';
    this.marker = undefined;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s: string) => { this.buffered += s; this.deliver(); });
    child.stdin.on('error', () => { /* the process died; 'close' reports it */ });
    const gone = (why: string): void => {
      if (this.child !== child) return;
      this.child = undefined;
      this.fail(new ProxyError('KernelCommandFailed', `nft -i ${why}${this.buffered ? `: ${this.buffered.trim().slice(0, 2000)}` : ''}`));
    };
    child.on('error', (e) => gone(`could not start: ${e.message}`));
    child.on('close', (code, signal) => gone(`exited (${signal ?? code})`));
    // Learn the marker line from the first answer (its wording depends on the nft version).
    const first = await this.roundTrip('');
    const line = first.split('\n')[0] ?? '';
    if (!line || /\bError:/.test(line)) {
      await this.stopChild();
      throw new ProxyError('KernelCommandFailed', `nft -i did not answer "${MARKER_COMMAND}": ${first.trim().slice(0, 500)}`);
    }
    this.marker = line;
  }

  /** Writes `input` followed by the marker command; resolves with the output before the marker. */
  private roundTrip(input: string): Promise<string> {
    const child = this.child;
    if (!child) return Promise.reject(new ProxyError('KernelCommandFailed', 'nft -i is not running'));
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new ProxyError('KernelCommandFailed', `nft -i did not finish a transaction within ${this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`));
        void this.stopChild();
      }, this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
      this.waiter = { resolve, reject, timer };
      const line = `${input}${MARKER_COMMAND}\n`;
      this.written += line.length;
      child.stdin.write(line);
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

/**
 * A deduplicating keyed work queue, as client-go's: keys (`namespace/name`) not objects; a key
 * added while queued is queued once; a key added while being processed is processed again after;
 * failures are retried with capped exponential backoff. The worker re-reads the object from an
 * informer cache when it runs.
 */

export interface WorkQueueOptions {
  /** First retry delay (ms). Default 5. */
  baseDelayMs?: number;
  /** Retry delay cap (ms). Default 10_000. */
  maxDelayMs?: number;
  /** Give up on a key after this many consecutive failures. Default 15. */
  maxRetries?: number;
  /** Concurrent workers. Default 1. */
  workers?: number;
  /** Called when a key failed for the last time. */
  onDrop?(key: string, err: unknown): void;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirtyWhileProcessing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private running = 0;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly process: (key: string) => Promise<void>,
    private readonly opts: WorkQueueOptions = {},
  ) {}

  /** Queues `key` unless it is already queued. */
  add(key: string): void {
    if (this.stopped) return;
    if (this.processing.has(key)) {
      this.dirtyWhileProcessing.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.pump();
  }

  /** Queues `key` after `delayMs`. */
  addAfter(key: string, delayMs: number): void {
    if (this.stopped || this.timers.has(key)) return;
    const t = setTimeout(() => { this.timers.delete(key); this.add(key); }, delayMs);
    t.unref?.();
    this.timers.set(key, t);
  }

  /** Number of keys waiting or being processed. */
  get length(): number {
    return this.queue.length + this.processing.size;
  }

  /** Resolves when nothing is queued or processing (delayed retries not counted). */
  whenIdle(): Promise<void> {
    if (this.queue.length === 0 && this.running === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Stops taking new work; pending timers are cleared. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.queue.length = 0;
    this.queued.clear();
  }

  private pump(): void {
    const workers = this.opts.workers ?? 1;
    while (!this.stopped && this.running < workers && this.queue.length > 0) {
      const key = this.queue.shift()!;
      this.queued.delete(key);
      this.processing.add(key);
      this.running++;
      void this.runOne(key);
    }
    if (this.queue.length === 0 && this.running === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private async runOne(key: string): Promise<void> {
    try {
      await this.process(key);
      this.failures.delete(key);
    } catch (err) {
      const n = (this.failures.get(key) ?? 0) + 1;
      if (n > (this.opts.maxRetries ?? 15)) {
        this.failures.delete(key);
        this.opts.onDrop?.(key, err);
      } else {
        this.failures.set(key, n);
        const delay = Math.min((this.opts.baseDelayMs ?? 5) * 2 ** (n - 1), this.opts.maxDelayMs ?? 10_000);
        this.addAfter(key, delay);
      }
    } finally {
      this.processing.delete(key);
      this.running--;
      if (this.dirtyWhileProcessing.delete(key)) this.add(key);
      this.pump();
    }
  }
}

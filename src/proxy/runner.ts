/**
 * A bounded-frequency runner, as kube-proxy's async.BoundedFrequencyRunner: `run()` asks for the
 * function to run "soon"; bursts of requests coalesce into one run; two runs are at least
 * `minIntervalMs` apart; a failed run is retried after `retryIntervalMs`; optionally a run happens
 * at least every `maxIntervalMs`. Runs never overlap. Time comes from an injected clock, so tests
 * drive it without sleeping.
 */

/** The time source and timers the runner uses (defaults: Date.now and global timers). */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * The real clock. A zero delay runs on setImmediate: Node's timers round 0 up to 1 ms, which is a
 * visible share of an endpoint change's programming latency when the sync itself takes ~1 ms.
 */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    if (ms <= 0) return { immediate: setImmediate(fn) };
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => {
    if (h && typeof h === 'object' && 'immediate' in h) clearImmediate((h as { immediate: NodeJS.Immediate }).immediate);
    else clearTimeout(h as NodeJS.Timeout);
  },
};

export interface RunnerOptions {
  /** Minimum time between the starts of two runs (ms). Default 0. */
  minIntervalMs?: number;
  /** Delay before retrying a failed run (ms). Default 1000. */
  retryIntervalMs?: number;
  /** Run at least this often even without requests (ms). Default: never. */
  maxIntervalMs?: number;
  clock?: Clock;
  /** Told about each failure (the runner retries on its own). */
  onError?(err: unknown): void;
}

export class BoundedFrequencyRunner {
  private readonly clock: Clock;
  private lastStart = -Infinity;
  private timer: unknown;
  private timerAt = Infinity;
  private running = false;
  private requested = false;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly fn: () => Promise<void>, private readonly opts: RunnerOptions = {}) {
    this.clock = opts.clock ?? realClock;
  }

  /** Requests a run as soon as the minimum interval allows. */
  run(): void {
    if (this.stopped) return;
    this.requested = true;
    if (this.running) return; // picked up when the current run ends
    this.schedule(this.lastStart + (this.opts.minIntervalMs ?? 0));
  }

  /** Stops: no further runs start. A run in progress completes. */
  stop(): void {
    this.stopped = true;
    this.cancelTimer();
  }

  /** Resolves when no run is in progress and none is requested. */
  whenIdle(): Promise<void> {
    if (!this.running && !this.requested) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  /** Arms the timer for `at` unless it is already armed earlier. */
  private schedule(at: number): void {
    if (this.stopped) return;
    if (this.timer !== undefined && this.timerAt <= at) return;
    this.cancelTimer();
    this.timerAt = at;
    this.timer = this.clock.setTimeout(() => { this.timer = undefined; this.timerAt = Infinity; void this.tick(); },
      Math.max(0, at - this.clock.now()));
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.running) return;
    this.running = true;
    this.requested = false;
    this.lastStart = this.clock.now();
    let failed = false;
    try {
      await this.fn();
    } catch (err) {
      failed = true;
      this.opts.onError?.(err);
    } finally {
      this.running = false;
    }
    if (this.stopped) return this.settle();
    if (failed) {
      this.requested = true;
      this.schedule(Math.max(this.clock.now() + (this.opts.retryIntervalMs ?? 1000), this.lastStart + (this.opts.minIntervalMs ?? 0)));
    } else if (this.requested) {
      this.schedule(this.lastStart + (this.opts.minIntervalMs ?? 0));
    } else if (this.opts.maxIntervalMs !== undefined) {
      this.schedule(this.lastStart + this.opts.maxIntervalMs);
    }
    this.settle();
  }

  private settle(): void {
    if ((!this.running && !this.requested) || this.stopped) for (const w of this.idleWaiters.splice(0)) w();
  }
}

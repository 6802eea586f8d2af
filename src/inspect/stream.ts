/**
 * NDJSON streaming for the daemon's debug endpoints (trace and flows with `follow=1`): one JSON
 * object per line, written in batches every FLUSH_MS (not per event: at a thousand flows a second a
 * write — and a wake-up of the reader — per event cost more CPU than everything else), with a
 * bound on what may wait for a slow reader. What does not fit is counted by the caller, never
 * silently skipped.
 */
import type { ServerResponse } from 'node:http';

/** Batching delay: well inside the 100 ms a line may take from the kernel's event to the reader. */
const FLUSH_MS = 20;

export class NdjsonStream {
  private batch: string[] = [];
  private scheduled = false;
  private closed = false;

  /** `maxBuffered`: bytes allowed to wait in the socket before lines are refused. */
  constructor(private readonly res: ServerResponse, private readonly maxBuffered = 4 << 20) {
    res.writeHead(200, { 'Content-Type': 'application/x-ndjson', 'Cache-Control': 'no-cache, private', 'X-Content-Type-Options': 'nosniff' });
    res.flushHeaders();
    res.on('close', () => { this.closed = true; });
  }

  get isClosed(): boolean {
    return this.closed || this.res.destroyed;
  }

  /** Queues one object; false (not queued) when the reader is too slow or gone. */
  send(obj: unknown): boolean {
    if (this.isClosed || this.res.writableLength > this.maxBuffered) return false;
    this.batch.push(JSON.stringify(obj));
    if (!this.scheduled) {
      this.scheduled = true;
      setTimeout(() => this.flush(), FLUSH_MS);
    }
    return true;
  }

  private flush(): void {
    this.scheduled = false;
    if (this.batch.length === 0 || this.isClosed) { this.batch = []; return; }
    this.res.write(this.batch.join('\n') + '\n');
    this.batch = [];
  }
}

/**
 * "Record live" reports from the DNS server to the cluster's trace recorder (src/inspect): after a
 * Service's records changed, the names it now answers for it are resolved through the server's own
 * resolver (what a query gets from this moment on) and POSTed, batched, to the API server's
 * `/debug/clusterip/trace/dns` over its unix socket. Off the query path: the feed calls `changed`
 * from its informer handlers; batches go out at most every `intervalMs`; a report that cannot be
 * delivered is dropped (the trace then lacks the DNS step; answering is never affected).
 */
import { request } from 'node:http';
import type { RecordIndex } from './records.js';
import { resolve } from './resolver.js';

/** One Service's records as the DNS server serves them now (the wire format of the report). */
export interface DnsLiveReport {
  /** `namespace/name` of the Service. */
  service: string;
  /** The Service's resourceVersion the records were computed from; absent once deleted. */
  resourceVersion?: string;
  /** The name that was resolved, e.g. `web.default.svc.cluster.local`. */
  name: string;
  /** A records answered for `name` (ClusterIP, or ready endpoints for a headless Service); [] = NXDOMAIN/NODATA. */
  addresses: string[];
  /** When the index held the new records (epoch ms, sub-ms precision). */
  at: number;
}

export interface LiveReporterOptions {
  /** The API server's unix socket. */
  socketPath: string;
  index: RecordIndex;
  zone: string;
  /** Batching interval. Default 20 ms. */
  intervalMs?: number;
  /** Reports kept while the API is unreachable (oldest dropped). Default 1000. */
  maxPending?: number;
}

export const DNS_REPORT_PATH = '/debug/clusterip/trace/dns';

export class LiveReporter {
  private pending: DnsLiveReport[] = [];
  private timer?: NodeJS.Timeout;
  private sending = false;
  private stopped = false;

  constructor(private readonly opts: LiveReporterOptions) {}

  /** A Service's records changed (called by the feed, after the index was updated). */
  changed(key: string, resourceVersion: string | undefined): void {
    if (this.stopped) return;
    const at = performance.timeOrigin + performance.now();
    const [ns, name] = key.split('/');
    const fqdn = `${name}.${ns}.svc.${this.opts.zone}`;
    const out = resolve(this.opts.index, true, fqdn, 'A', { ttl: 30 });
    const addresses = out.kind === 'answer' ? out.answers.flatMap((a) => (a.type === 'A' ? [String(a.data)] : [])) : [];
    this.pending.push({ service: key, ...(resourceVersion ? { resourceVersion } : {}), name: fqdn, addresses, at });
    const max = this.opts.maxPending ?? 1000;
    if (this.pending.length > max) this.pending.splice(0, this.pending.length - max);
    this.timer ??= setTimeout(() => { this.timer = undefined; void this.flush(); }, this.opts.intervalMs ?? 20);
  }

  private async flush(): Promise<void> {
    if (this.sending || this.pending.length === 0) return;
    this.sending = true;
    const batch = this.pending;
    this.pending = [];
    try {
      await post(this.opts.socketPath, DNS_REPORT_PATH, JSON.stringify({ reports: batch }));
    } catch {
      // The API server is restarting or gone: the trace misses these DNS steps, nothing else.
    } finally {
      this.sending = false;
      if (this.pending.length && !this.stopped) this.timer ??= setTimeout(() => { this.timer = undefined; void this.flush(); }, this.opts.intervalMs ?? 20);
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}

function post(socketPath: string, path: string, body: string): Promise<void> {
  return new Promise((res, rej) => {
    const req = request({ socketPath, path, method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (r) => {
      r.resume();
      r.on('end', () => ((r.statusCode ?? 500) < 300 ? res() : rej(new Error(`HTTP ${r.statusCode}`))));
    });
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.on('error', rej);
    req.end(body);
  });
}

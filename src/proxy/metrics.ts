/**
 * The proxy's Prometheus metrics, with kube-proxy's names so existing dashboards and the
 * clusterloader2 network-programming measurement read them unchanged:
 *
 * - kubeproxy_sync_proxy_rules_duration_seconds (histogram): every sync;
 * - kubeproxy_sync_full_proxy_rules_duration_seconds (histogram): full syncs;
 * - kubeproxy_sync_partial_proxy_rules_duration_seconds (histogram): incremental syncs;
 * - kubeproxy_network_programming_duration_seconds (histogram): from an EndpointSlice's
 *   `endpoints.kubernetes.io/last-change-trigger-time` to the rules being live;
 * - kubeproxy_sync_proxy_rules_last_timestamp_seconds (gauge): end of the last successful sync.
 */

/** A cumulative Prometheus histogram. */
export class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(readonly name: string, readonly help: string, readonly buckets: readonly number[]) {
    this.counts = buckets.map(() => 0);
  }

  observe(v: number): void {
    this.sum += v;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]!) this.counts[i]!++;
  }

  /** Number of observations so far. */
  get observations(): number {
    return this.count;
  }

  text(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    this.buckets.forEach((b, i) => lines.push(`${this.name}_bucket{le="${b}"} ${this.counts[i]}`));
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.count}`, `${this.name}_sum ${this.sum}`, `${this.name}_count ${this.count}`);
    return lines.join('\n');
  }
}

/** kube-proxy's sync duration buckets: 1 ms doubling, 15 buckets. */
const SYNC_BUCKETS = Array.from({ length: 15 }, (_, i) => 0.001 * 2 ** i);
/** Network programming buckets: fine below a second (where this proxy lives), then kube-proxy's coarse ones. */
const NETPROG_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2, 3, 4, 5, 10, 15, 20, 30, 60, 120, 300];

export class ProxyMetrics {
  readonly syncDuration = new Histogram('kubeproxy_sync_proxy_rules_duration_seconds', 'SyncProxyRules latency in seconds', SYNC_BUCKETS);
  readonly fullSyncDuration = new Histogram('kubeproxy_sync_full_proxy_rules_duration_seconds', 'SyncProxyRules latency in seconds for full resyncs', SYNC_BUCKETS);
  readonly partialSyncDuration = new Histogram('kubeproxy_sync_partial_proxy_rules_duration_seconds', 'SyncProxyRules latency in seconds for partial resyncs', SYNC_BUCKETS);
  readonly networkProgramming = new Histogram('kubeproxy_network_programming_duration_seconds', 'In Cluster Network Programming Latency in seconds', NETPROG_BUCKETS);
  /** Seconds since the epoch at the end of the last successful sync (0 = never). */
  lastSyncTimestamp = 0;

  text(): string {
    return [
      this.syncDuration.text(),
      this.fullSyncDuration.text(),
      this.partialSyncDuration.text(),
      this.networkProgramming.text(),
      '# HELP kubeproxy_sync_proxy_rules_last_timestamp_seconds The last time proxy rules were successfully synced',
      '# TYPE kubeproxy_sync_proxy_rules_last_timestamp_seconds gauge',
      `kubeproxy_sync_proxy_rules_last_timestamp_seconds ${this.lastSyncTimestamp}`,
    ].join('\n') + '\n';
  }
}

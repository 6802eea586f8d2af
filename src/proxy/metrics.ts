/**
 * The proxy's Prometheus metrics (prom-client), with kube-proxy's names, types and help texts so
 * existing dashboards and clusterloader2's network-programming measurement read them unchanged:
 *
 * - kubeproxy_sync_proxy_rules_duration_seconds (histogram): every successful sync;
 * - kubeproxy_sync_full_proxy_rules_duration_seconds / ..._partial_... (histograms): full / incremental;
 * - kubeproxy_network_programming_duration_seconds (histogram): from an EndpointSlice's
 *   `endpoints.kubernetes.io/last-change-trigger-time` to the rules being live;
 * - kubeproxy_sync_proxy_rules_last_timestamp_seconds (gauge): end of the last successful sync;
 * - kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds (gauge): the last time a sync was asked for;
 * - kubeproxy_sync_proxy_rules_endpoint_changes_pending / _total, ..._service_changes_pending / _total:
 *   as kube-proxy's change trackers count them (pending = Services with unsynced changes; total =
 *   every informer event recorded);
 * - the backend's sync-failure counter: kubeproxy_sync_proxy_rules_nftables_sync_failures_total
 *   (KEP-3866) in nftables mode, kubeproxy_sync_proxy_rules_iptables_restore_failures_total in
 *   iptables mode.
 *
 * Each proxy has its own registry (one daemon runs a proxy per node); the API server serves it at
 * `/api/v1/nodes/<node>:10249/proxy/metrics` (src/inspect/README.md says why there).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** kube-proxy's sync duration buckets: 1 ms doubling, 15 buckets. */
const SYNC_BUCKETS = Array.from({ length: 15 }, (_, i) => 0.001 * 2 ** i);

/**
 * kube-proxy's network-programming buckets (0.25 s, 0.5 s, 1..59 s, 60..115 s by 5, 120..300 s by
 * 30) with finer ones below 0.25 s added in front: this proxy programs a change in milliseconds, and
 * with kube-proxy's buckets alone every observation would land in the first one. A superset, so a
 * query written for kube-proxy's `le` values still finds them.
 */
const NETPROG_BUCKETS = [
  0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1,
  0.25, 0.5,
  ...Array.from({ length: 59 }, (_, i) => i + 1),
  ...Array.from({ length: 12 }, (_, i) => 60 + 5 * i),
  ...Array.from({ length: 7 }, (_, i) => 120 + 30 * i),
];

export class ProxyMetrics {
  readonly registry = new Registry();
  private readonly syncDuration: Histogram;
  private readonly fullSyncDuration: Histogram;
  private readonly partialSyncDuration: Histogram;
  private readonly networkProgramming: Histogram;
  private readonly lastSync: Gauge;
  private readonly lastQueued: Gauge;
  private readonly endpointPending: Gauge;
  private readonly endpointTotal: Counter;
  private readonly servicePending: Gauge;
  private readonly serviceTotal: Counter;
  private readonly failures: Counter;

  constructor(mode: 'nftables' | 'iptables' | 'userspace') {
    const registers = [this.registry];
    const histogram = (name: string, help: string, buckets: number[]) => new Histogram({ name, help, buckets, registers });
    this.syncDuration = histogram('kubeproxy_sync_proxy_rules_duration_seconds', 'SyncProxyRules latency in seconds', SYNC_BUCKETS);
    this.fullSyncDuration = histogram('kubeproxy_sync_full_proxy_rules_duration_seconds', 'SyncProxyRules latency in seconds for full resyncs', SYNC_BUCKETS);
    this.partialSyncDuration = histogram('kubeproxy_sync_partial_proxy_rules_duration_seconds', 'SyncProxyRules latency in seconds for partial resyncs', SYNC_BUCKETS);
    this.networkProgramming = histogram('kubeproxy_network_programming_duration_seconds', 'In Cluster Network Programming Latency in seconds', NETPROG_BUCKETS);
    this.lastSync = new Gauge({ name: 'kubeproxy_sync_proxy_rules_last_timestamp_seconds', help: 'The last time proxy rules were successfully synced', registers });
    this.lastQueued = new Gauge({ name: 'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds', help: 'The last time a sync of proxy rules was queued', registers });
    this.endpointPending = new Gauge({ name: 'kubeproxy_sync_proxy_rules_endpoint_changes_pending', help: 'Pending proxy rules Endpoint changes', registers });
    this.endpointTotal = new Counter({ name: 'kubeproxy_sync_proxy_rules_endpoint_changes_total', help: 'Cumulative proxy rules Endpoint changes', registers });
    this.servicePending = new Gauge({ name: 'kubeproxy_sync_proxy_rules_service_changes_pending', help: 'Pending proxy rules Service changes', registers });
    this.serviceTotal = new Counter({ name: 'kubeproxy_sync_proxy_rules_service_changes_total', help: 'Cumulative proxy rules Service changes', registers });
    this.failures = mode !== 'iptables' // userspace mode writes its redirects with nft too
      ? new Counter({ name: 'kubeproxy_sync_proxy_rules_nftables_sync_failures_total', help: 'Cumulative proxy nftables sync failures', registers })
      : new Counter({ name: 'kubeproxy_sync_proxy_rules_iptables_restore_failures_total', help: 'Cumulative proxy iptables restore failures', registers });
  }

  /** An EndpointSlice event was recorded; `pending` Services now have unsynced endpoint changes. */
  endpointsChanged(pending: number): void {
    this.endpointTotal.inc();
    this.endpointPending.set(pending);
  }

  /** A Service event was recorded; `pending` Services now have unsynced Service changes. */
  servicesChanged(pending: number): void {
    this.serviceTotal.inc();
    this.servicePending.set(pending);
  }

  /** A sync was asked for (epoch seconds). */
  queued(atSeconds: number): void {
    this.lastQueued.set(atSeconds);
  }

  /** The trackers' pending changes were folded into a sync. */
  pendingFolded(): void {
    this.endpointPending.set(0);
    this.servicePending.set(0);
  }

  /**
   * A sync the kernel accepted: `seconds` long, ending at `endMs` (epoch ms), carrying changes
   * triggered at `triggerTimesMs` (epoch ms, from the slices' last-change-trigger-time).
   */
  synced(full: boolean, seconds: number, endMs: number, triggerTimesMs: Iterable<number>): void {
    this.syncDuration.observe(seconds);
    (full ? this.fullSyncDuration : this.partialSyncDuration).observe(seconds);
    this.lastSync.set(endMs / 1000);
    for (const t of triggerTimesMs) if (endMs >= t) this.networkProgramming.observe((endMs - t) / 1000);
  }

  /** A sync the kernel refused (or that failed before reaching it). */
  syncFailed(): void {
    this.failures.inc();
  }

  /** Prometheus text exposition (format 0.0.4). */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** The Content-Type of `text()`. */
  get contentType(): string {
    return this.registry.contentType;
  }
}

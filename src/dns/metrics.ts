/**
 * The DNS server's Prometheus metrics, with CoreDNS' names and labels (plugin/metrics):
 *
 * - coredns_dns_requests_total{server, zone, view, proto, family, type}
 * - coredns_dns_request_duration_seconds{server, zone, view, type} (histogram, CoreDNS' buckets:
 *   0.25 ms doubling, 16 buckets)
 * - coredns_dns_responses_total{server, zone, view, rcode, plugin}
 *
 * `zone` is "." (CoreDNS reports the server block's zone; kubeadm's Corefile has one block, `.:53`),
 * `view` and `plugin` are empty, `type` is the query type for the types CoreDNS names and "other"
 * for the rest.
 *
 * Why counting is hand-written: the answer path runs at >100k queries/s on one core, and a
 * prom-client `labels(...).inc()` / `observe()` per query (a label-set key string, a Map lookup)
 * would cost a measurable share of the ~7 µs a cached answer takes. So each query only bumps slots
 * of preallocated typed arrays (type and rcode are array indexes); prom-client turns those into the
 * exposition when /metrics is scraped (custom metric objects registered in its Registry).
 * Served over plain HTTP at `:9153/metrics` inside the DNS Pod, as CoreDNS' prometheus plugin does.
 */
import { Registry } from 'prom-client';

/** Query types CoreDNS names in its metrics (plugin/metrics/vars/monitor.go); others are "other". */
const TYPES: Record<string, number> = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, NAPTR: 35, DS: 43, RRSIG: 46,
  NSEC: 47, DNSKEY: 48, NSEC3: 50, SVCB: 64, HTTPS: 65, IXFR: 251, AXFR: 252, ANY: 255,
};
const TYPE_NAMES = ['other', ...Object.keys(TYPES)];
/** qtype → index into TYPE_NAMES (0 = other). */
const TYPE_INDEX = new Uint8Array(65536);
Object.values(TYPES).forEach((t, i) => { TYPE_INDEX[t] = i + 1; });

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];
/** CoreDNS' request duration buckets: prometheus.ExponentialBuckets(0.00025, 2, 16). */
export const DURATION_BUCKETS = Array.from({ length: 16 }, (_, i) => 0.00025 * 2 ** i);
const NB = DURATION_BUCKETS.length;
const NT = TYPE_NAMES.length;

/** The transports a query arrives on. */
export const PROTO = { udp: 0, tcp: 1 } as const;

/** The query type of a DNS message (the 16 bits after the first question's name); -1 if there is none. */
function queryType(msg: Buffer): number {
  if (msg.length < 12 || msg[4] === 0 && msg[5] === 0) return -1;
  let i = 12;
  while (i < msg.length) {
    const len = msg[i]!;
    if (len === 0) return i + 3 <= msg.length ? (msg[i + 1]! << 8) | msg[i + 2]! : -1;
    if (len & 0xc0) return -1;
    i += len + 1;
  }
  return -1;
}

type Values = { labels: Record<string, string | number>; value: number; metricName?: string }[];

/** A prom-client metric whose samples are computed at scrape time. */
function scrapeTimeMetric(registry: Registry, name: string, help: string, type: 'counter' | 'histogram', values: () => Values): void {
  registry.registerMetric({
    name, help, type, aggregator: 'sum',
    get: async () => ({ name, help, type, aggregator: 'sum', values: values() }),
    reset() { /* counters are never reset */ },
  } as never);
}

export class DnsMetrics {
  readonly registry = new Registry();
  /** [proto][type] request counts. */
  private readonly requests = new Float64Array(2 * NT);
  /** [type][bucket] non-cumulative duration counts; the last slot per type is +Inf. */
  private readonly buckets = new Float64Array(NT * (NB + 1));
  private readonly sums = new Float64Array(NT);
  private readonly rcodes = new Float64Array(16);

  /** `server` is CoreDNS' server label, e.g. `dns://:53`. */
  constructor(server: string) {
    const base = { server, zone: '.', view: '' };
    scrapeTimeMetric(this.registry, 'coredns_dns_requests_total', 'Counter of DNS requests made per zone, protocol and family.', 'counter', () => {
      const out: Values = [];
      for (let p = 0; p < 2; p++) {
        for (let t = 0; t < NT; t++) {
          const v = this.requests[p * NT + t]!;
          if (v > 0) out.push({ labels: { ...base, proto: p === 0 ? 'udp' : 'tcp', family: '1', type: TYPE_NAMES[t]! }, value: v });
        }
      }
      return out;
    });
    scrapeTimeMetric(this.registry, 'coredns_dns_request_duration_seconds', 'Histogram of the time (in seconds) each request took per zone.', 'histogram', () => {
      const out: Values = [];
      for (let t = 0; t < NT; t++) {
        let cumulative = 0;
        const row = t * (NB + 1);
        const total = this.buckets.subarray(row, row + NB + 1).reduce((a, b) => a + b, 0);
        if (total === 0) continue;
        const labels = { ...base, type: TYPE_NAMES[t]! };
        for (let b = 0; b < NB; b++) {
          cumulative += this.buckets[row + b]!;
          out.push({ metricName: 'coredns_dns_request_duration_seconds_bucket', labels: { ...labels, le: DURATION_BUCKETS[b]! }, value: cumulative });
        }
        out.push({ metricName: 'coredns_dns_request_duration_seconds_bucket', labels: { ...labels, le: '+Inf' }, value: total });
        out.push({ metricName: 'coredns_dns_request_duration_seconds_sum', labels, value: this.sums[t]! });
        out.push({ metricName: 'coredns_dns_request_duration_seconds_count', labels, value: total });
      }
      return out;
    });
    scrapeTimeMetric(this.registry, 'coredns_dns_responses_total', 'Counter of response status codes.', 'counter', () => {
      const out: Values = [];
      this.rcodes.forEach((v, rc) => { if (v > 0) out.push({ labels: { ...base, rcode: RCODES[rc] ?? String(rc), plugin: '' }, value: v }); });
      return out;
    });
  }

  /**
   * Counts one query on `proto` (PROTO.udp / PROTO.tcp) that took `seconds`; `reply` is undefined
   * for a query that got no answer (dropped). Allocation-free.
   */
  observe(proto: 0 | 1, query: Buffer, reply: Buffer | undefined, seconds: number): void {
    const qt = queryType(query);
    const t = qt < 0 ? 0 : TYPE_INDEX[qt]!;
    this.requests[proto * NT + t]++;
    let b = 0;
    while (b < NB && seconds > DURATION_BUCKETS[b]!) b++;
    this.buckets[t * (NB + 1) + b]++;
    this.sums[t] += seconds;
    if (reply && reply.length >= 4) this.rcodes[reply[3]! & 0x0f]++;
  }

  /** Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

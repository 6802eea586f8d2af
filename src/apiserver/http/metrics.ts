/**
 * The API server's request metrics (prom-client), as kube-apiserver names and labels them:
 *
 * - apiserver_request_total{verb, dry_run, group, version, resource, subresource, scope, component, code}
 * - apiserver_request_duration_seconds{verb, dry_run, group, version, resource, subresource, scope, component}
 *
 * `verb` is Kubernetes' reported verb (GET, LIST, WATCH, POST, PUT, PATCH, APPLY, DELETE,
 * DELETECOLLECTION, CONNECT); `scope` is resource (a named object), namespace or cluster, and empty
 * for non-resource paths (/version, /healthz, /metrics...). Watches are observed when they end, as in
 * kube-apiserver. Served at `/metrics` to authenticated users only (kube-apiserver's /metrics needs
 * an authenticated user allowed the non-resource URL; clusterip has no authorization layer, so any
 * authenticated user), `kubectl get --raw /metrics`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Histogram, Registry } from 'prom-client';
import { parseResourcePath, type ResourceRoute } from './route.js';

/** kube-apiserver's request duration buckets. */
const BUCKETS = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60];

/** The labels of one request (all but `code` and `dry_run`). */
export interface RequestLabels {
  verb: string;
  group: string;
  version: string;
  resource: string;
  subresource: string;
  scope: string;
  component: 'apiserver';
}

const VERBS: Record<string, string> = {
  get: 'GET', list: 'LIST', watch: 'WATCH', create: 'POST', update: 'PUT', patch: 'PATCH', delete: 'DELETE',
  deletecollection: 'DELETECOLLECTION', log: 'GET', exec: 'CONNECT', attach: 'CONNECT', portforward: 'CONNECT',
};

/** The server's resource lookup (custom resources included); the built-in table without one. */
type ResourceLookup = NonNullable<Parameters<typeof parseResourcePath>[3]>;

/**
 * Kubernetes' labels for a request (pure). Unparseable paths count as non-resource requests.
 * `lookup` is the server's resource table, so a custom resource counts under its group even when
 * the request was refused before it was routed (401/403), as kube-apiserver works out a request's
 * resource before authenticating it.
 */
export function requestLabels(method: string, url: string, contentType?: string, lookup?: ResourceLookup): RequestLabels {
  const u = new URL(url, 'http://x');
  let route;
  try {
    route = parseResourcePath(method, u.pathname, u.searchParams.get('watch') === 'true' || u.searchParams.get('watch') === '1', lookup);
  } catch {
    return nonResourceLabels(method);
  }
  return route ? routeLabels(method, route, contentType) : nonResourceLabels(method);
}

function nonResourceLabels(method: string): RequestLabels {
  return { verb: method.toUpperCase(), group: '', version: '', resource: '', subresource: '', scope: '', component: 'apiserver' };
}

/** Kubernetes' labels for a request the server routed to a resource (pure). */
export function routeLabels(method: string, route: ResourceRoute, contentType?: string): RequestLabels {
  let verb = VERBS[route.verb] ?? method.toUpperCase();
  if (verb === 'PATCH' && isApply(contentType)) verb = 'APPLY';
  return { verb, group: route.res.group, version: route.res.version, resource: route.res.plural, subresource: route.subresource ?? '', scope: scopeOf(route), component: 'apiserver' };
}

/** Kubernetes' scope label: one object, a namespace's collection, or the cluster's. */
function scopeOf(route: ResourceRoute): 'resource' | 'namespace' | 'cluster' {
  return route.name !== undefined ? 'resource' : route.namespace !== undefined ? 'namespace' : 'cluster';
}

function isApply(contentType: string | undefined): boolean {
  return contentType?.split(';')[0]?.trim() === 'application/apply-patch+yaml';
}

/** The label sets of one request's two series. */
interface SeriesLabels {
  duration: RequestLabels & { dry_run: string };
  /** apiserver_request_total's labels by response code. */
  total: Map<number, RequestLabels & { dry_run: string; code: string }>;
}

/** What {@link ApiServerMetrics.track} returns: the server tells it the route once it has parsed it. */
export interface TrackedRequest {
  route?: ResourceRoute;
}

export class ApiServerMetrics {
  readonly registry = new Registry();

  /** `lookup`: the server's resource table, for requests that were not routed (see requestLabels). */
  constructor(private readonly lookup?: ResourceLookup) {}

  private readonly total = new Counter({
    name: 'apiserver_request_total',
    help: 'Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.',
    labelNames: ['verb', 'dry_run', 'group', 'version', 'resource', 'subresource', 'scope', 'component', 'code'],
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: 'apiserver_request_duration_seconds',
    help: 'Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.',
    labelNames: ['verb', 'dry_run', 'group', 'version', 'resource', 'subresource', 'scope', 'component'],
    buckets: BUCKETS,
    registers: [this.registry],
  });

  /**
   * The label objects of every series seen, by label values: one request observes two series, and
   * building their labels anew for each request (a URL and path parse, four spread objects) was a
   * tenth of what a create + get + update over HTTPS allocated (bench/apiserver-http/README.md,
   * "the create p99 of 2026-12-07"). Bounded by verbs × resources × scopes × codes.
   */
  private readonly series = new Map<string, SeriesLabels>();

  /**
   * Starts timing `req`; the observation is made when the response is closed (sent or aborted).
   * Set `route` on the returned object when the request was routed to a resource (saves parsing
   * the path a second time); without it, the labels are worked out from the URL.
   */
  track(req: IncomingMessage, res: ServerResponse): TrackedRequest {
    const start = performance.now();
    const tracked: TrackedRequest = {};
    res.once('close', () => {
      const url = req.url ?? '/';
      const method = req.method ?? 'GET';
      const contentType = req.headers['content-type'];
      const dryRun = url.includes('dryRun=') && /[?&]dryRun=All(&|$)/.test(url) ? 'All' : '';
      const r = tracked.route;
      const key = r
        ? `${method} ${r.verb} ${r.res.group}/${r.res.version}/${r.res.plural}/${r.subresource ?? ''} ${scopeOf(r)} ${dryRun} ${method === 'PATCH' && isApply(contentType) ? 'apply' : ''}`
        : undefined;
      let s = key === undefined ? undefined : this.series.get(key);
      if (!s) {
        const labels = r ? routeLabels(method, r, contentType) : requestLabels(method, url, contentType, this.lookup);
        s = { duration: { ...labels, dry_run: dryRun }, total: new Map() };
        if (key !== undefined) this.series.set(key, s);
      }
      const code = res.statusCode;
      let total = s.total.get(code);
      if (!total) s.total.set(code, total = { ...s.duration, code: String(code) });
      this.total.inc(total);
      this.duration.observe(s.duration, (performance.now() - start) / 1000);
    });
    return tracked;
  }

  /** Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

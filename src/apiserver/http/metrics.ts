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
import { parseResourcePath } from './route.js';

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

/** Kubernetes' labels for a request (pure). Unparseable paths count as non-resource requests. */
export function requestLabels(method: string, url: string, contentType?: string): RequestLabels {
  const u = new URL(url, 'http://x');
  const nonResource: RequestLabels = { verb: method.toUpperCase(), group: '', version: '', resource: '', subresource: '', scope: '', component: 'apiserver' };
  let route;
  try {
    route = parseResourcePath(method, u.pathname, u.searchParams.get('watch') === 'true' || u.searchParams.get('watch') === '1');
  } catch {
    return nonResource;
  }
  if (!route) return nonResource;
  let verb = VERBS[route.verb] ?? method.toUpperCase();
  if (verb === 'PATCH' && contentType?.split(';')[0]?.trim() === 'application/apply-patch+yaml') verb = 'APPLY';
  const scope = route.name !== undefined ? 'resource' : route.namespace !== undefined ? 'namespace' : 'cluster';
  return { verb, group: route.res.group, version: route.res.version, resource: route.res.plural, subresource: route.subresource ?? '', scope, component: 'apiserver' };
}

export class ApiServerMetrics {
  readonly registry = new Registry();
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

  /** Starts timing `req`; the observation is made when the response is closed (sent or aborted). */
  track(req: IncomingMessage, res: ServerResponse): void {
    const start = performance.now();
    res.once('close', () => {
      const labels = requestLabels(req.method ?? 'GET', req.url ?? '/', req.headers['content-type']);
      const dryRun = /[?&]dryRun=All(&|$)/.test(req.url ?? '') ? 'All' : '';
      this.total.inc({ ...labels, dry_run: dryRun, code: String(res.statusCode) });
      this.duration.observe({ ...labels, dry_run: dryRun }, (performance.now() - start) / 1000);
    });
  }

  /** Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

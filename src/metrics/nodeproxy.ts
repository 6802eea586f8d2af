/**
 * `/api/v1/nodes/<node>[:10250]/proxy/metrics/resource` on the API server: the node agent's
 * /metrics/resource as kube-apiserver's node proxy reaches a kubelet's (the agents run inside the
 * daemon, so the API server asks them directly instead of relaying to a port in each node namespace).
 */
import { ApiError } from '../api/errors.js';
import type { UsageSource } from '../api/usage.js';
import type { ExtraHandler } from '../apiserver/http/server.js';
import { formatResourceMetrics } from '../node/metricsresource.js';

const PATH = /^\/api\/v1\/nodes\/([^/:]+)(?::10250)?\/proxy\/metrics\/resource$/;

export function resourceMetricsHandler(sources: () => readonly UsageSource[]): ExtraHandler {
  return {
    match: (path, method) => method === 'GET' && PATH.test(path),
    handle: async (_req, res, { url }) => {
      const node = decodeURIComponent(PATH.exec(url.pathname)![1]!);
      const src = sources().find((s) => s.nodeName === node);
      if (!src) throw new ApiError(404, 'NotFound', `nodes "${node}" not found`, { name: node, kind: 'nodes' });
      const text = formatResourceMetrics(await src.resourceUsage());
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    },
  };
}

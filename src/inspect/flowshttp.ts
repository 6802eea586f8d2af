/**
 * The flows' endpoint on the API server (authenticated):
 *
 *   GET /debug/clusterip/flows[?service=NS/NAME|pod=NS/NAME|namespace=NS][&limit=N]  → FlowList (JSON)
 *   GET /debug/clusterip/flows?...&follow=1  → NDJSON FlowUpdate lines: stats first, then every
 *       matching flow as the kernel reports it, and stats every 2 s (with what this reader missed)
 *
 * 503 (a Status naming what is missing) when no node could start its collector: the conntrack
 * tool, the nf_conntrack_netlink module or the permission to read conntrack events.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, badRequest, methodNotAllowed } from '../api/errors.js';
import { sendJson } from '../apiserver/http/respond.js';
import type { ExtraHandler } from '../apiserver/http/server.js';
import { FlowFilterError, filterFromQuery } from './flowsfilter.js';
import type { FlowHub, FlowSubscriber } from './flowshub.js';
import type { FlowUpdate } from './flowsmodel.js';
import { NdjsonStream } from './stream.js';

export const FLOWS_PATH = '/debug/clusterip/flows';

export function flowsHandlers(hub: () => FlowHub | undefined): ExtraHandler[] {
  return [{
    match: (path) => path === FLOWS_PATH,
    async handle(req: IncomingMessage, res: ServerResponse, { url }) {
      if (req.method !== 'GET') throw methodNotAllowed();
      let filter;
      try { filter = filterFromQuery(url.searchParams); } catch (e) {
        if (e instanceof FlowFilterError) throw badRequest(e.message);
        throw e;
      }
      const h = hub();
      if (!h) throw new ApiError(503, 'ServiceUnavailable', 'flows: the flow collectors are not running yet');
      if (!h.anyOk) {
        const why = h.stats().nodes.map((n) => `${n.node}: ${n.missing ?? 'not running'}`).join('; ');
        throw new ApiError(503, 'ServiceUnavailable', `flows need conntrack events from the kernel, which are not available: ${why}`);
      }
      const limitText = url.searchParams.get('limit');
      const limit = limitText === null ? 500 : Number(limitText);
      if (!Number.isInteger(limit) || limit < 1) throw badRequest(`limit must be a positive integer, got ${JSON.stringify(limitText)}`);
      const follow = url.searchParams.get('follow');
      if (follow !== '1' && follow !== 'true') { sendJson(res, 200, await h.list(filter, limit)); return; }

      const stream = new NdjsonStream(res);
      const sub: FlowSubscriber = { filter, dropped: 0, deliver: (flow) => stream.send({ type: 'flow', flow } satisfies FlowUpdate) };
      const stats = () => stream.send({ type: 'stats', stats: { ...h.stats(), droppedForSlowReader: sub.dropped } } satisfies FlowUpdate);
      const unsubscribe = h.subscribe(sub);
      stats();
      const timer = setInterval(stats, 2000);
      res.on('close', () => { clearInterval(timer); unsubscribe(); });
    },
  }];
}

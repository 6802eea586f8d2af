/**
 * The trace's endpoints on the API server (authenticated, like kube-apiserver's /debug paths):
 *
 *   GET  /debug/clusterip/trace?service=NS/NAME[&last=N]      → TraceList (JSON)
 *   GET  /debug/clusterip/trace?service=NS/NAME&follow=1[&last=N] → NDJSON TraceUpdate lines: a
 *        snapshot, then every new change and step as it is recorded
 *   POST /debug/clusterip/trace/dns  {reports: DnsLiveReport[]}  ← the cluster DNS Pod
 *
 * Errors are Kubernetes Status objects (400 for a bad query or body).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { badRequest, methodNotAllowed } from '../api/errors.js';
import { readBody } from '../apiserver/http/body.js';
import { sendJson } from '../apiserver/http/respond.js';
import type { ExtraHandler } from '../apiserver/http/server.js';
import { DNS_REPORT_PATH, type DnsLiveReport } from '../dns/livereport.js';
import type { OutsideReachability, TraceList, TraceUpdate } from './tracemodel.js';
import type { TraceRecorder } from './tracerecorder.js';
import { NdjsonStream } from './stream.js';

export const TRACE_PATH = '/debug/clusterip/trace';
const KEY = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export interface TraceHandlerOptions {
  recorder: TraceRecorder;
  /** Whether the Service's ClusterIP is reachable from the outside host (absent: not checked). */
  outside?: (clusterIP: string) => Promise<OutsideReachability>;
}

function parseQuery(q: URLSearchParams): { service: string; last: number; follow: boolean } {
  for (const k of q.keys()) if (!['service', 'last', 'follow'].includes(k)) throw badRequest(`unknown query parameter ${JSON.stringify(k)}: use service, last, follow`);
  const service = q.get('service');
  if (!service) throw badRequest('service is required: ?service=NAMESPACE/NAME');
  if (!KEY.test(service)) throw badRequest(`service must be NAMESPACE/NAME, got ${JSON.stringify(service)}`);
  const lastText = q.get('last');
  const last = lastText === null ? 10 : Number(lastText);
  if (!Number.isInteger(last) || last < 0) throw badRequest(`last must be a non-negative integer, got ${JSON.stringify(lastText)}`);
  const f = q.get('follow');
  return { service, last, follow: f === '1' || f === 'true' };
}

function isReport(r: unknown): r is DnsLiveReport {
  const x = r as DnsLiveReport;
  return !!x && typeof x === 'object' && typeof x.service === 'string' && KEY.test(x.service) && typeof x.name === 'string'
    && Array.isArray(x.addresses) && x.addresses.every((a) => typeof a === 'string') && typeof x.at === 'number' && Number.isFinite(x.at)
    && (x.resourceVersion === undefined || typeof x.resourceVersion === 'string');
}

export function traceHandlers(opts: TraceHandlerOptions): ExtraHandler[] {
  const { recorder } = opts;
  const outsideOf = async (service: string): Promise<OutsideReachability | undefined> => {
    const ip = recorder.clusterIPOf(service) ?? recorder.currentState(service).clusterIP;
    return ip && opts.outside ? opts.outside(ip).catch(() => undefined) : undefined;
  };
  const listOf = async (service: string, last: number): Promise<TraceList> => {
    const outside = await outsideOf(service);
    return { kind: 'TraceList', service, changes: recorder.list(service, last), ...(outside ? { outside } : {}), limits: recorder.limits, dropped: recorder.droppedChanges };
  };
  return [
    {
      match: (path) => path === DNS_REPORT_PATH,
      async handle(req: IncomingMessage, res: ServerResponse) {
        if (req.method !== 'POST') throw methodNotAllowed();
        let body: unknown;
        try { body = JSON.parse((await readBody(req, 1 << 20)).toString('utf8')); } catch (e) {
          if ((e as { code?: unknown }).code === 413) throw e;
          throw badRequest(`the body must be JSON {"reports": [...]}: ${(e as Error).message}`);
        }
        const reports = (body as { reports?: unknown })?.reports;
        if (!Array.isArray(reports) || !reports.every(isReport)) throw badRequest('reports must be a list of {service: "ns/name", name, addresses: [...], at, resourceVersion?}');
        for (const r of reports) recorder.dnsLive(r);
        sendJson(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 200 });
      },
    },
    {
      match: (path) => path === TRACE_PATH,
      async handle(req: IncomingMessage, res: ServerResponse, { url }) {
        if (req.method !== 'GET') throw methodNotAllowed();
        const q = parseQuery(url.searchParams);
        if (!q.follow) { sendJson(res, 200, await listOf(q.service, q.last)); return; }
        const stream = new NdjsonStream(res);
        // Subscribe before the snapshot, and hold updates until it is out, so none falls between.
        const held: TraceUpdate[] = [];
        let live = false;
        const unsubscribe = recorder.subscribe(q.service, (u) => { if (live) stream.send(u); else held.push(u); });
        res.on('close', unsubscribe);
        const list = await listOf(q.service, q.last);
        const shown = new Set(list.changes.map((c) => c.id));
        stream.send({ type: 'snapshot', list } satisfies TraceUpdate);
        for (const u of held) {
          if (u.type === 'change' && shown.has(u.change.id)) continue;
          if (u.type === 'step' && shown.has(u.changeId) && list.changes.find((c) => c.id === u.changeId)!.steps.includes(u.step)) continue;
          stream.send(u);
        }
        live = true;
        // The outside check once more after the first change settles, for a Service created while following.
        if (!list.outside) {
          const timer = setInterval(() => {
            void outsideOf(q.service).then((o) => {
              if (!o) return;
              stream.send({ type: 'outside', service: q.service, outside: o } satisfies TraceUpdate);
              clearInterval(timer);
            });
          }, 1000);
          res.on('close', () => clearInterval(timer));
        }
      },
    },
  ];
}

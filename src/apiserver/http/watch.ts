/**
 * Watch over HTTP: headers flushed at once (kubectl `run -it` waits for them), then one JSON watch
 * event per line, shaped as the client asked (one-row Tables for kubectl get -w). The stream ends on
 * timeoutSeconds, on client disconnect (the core watch is stopped), or with an ERROR event carrying
 * the Status (410 Expired when the resourceVersion is too old). A client that stops reading is
 * dropped once too much output is buffered, instead of growing memory without bound.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../../api/object.js';
import type { WatchEvent, WatchHandle } from '../../api/requests.js';
import { watchOptions } from './query.js';
import type { ResourceRoute } from './route.js';
import type { HandlerContext } from './rest.js';
import { responseShape } from './negotiate.js';
import { includeObjectParam, partialMetadata, toTable } from './transform.js';
import { toApiError } from './respond.js';

/** Output buffered for one watcher beyond which it is disconnected. */
export const MAX_WATCH_BUFFER = 16 * 1024 * 1024;

/** Serves a watch until it ends. Never throws after headers are sent. */
export function handleWatch(ctx: HandlerContext, route: ResourceRoute, req: IncomingMessage, res: ServerResponse, q: URLSearchParams): void {
  const opts = watchOptions(q, route.name);
  const shape = responseShape(req.headers.accept);
  const ns = route.res.namespaced ? route.namespace : undefined;
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();

  let ended = false;
  let handle: WatchHandle | undefined;
  let timer: NodeJS.Timeout | undefined;
  let firstTable = true;
  const finish = (): void => {
    if (ended) return;
    ended = true;
    if (timer) clearTimeout(timer);
    handle?.stop();
    if (!res.writableEnded) res.end();
  };
  const shapeEvent = (ev: WatchEvent): WatchEvent<unknown> => {
    if (ev.type === 'ERROR' || ev.type === 'BOOKMARK') return ev;
    if (shape === 'Table') {
      const t = toTable(ctx.ext, route.res, [ev.object as KubeObject], { noColumns: !firstTable, listMeta: { resourceVersion: ev.object.metadata?.resourceVersion }, includeObject: includeObjectParam(q) });
      firstTable = false;
      return { type: ev.type, object: t };
    }
    if (shape === 'PartialObjectMetadata' || shape === 'PartialObjectMetadataList') return { type: ev.type, object: partialMetadata(ev.object) };
    return ev;
  };
  const write = (ev: WatchEvent<unknown>): void => {
    if (ended || res.destroyed) return;
    res.write(JSON.stringify(ev) + '\n');
    if (res.writableLength > MAX_WATCH_BUFFER) { res.destroy(); finish(); }
  };
  const fail = (e: unknown): void => {
    write({ type: 'ERROR', object: toApiError(e).toStatus() });
    finish();
  };

  req.on('close', finish);
  res.on('close', finish);
  res.on('error', finish);
  if (opts.timeoutSeconds !== undefined) timer = setTimeout(finish, opts.timeoutSeconds * 1000);
  try {
    handle = ctx.client.watch(route.res, ns, { ...opts, timeoutSeconds: undefined }, (ev) => {
      try { write(shapeEvent(ev)); } catch (e) { fail(e); }
      if (ev.type === 'ERROR') finish();
    });
  } catch (e) {
    fail(e);
    return;
  }
  if (ended) { handle.stop(); return; }
  handle.done.then(finish, fail);
}

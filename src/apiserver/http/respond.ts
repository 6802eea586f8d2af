/** Writing JSON answers and Status errors; the one place HTTP codes for failures are chosen. */
import type { ServerResponse } from 'node:http';
import { ApiError, internalError } from '../../api/errors.js';

/**
 * Sends `body` as JSON with `code` (indented as Go's json.MarshalIndent does when `pretty`). Safe to
 * call on a response whose client already left.
 */
export function sendJson(res: ServerResponse, code: number, body: unknown, contentType = 'application/json', headers: Record<string, string> = {}, pretty = false): void {
  if (res.headersSent || res.destroyed) { if (!res.writableEnded) res.end(); return; }
  const text = pretty ? `${JSON.stringify(body, null, 2)}\n` : JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private', ...headers });
  res.end(text);
}

/** Maps any thrown value to a Kubernetes Status; unknown errors become 500 without a stack. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  return internalError(e instanceof Error ? e.message : String(e));
}

/** Sends the Status of an error (with Retry-After when it says when to retry, as Kubernetes does). */
export function sendError(res: ServerResponse, e: unknown): void {
  const err = toApiError(e);
  const retry = err.details?.retryAfterSeconds;
  sendJson(res, err.code, err.toStatus(), 'application/json', retry ? { 'Retry-After': String(retry) } : {});
}

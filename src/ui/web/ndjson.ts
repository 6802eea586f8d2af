/**
 * Reads an NDJSON stream of the daemon (topology, trace, flows with follow=1) with fetch: one
 * parsed object per line, in order. Reconnects after a drop (1 s, doubling to 10 s) and says so;
 * a 401 means the session ended, and the page goes back to the login page.
 */

export interface StreamHandle {
  stop(): void;
}

export interface StreamOptions<T> {
  onLine(obj: T): void;
  /** Connection state changes ('live' after the first byte, 'reconnecting' with why). */
  onState?(state: 'connecting' | 'live' | 'reconnecting' | 'failed', detail?: string): void;
  /** Whether to reconnect after an error answer (e.g. 503 from flows: no collectors). Default true. */
  retryOnError?: boolean;
}

export function followNdjson<T>(url: string, opts: StreamOptions<T>): StreamHandle {
  let stopped = false;
  let abort: AbortController | undefined;
  let delay = 1000;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const connect = async (): Promise<void> => {
    abort = new AbortController();
    opts.onState?.('connecting');
    try {
      const res = await fetch(url, { signal: abort.signal, headers: { Accept: 'application/x-ndjson' }, credentials: 'same-origin' });
      if (res.status === 401) { location.assign('/ui/'); return; }
      if (!res.ok || !res.body) {
        const msg = await res.json().then((s: { message?: string }) => s.message, () => undefined);
        throw Object.assign(new Error(msg ?? `HTTP ${res.status}`), { fatal: opts.retryOnError === false });
      }
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      // The pieces of a line not ended yet: joined once, when its newline arrives (appending each
      // chunk to one string and searching it again is quadratic on a multi-megabyte line).
      const pending: string[] = [];
      let first = true;
      let slice = performance.now();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        slice = performance.now();
        if (first) { first = false; delay = 1000; opts.onState?.('live'); }
        let start = 0;
        for (let i = value.indexOf('\n'); i >= 0; i = value.indexOf('\n', start)) {
          pending.push(value.slice(start, i));
          start = i + 1;
          const line = pending.length === 1 ? pending[0]! : pending.join('');
          pending.length = 0;
          if (line.trim()) opts.onLine(JSON.parse(line) as T);
          // Let the page breathe between lines once a task has run ~12 ms (no long task however much arrives at once).
          if (performance.now() - slice > 12) { await new Promise((r) => setTimeout(r, 0)); slice = performance.now(); if (stopped) return; }
        }
        if (start < value.length) pending.push(value.slice(start));
      }
      throw new Error('the stream ended');
    } catch (e) {
      if (stopped) return;
      const err = e as Error & { fatal?: boolean };
      if (err.fatal) { opts.onState?.('failed', err.message); return; }
      opts.onState?.('reconnecting', err.message);
      timer = setTimeout(() => { void connect(); }, delay);
      delay = Math.min(delay * 2, 10_000);
    }
  };
  void connect();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      abort?.abort();
    },
  };
}

/** GET/POST JSON from the daemon; throws with the Status message. */
export async function fetchJson<T>(url: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(url, { credentials: 'same-origin', ...init, headers: { Accept: 'application/json', ...(init.headers ?? {}) } });
  if (res.status === 401) { location.assign('/ui/'); throw new Error('signed out'); }
  const body = await res.json().catch(() => undefined) as (T & { message?: string }) | undefined;
  if (!res.ok) throw new Error(body?.message ?? `HTTP ${res.status}`);
  return body as T;
}

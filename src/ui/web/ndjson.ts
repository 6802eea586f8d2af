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
      let rest = '';
      let first = true;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        if (first) { first = false; delay = 1000; opts.onState?.('live'); }
        const text = rest + value;
        let start = 0;
        for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', start)) {
          const line = text.slice(start, i);
          start = i + 1;
          if (line.trim()) opts.onLine(JSON.parse(line) as T);
        }
        rest = text.slice(start);
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

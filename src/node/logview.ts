/**
 * Selecting and stamping container log lines for pods/log (pure): a byte range of a log file plus
 * its write times (logtimes.ts) in, the text kubectl shows out — `tailLines` first, then the
 * `sinceSeconds`/`sinceTime` cut by each line's write time, then the RFC 3339 prefix of
 * `--timestamps`, in the kubelet's order.
 */
import { formatLogTime, timeAt, type LogTime } from './logtimes.js';

/** Which lines to show and how. */
export interface LogViewOptions {
  timestamps?: boolean;
  /** Keep only lines written at or after this epoch ms. */
  sinceMs?: number;
  tailLines?: number;
}

/**
 * Renders the lines of `bytes` (which start at file offset `base`). A line's time is that of the
 * sample covering its last byte (its newline): when the line was complete. Bytes no sample covers
 * yet get `fallbackMs` (the file's mtime: they were written by then).
 */
export function renderLogLines(bytes: Buffer, base: number, times: readonly LogTime[], fallbackMs: number, opts: LogViewOptions): Buffer {
  const lines: { start: number; end: number }[] = [];
  for (let start = 0; start < bytes.length;) {
    const nl = bytes.indexOf(0x0a, start);
    const end = nl === -1 ? bytes.length : nl + 1;
    lines.push({ start, end });
    start = end;
  }
  let shown = opts.tailLines === undefined ? lines : opts.tailLines <= 0 ? [] : lines.slice(-opts.tailLines);
  const timeOf = (l: { end: number }): number => timeAt(times, base + l.end - 1) ?? fallbackMs;
  if (opts.sinceMs !== undefined) shown = shown.filter((l) => timeOf(l) >= opts.sinceMs!);
  if (!opts.timestamps) return Buffer.concat(shown.map((l) => bytes.subarray(l.start, l.end)));
  return Buffer.concat(shown.flatMap((l) => [Buffer.from(`${formatLogTime(timeOf(l))} `), bytes.subarray(l.start, l.end)]));
}

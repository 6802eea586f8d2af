/**
 * When each byte of a container log was written. Containers write straight into their log file
 * (so they survive an agent restart), which records no times; the kubelet's runtime stamps each
 * line as it reads the container's pipe. Here the agent watches the file instead (inotify through
 * fs.watch): on growth it appends `<end offset> <epoch ms>` to a sidecar `<n>.times` file, meaning
 * "bytes before this offset had been written by this time". `logs --timestamps`, `sinceSeconds` and
 * `sinceTime` then use the time of the record covering each line's newline.
 *
 * Precision: a write is seen within about a millisecond; bursts are sampled at most every
 * `minIntervalMs`, so lines of one burst may share a time up to that much later than their write.
 * Bytes written while no agent watched (an agent restart) get the file's mtime when next seen.
 */
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';

/** One sample: every byte before `end` was written at or before `ms` (epoch ms, fractional). */
export interface LogTime {
  end: number;
  ms: number;
}

/** The sidecar of a log file: `…/3.log` → `…/3.times`. */
export function logTimesPath(logPath: string): string {
  return logPath.replace(/\.log$/, '') + '.times';
}

/** Wall-clock time in fractional ms (microsecond resolution, unlike Date.now()). */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Parses a sidecar; a torn last line (agent killed mid-write) is ignored. */
export function readLogTimes(logPath: string): readonly LogTime[] {
  return new LogTimesReader(logPath).read();
}

/**
 * Reads a sidecar as it grows: each `read()` parses only the records appended since the last one,
 * so `logs -f` polling a long-running container does not re-read its whole history every poll.
 * A torn last line (a record being written, or cut by a crash) is left for the next read.
 */
export class LogTimesReader {
  private readonly path: string;
  /** Sidecar bytes parsed so far; always just after a newline. */
  private consumed = 0;
  private records: LogTime[] = [];

  constructor(logPath: string) {
    this.path = logTimesPath(logPath);
  }

  /** Every record kept so far (ascending `end`), including those appended since the last read. */
  read(): readonly LogTime[] {
    let fd: number;
    try { fd = fs.openSync(this.path, 'r'); } catch { return this.records; }
    try {
      const size = fs.fstatSync(fd).size;
      // Only a torn tail, which was never parsed, is ever cut off; anything shorter is a new file.
      if (size < this.consumed) { this.consumed = 0; this.records = []; }
      if (size === this.consumed) return this.records;
      const buf = Buffer.allocUnsafe(size - this.consumed);
      const got = fs.readSync(fd, buf, 0, buf.length, this.consumed);
      const complete = buf.subarray(0, got).lastIndexOf(0x0a) + 1;
      for (const line of buf.toString('utf8', 0, complete).split('\n')) {
        const m = /^(\d+) (\d+(?:\.\d+)?)$/.exec(line);
        if (m) this.records.push({ end: Number(m[1]), ms: Number(m[2]) });
      }
      this.consumed += complete;
      return this.records;
    } finally {
      fs.closeSync(fd);
    }
  }

  /**
   * Drops the records that can only time bytes before `offset` (see timeAt): a follower that has
   * sent everything before `offset` never needs them again, so its memory stays flat.
   */
  forgetBefore(offset: number): void {
    let lo = 0, hi = this.records.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.records[mid]!.end > offset) hi = mid; else lo = mid + 1;
    }
    if (lo > 0) this.records = this.records.slice(lo);
  }
}

/** Time of the byte at `offset`: the first sample whose end is past it; undefined if none yet. */
export function timeAt(times: readonly LogTime[], offset: number): number | undefined {
  let lo = 0, hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid]!.end > offset) hi = mid; else lo = mid + 1;
  }
  return times[lo]?.ms;
}

/**
 * RFC 3339 with nanoseconds, as the kubelet prints it: 2026-01-02T03:04:05.123456000Z. The times
 * are microsecond-precise (an epoch in ms as a double holds no more), so the last 3 digits are 0.
 */
export function formatLogTime(ms: number): string {
  const micros = Math.round(ms * 1000);
  const secs = Math.floor(micros / 1e6);
  const base = new Date(secs * 1000).toISOString().slice(0, 19);
  return `${base}.${String(micros - secs * 1e6).padStart(6, '0')}000Z`;
}

/** Records write times of one log file while its container runs. */
export class LogTimeRecorder {
  private watcher?: fs.FSWatcher;
  private fd?: number;
  private recordedEnd = 0;
  private lastSample = 0;
  private timer?: NodeJS.Timeout;
  private scheduled = false;

  constructor(readonly logPath: string, private readonly minIntervalMs = 20, private readonly now: () => number = preciseNow) {}

  /** Starts watching. Bytes already in the file and not yet recorded get its mtime. */
  start(): void {
    const times = readLogTimes(this.logPath);
    this.recordedEnd = times.at(-1)?.end ?? 0;
    try {
      // A record torn by a crash is cut off, so the next one starts on its own line.
      const sidecar = logTimesPath(this.logPath);
      if (fs.existsSync(sidecar)) {
        const text = fs.readFileSync(sidecar);
        if (text.length && text[text.length - 1] !== 0x0a) fs.truncateSync(sidecar, text.lastIndexOf(0x0a) + 1);
      }
      this.fd = fs.openSync(sidecar, 'a');
      const st = fs.statSync(this.logPath);
      if (st.size > this.recordedEnd) this.append(st.size, st.mtimeMs);
      this.watcher = fs.watch(this.logPath, { persistent: false }, () => this.onChange());
      this.watcher.on('error', () => this.stop());
    } catch { /* the Pod dir is gone */ }
  }

  /** Records what has been written up to now (readers call it so the newest bytes have a time). */
  flush(): void {
    if (this.fd === undefined) return;
    try {
      const size = fs.statSync(this.logPath).size;
      if (size > this.recordedEnd) this.append(size, this.now());
    } catch { /* removed */ }
  }

  /** Takes a last sample and stops watching (the container exited or the Pod is going). */
  stop(): void {
    this.flush();
    this.watcher?.close();
    this.watcher = undefined;
    if (this.timer) clearTimeout(this.timer);
    if (this.fd !== undefined) { try { fs.closeSync(this.fd); } catch { /* closed */ } }
    this.fd = undefined;
  }

  // Events of a chatty container are coalesced: the first write after a quiet spell is sampled on
  // the next turn of the loop; within `minIntervalMs` of a sample one more sample is scheduled.
  private onChange(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const wait = this.lastSample + this.minIntervalMs - this.now();
    const run = (): void => { this.scheduled = false; this.timer = undefined; this.lastSample = this.now(); this.flush(); };
    if (wait <= 0) setImmediate(run);
    else { this.timer = setTimeout(run, wait); this.timer.unref(); }
  }

  private append(end: number, ms: number): void {
    if (this.fd === undefined) return;
    fs.writeSync(this.fd, `${end} ${ms.toFixed(3)}\n`);
    this.recordedEnd = end;
  }
}

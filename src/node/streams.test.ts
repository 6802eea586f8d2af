import { mock, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import fsModule from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { formatLogTime, LogTimeRecorder, logTimesPath } from './logtimes.js';
import { containerLogPath, type PodWorker } from './podworker.js';
import type { ContainerView } from './status.js';
import { NodeStreams } from './streams.js';

const T0 = Date.parse('2026-01-02T03:04:05Z');

/**
 * A Pod with one running container whose log is a real file with a real write-time recorder on a
 * clock the test sets: only the parts of a PodWorker that pods/log reads.
 */
function runningPod(t: TestContext): { log: string; clock: { ms: number }; view: ContainerView; streams: NodeStreams; startRecorder: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cip-streams-'));
  const log = containerLogPath(dir, 'app', 0);
  fs.mkdirSync(path.dirname(log), { recursive: true });
  fs.writeFileSync(log, '');
  const clock = { ms: T0 };
  const recorder = new LogTimeRecorder(log, 20, () => clock.ms);
  const view: ContainerView = {
    name: 'app', image: 'busybox', imageID: '', restartCount: 0, ready: true, started: true,
    running: { startedAt: new Date(T0).toISOString(), containerID: 'c1' },
  };
  const worker = {
    dir, done: false, pod: { metadata: { name: 'p' } },
    container: () => ({ spec: { name: 'app' }, view, stdinFifo: '', stdinOpen: false }),
    flushLogTimes: () => recorder.flush(),
  } as unknown as PodWorker;
  t.after(() => { recorder.stop(); fs.rmSync(dir, { recursive: true, force: true }); });
  return { log, clock, view, streams: new NodeStreams(() => worker), startRecorder: () => recorder.start() };
}

/** Collects a stream's output; `next(text)` waits until the output so far ends with `text`. */
function collect(r: Readable): { text: () => string; next: (want: string) => Promise<void>; ended: Promise<void> } {
  let text = '';
  r.on('data', (b: Buffer) => { text += b.toString(); });
  const ended = new Promise<void>((resolve) => r.on('end', resolve));
  const next = async (want: string): Promise<void> => {
    const deadline = Date.now() + 3000;
    while (!text.endsWith(want)) {
      if (Date.now() > deadline) throw new Error(`waited for ${JSON.stringify(want)}; have ${JSON.stringify(text)}`);
      await new Promise((res) => setTimeout(res, 10));
    }
  };
  return { text: () => text, next, ended };
}

const stamp = (ms: number, line: string): string => `${formatLogTime(ms)} ${line}`;

test('logs -f --timestamps: a line still being written when the request starts is stamped once, when complete', async (t) => {
  const pod = runningPod(t);
  fs.writeFileSync(pod.log, 'one\ntw');
  fs.utimesSync(pod.log, new Date(T0), new Date(T0));
  pod.startRecorder(); // "one\ntw" gets the file's mtime, T0
  const out = collect(await pod.streams.logs('default', 'p', { follow: true, timestamps: true }, new AbortController().signal));
  await out.next(stamp(T0, 'one\n'));
  await new Promise((r) => setTimeout(r, 250)); // two polls: "tw" has no newline yet, so nothing is sent
  assert.equal(out.text(), stamp(T0, 'one\n'));
  pod.clock.ms = T0 + 1500;
  fs.appendFileSync(pod.log, 'o\nthree\n');
  await out.next(stamp(T0 + 1500, 'three\n'));
  pod.view.running = undefined;
  pod.view.last = { exitCode: 0, reason: 'Completed', startedAt: '', finishedAt: '', containerID: 'c1' };
  await out.ended;
  assert.equal(out.text(), stamp(T0, 'one\n') + stamp(T0 + 1500, 'two\n') + stamp(T0 + 1500, 'three\n'));

  // --tail counts the unfinished line: --tail=1 shows none of the finished ones, then that line.
  const again = runningPod(t);
  fs.writeFileSync(again.log, 'a\nb\nc');
  fs.utimesSync(again.log, new Date(T0), new Date(T0));
  again.startRecorder();
  const ac = new AbortController();
  const tail = collect(await again.streams.logs('default', 'p', { follow: true, timestamps: true, tailLines: 2 }, ac.signal));
  await tail.next(stamp(T0, 'b\n'));
  fs.appendFileSync(again.log, '\n');
  await tail.next(stamp(T0, 'c\n'));
  ac.abort();
  await tail.ended;
  assert.equal(tail.text(), stamp(T0, 'b\n') + stamp(T0, 'c\n'));
});

test('logs -f --timestamps reads each byte of the write-time sidecar once, not all of it every poll', async (t) => {
  const pod = runningPod(t);
  // A container that has logged for a while: 2,000 lines, each with its own time record.
  const lines = Array.from({ length: 2000 }, (_, i) => `line ${i}\n`);
  fs.writeFileSync(pod.log, lines.join(''));
  let end = 0;
  fs.writeFileSync(logTimesPath(pod.log), lines.map((l, i) => `${(end += l.length)} ${(T0 + i).toFixed(3)}\n`).join(''));
  pod.startRecorder();

  // Count the bytes read from the sidecar through node:fs (both whole-file and positional reads).
  const sidecar = logTimesPath(pod.log);
  const sidecarFds = new Set<number>();
  let sidecarBytesRead = 0;
  const { openSync, readSync, readFileSync, closeSync } = fsModule;
  mock.method(fsModule, 'openSync', (...a: Parameters<typeof openSync>) => {
    const fd = openSync(...a);
    if (a[0] === sidecar) sidecarFds.add(fd);
    return fd;
  });
  mock.method(fsModule, 'readSync', (...a: Parameters<typeof readSync>) => {
    const n = readSync(...a);
    if (sidecarFds.has(a[0])) sidecarBytesRead += n;
    return n;
  });
  mock.method(fsModule, 'readFileSync', (...a: Parameters<typeof readFileSync>) => {
    const r = readFileSync(...a);
    if (a[0] === sidecar) sidecarBytesRead += r.length;
    return r;
  });
  mock.method(fsModule, 'closeSync', (fd: number) => { sidecarFds.delete(fd); closeSync(fd); });
  syncBuiltinESMExports();
  t.after(() => { mock.restoreAll(); syncBuiltinESMExports(); });

  const ac = new AbortController();
  const out = collect(await pod.streams.logs('default', 'p', { follow: true, timestamps: true }, ac.signal));
  await out.next(stamp(T0 + 1999, 'line 1999\n'));
  for (let i = 1; i <= 8; i++) {
    pod.clock.ms = T0 + 10_000 * i;
    fs.appendFileSync(pod.log, `more ${i}\n`);
    await out.next(stamp(T0 + 10_000 * i, `more ${i}\n`));
  }
  ac.abort();
  const size = fs.statSync(sidecar).size;
  assert.ok(sidecarBytesRead <= size, `${sidecarBytesRead} sidecar bytes read for a ${size}-byte sidecar`);
  assert.ok(sidecarBytesRead >= 2000 * 10, 'the spy saw the sidecar being read');
});

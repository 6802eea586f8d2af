import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LogTimeRecorder, LogTimesReader, logTimesPath, readLogTimes, timeAt } from './logtimes.js';

test('the recorder stamps bytes when they are written (inotify), not when they are read', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cip-logtimes-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const log = path.join(dir, '0.log');
  fs.writeFileSync(log, 'before\n');
  fs.utimesSync(log, new Date(1_000_000), new Date(1_000_000));
  const rec = new LogTimeRecorder(log);
  rec.start();
  // Bytes already there when watching began get the file's mtime.
  assert.deepEqual(readLogTimes(log), [{ end: 7, ms: 1_000_000 }]);
  const w1 = Date.now();
  fs.appendFileSync(log, 'one\n');
  await new Promise((r) => setTimeout(r, 300));
  const w2 = Date.now();
  fs.appendFileSync(log, 'two\n');
  await new Promise((r) => setTimeout(r, 300));
  rec.stop();
  const times = readLogTimes(log);
  assert.equal(times.length, 3, JSON.stringify(times));
  const one = timeAt(times, 10)!, two = timeAt(times, 14)!;
  assert.ok(one >= w1 && one - w1 < 100, `"one" stamped ${one - w1} ms after its write`);
  assert.ok(two >= w2 && two - w2 < 100, `"two" stamped ${two - w2} ms after its write`);
  // A torn last record (agent killed mid-write) is ignored; a new recorder continues after it.
  fs.appendFileSync(logTimesPath(log), '15 17');
  assert.equal(readLogTimes(log).length, 3);
  fs.appendFileSync(log, 'three\n');
  const again = new LogTimeRecorder(log);
  again.start();
  again.stop();
  assert.deepEqual(readLogTimes(log).map((x) => x.end), [7, 11, 15, 21]);
});

test('a sidecar reader parses appended records only; a torn record waits for its newline; old records can be dropped', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cip-logtimes-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const log = path.join(dir, '0.log');
  const sidecar = logTimesPath(log);
  const reader = new LogTimesReader(log);
  assert.deepEqual(reader.read(), [], 'no sidecar yet');
  fs.writeFileSync(sidecar, '4 100.500\n9 200\n12 3');
  assert.deepEqual(reader.read(), [{ end: 4, ms: 100.5 }, { end: 9, ms: 200 }]);
  // Rewriting a record already read is not seen: only bytes past the parsed ones are read again.
  const head = fs.readFileSync(sidecar, 'utf8');
  fs.writeFileSync(sidecar, head.replace('9 200', '9 999') + '00.250\n15 400\n');
  assert.deepEqual(reader.read().map((x) => x.ms), [100.5, 200, 300.25, 400]);
  reader.forgetBefore(9); // bytes from offset 9 on: the record ending at 9 can no longer time them
  assert.deepEqual(reader.read(), [{ end: 12, ms: 300.25 }, { end: 15, ms: 400 }]);
  assert.equal(timeAt(reader.read(), 9), 300.25);
});

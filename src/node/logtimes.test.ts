import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LogTimeRecorder, logTimesPath, readLogTimes, timeAt } from './logtimes.js';

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

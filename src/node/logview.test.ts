import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderLogLines } from './logview.js';
import { formatLogTime, timeAt, type LogTime } from './logtimes.js';

const T0 = Date.parse('2026-01-02T03:04:05Z');
// "a\n" and "b\n" written at T0, "c\n" a second later, "partial" (no newline) not yet sampled.
const bytes = Buffer.from('a\nb\nc\npartial');
const times: LogTime[] = [{ end: 4, ms: T0 + 0.5 }, { end: 6, ms: T0 + 1000.25 }];
const mtime = T0 + 2000;

test('each line carries the time its newline was written, in the kubelet\'s RFC 3339 nano format', () => {
  assert.equal(renderLogLines(bytes, 0, times, mtime, { timestamps: true }).toString(), [
    '2026-01-02T03:04:05.000500000Z a',
    '2026-01-02T03:04:05.000500000Z b',
    '2026-01-02T03:04:06.000250000Z c',
    '2026-01-02T03:04:07.000000000Z partial',
  ].join('\n'));
});

test('tail first, then since; offsets are file offsets (a follow reads from the middle)', () => {
  assert.equal(renderLogLines(bytes, 0, times, mtime, { tailLines: 2 }).toString(), 'c\npartial');
  assert.equal(renderLogLines(bytes, 0, times, mtime, { sinceMs: T0 + 1000 }).toString(), 'c\npartial');
  assert.equal(renderLogLines(bytes, 0, times, mtime, { tailLines: 0 }).toString(), '');
  assert.equal(renderLogLines(Buffer.from('c\n'), 4, times, mtime, { timestamps: true }).toString(), '2026-01-02T03:04:06.000250000Z c\n');
});

test('time lookup and formatting', () => {
  assert.equal(timeAt(times, 0), T0 + 0.5);
  assert.equal(timeAt(times, 3), T0 + 0.5);
  assert.equal(timeAt(times, 4), T0 + 1000.25);
  assert.equal(timeAt(times, 6), undefined);
  assert.equal(formatLogTime(T0 + 123.456789), '2026-01-02T03:04:05.123457000Z');
  assert.equal(formatLogTime(T0 + 999.9999), '2026-01-02T03:04:06.000000000Z');
});

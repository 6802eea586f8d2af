import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, UsageError } from './args.js';

const spec = {
  name: { type: 'string', description: 'cluster name', default: 'default' },
  nodes: { type: 'number', description: 'node count', default: 1 },
  detach: { type: 'boolean', description: 'return once ready' },
} as const;

test('parses flags in both forms, booleans, positionals and the rest after --', () => {
  const p = parseArgs(['--name', 'a', '--nodes=3', '--detach', 'pos', '--', 'wget', '--x'], spec);
  assert.deepEqual(p.flags, { name: 'a', nodes: 3, detach: true });
  assert.deepEqual(p.positional, ['pos']);
  assert.deepEqual(p.rest, ['wget', '--x']);
});

test('defaults apply when a flag is absent', () => {
  assert.deepEqual(parseArgs([], spec).flags, { name: 'default', nodes: 1, detach: undefined });
});

test('unknown flags and bad numbers are usage errors that name the flag', () => {
  assert.throws(() => parseArgs(['--nodez', '2'], spec), (e: unknown) => e instanceof UsageError && /--nodez/.test(e.message));
  assert.throws(() => parseArgs(['--nodes', 'x'], spec), /--nodes: "x" is not an integer/);
  assert.throws(() => parseArgs(['--name'], spec), /--name needs a value/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flagHelp, parseArgs, UsageError } from './args.js';
import type { FlagSpec } from './args.js';

const spec: Record<string, FlagSpec> = {
  name: { type: 'string', description: 'cluster name', default: 'default' },
  nodes: { type: 'number', description: 'node count', default: 1 },
  detach: { type: 'boolean', description: 'return once ready' },
  help: { type: 'boolean', short: 'h', description: 'help' },
};

test('parses flags in both forms, booleans, positionals and the rest after --', () => {
  const p = parseArgs(['--name', 'a', '--nodes=3', '--detach', 'pos', '--', 'wget', '--x'], spec, { positionals: true });
  assert.deepEqual(p.flags, { name: 'a', nodes: 3, detach: true, help: undefined });
  assert.deepEqual(p.positional, ['pos']);
  assert.deepEqual(p.rest, ['wget', '--x']);
  assert.equal(parseArgs(['-h'], spec).flags.help, true);
});

test('defaults apply when a flag is absent', () => {
  assert.deepEqual(parseArgs([], spec).flags, { name: 'default', nodes: 1, detach: undefined, help: undefined });
});

test('unknown flags, missing values, values given to booleans and bad numbers are usage errors that name the flag', () => {
  const usage = (re: RegExp) => (e: unknown) => e instanceof UsageError && e.code === 'INVALID_USAGE' && re.test(e.message);
  assert.throws(() => parseArgs(['--nodez', '2'], spec, { command: 'up' }), usage(/^unknown flag: --nodez for 'clusterip up' \(see 'clusterip up --help'\); did you mean --nodes\?$/));
  assert.throws(() => parseArgs(['--zzzzzz'], spec), usage(/^unknown flag: --zzzzzz$/));
  assert.throws(() => parseArgs(['--nodes', 'x'], spec), usage(/--nodes: "x" is not an integer/));
  assert.throws(() => parseArgs(['--nodes', '1.5'], spec), usage(/--nodes: "1.5" is not an integer/));
  assert.throws(() => parseArgs(['--name'], spec), usage(/flag --name needs a value/));
  assert.throws(() => parseArgs(['--name', '--detach'], spec), usage(/flag --name needs a value \(to give a value starting with '-', write --name=<value>\)/));
  assert.throws(() => parseArgs(['--detach=yes'], spec), usage(/flag --detach takes no value/));
  assert.throws(() => parseArgs(['stray'], spec, { command: 'down' }), usage(/unexpected argument "stray" for 'clusterip down'/));
});

test('help lists every flag with its default', () => {
  const h = flagHelp(spec);
  assert.match(h, /--name <value>\n\s+cluster name \(default "default"\)/);
  assert.match(h, /--nodes <n>\n\s+node count \(default 1\)/);
  assert.match(h, /-h, --help\n/);
});

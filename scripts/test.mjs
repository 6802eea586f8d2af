#!/usr/bin/env node
// Runs every test file (src/**/*.test.ts and test/**/*.test.ts) with Node's own test runner,
// TypeScript loaded through tsx, after a type check of src/, test/ and bench/ (tsconfig.check.json).
// Usage: npm test [-- <path filter substrings...>]
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function walk(dir, out) {
  let entries;
  try { entries = readdirSync(dir); } catch { return out; }
  for (const e of entries) {
    if (e === 'node_modules' || e === 'dist') continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
// Type-check the product, its tests and benches first (tsx only strips types). A filtered run skips
// it to stay quick; CI and a plain `npm test` always check.
if (filters.length === 0 || process.env.TEST_TYPECHECK === '1') {
  const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.check.json'], { stdio: 'inherit' });
  if (tsc.status !== 0) { console.error('type check failed (tsconfig.check.json)'); process.exit(tsc.status ?? 1); }
}
const files = walk('src', walk('test', [])).sort()
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (files.length === 0) { console.error('no test files matched'); process.exit(1); }
const concurrency = process.env.TEST_CONCURRENCY ?? '1';
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`,
  '--test-timeout=300000', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);

#!/usr/bin/env node
// A/B of one benchmark across checkouts (e.g. an old commit and this one), alternated round by round
// (A, B, A, B, ...) so load from other work on the machine falls on both sides alike; prints every
// figure's median per checkout. Nothing is written to bench/results/report.md.
//
//   git worktree add --detach /tmp/ab-old <commit>      # then `npm ci` there, or symlink node_modules
//   node scripts/bench-ab.mjs --rounds 3 bench/controllers/service-creates.bench.ts /tmp/ab-old .
//
// The bench path is relative to each checkout (each runs its own version of it). --jsonl FILE also
// appends every figure of every round (with the 1-minute load average) to FILE.
import { spawnSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, jsonl: { type: 'string' } },
  allowPositionals: true,
});
const rounds = Number(values.rounds);
const [bench, ...dirs] = positionals;
if (!bench || dirs.length < 2 || !Number.isInteger(rounds) || rounds < 1) {
  console.error('usage: node scripts/bench-ab.mjs [--rounds N] [--jsonl FILE] <bench path> <checkout A> <checkout B> [...]');
  process.exit(2);
}
const checkouts = dirs.map((d) => resolve(d));
const name = (d) => `${basename(d)} (${d})`;
/** figure → checkout → [value, baseline value][] */
const results = new Map();
for (let r = 0; r < rounds; r++) {
  for (const d of checkouts) {
    const load = loadavg()[0].toFixed(1);
    const run = spawnSync(process.execPath, ['--import', 'tsx', bench], { cwd: d, encoding: 'utf8', timeout: 900_000, maxBuffer: 64 << 20 });
    if (run.status !== 0) console.error(`round ${r + 1}, ${name(d)}: exit ${run.status ?? run.signal}\n${(run.stderr ?? '').slice(-2000)}`);
    for (const line of (run.stdout ?? '').split('\n')) {
      if (!line.startsWith('BENCH ')) continue;
      const b = JSON.parse(line.slice(6));
      if (!results.has(b.figure)) results.set(b.figure, new Map());
      const per = results.get(b.figure);
      if (!per.has(d)) per.set(d, []);
      per.get(d).push([b.value, b.baseline?.value]);
      if (values.jsonl) appendFileSync(values.jsonl, `${JSON.stringify({ checkout: d, round: r + 1, load, ...b })}\n`);
      console.error(`round ${r + 1} ${basename(d)} (load ${load}): ${b.figure}: ${b.value} ${b.unit ?? ''}${b.baseline ? ` (baseline ${b.baseline.value})` : ''}`);
    }
  }
}
const median = (xs) => {
  const s = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  return s.length === 0 ? undefined : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
for (const [figure, per] of results) {
  console.log(`== ${figure}`);
  for (const [d, vs] of per) {
    console.log(`  ${name(d)}: median ${median(vs.map((v) => v[0]))}, baseline median ${median(vs.map((v) => v[1])) ?? '-'}; rounds: ${vs.map((v) => v[0]).join(', ')}`);
  }
}

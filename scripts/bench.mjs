#!/usr/bin/env node
// Runs every benchmark (bench/**/*.bench.ts) one after another and writes bench/results/report.md.
// Each benchmark prints lines `BENCH {json}` with figure, value, unit, baseline, anchor, target.
// Usage: npm run bench [-- <path substring filters...>]
// With filters, only the matching benchmarks run; their rows replace that bench's rows in the existing
// report and every other bench's rows are kept, each row saying when it was measured.
import { readdirSync, statSync, mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import os from 'node:os';

function walk(dir, out) {
  let entries;
  try { entries = readdirSync(dir); } catch { return out; }
  for (const e of entries) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.bench.ts')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = walk('bench', []).sort().filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
const rows = [];
for (const f of files) {
  console.error(`== ${f}`);
  const t0 = Date.now();
  // 15 minutes: the longest bench (bench/ui/soak: the page under 10 minutes of live updates) must fit.
  const r = spawnSync(process.execPath, ['--import', 'tsx', f], { encoding: 'utf8', timeout: 900_000, maxBuffer: 64 << 20 });
  process.stderr.write(r.stderr ?? '');
  let n = 0;
  for (const line of (r.stdout ?? '').split('\n')) {
    if (!line.startsWith('BENCH ')) { if (line.trim()) console.error(line); continue; }
    try { rows.push({ file: f, ...JSON.parse(line.slice(6)) }); n++; } catch { console.error(`bad BENCH line: ${line}`); }
  }
  if (r.status !== 0) rows.push({ file: f, figure: `FAILED (exit ${r.status ?? r.signal})`, value: '', unit: '' });
  console.error(`   ${n} figures in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

const fmt = (v) => (typeof v === 'number' ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3)) : String(v ?? ''));
const REPORT = 'bench/results/report.md';
const today = new Date().toISOString().slice(0, 16).replace('T', ' ') + 'Z';
const header = '| figure | ours | baseline (same run) | target | anchor | bench | measured |';
const rendered = rows.map((r) => {
  const base = r.baseline ? `${r.baseline.name}: ${fmt(r.baseline.value)} ${r.baseline.unit ?? r.unit ?? ''}` : '';
  return `| ${r.figure} | ${fmt(r.value)} ${r.unit ?? ''} | ${base} | ${r.target ?? ''} | ${r.anchor ?? ''} | ${r.file} | ${today} |`;
});
// Rows of benches that did not run this time are carried over from the previous report.
const ranFiles = new Set(files);
const kept = [];
if (filters.length > 0 && existsSync(REPORT)) {
  const previous = readFileSync(REPORT, 'utf8');
  // Reports written before the "measured" column existed carry one date in their first line.
  const previousDate = previous.match(/ on (\d{4}-\d\d-\d\dT\d\d:\d\d)/)?.[1]?.replace('T', ' ') + 'Z';
  for (const line of previous.split('\n')) {
    if (!line.startsWith('| ') || line.startsWith('| figure') || line.startsWith('| ---')) continue;
    const cells = line.slice(2, -2).split(' | ');
    const file = cells.find((c) => /^bench\/.+\.bench\.ts$/.test(c));
    if (!file || ranFiles.has(file)) continue;
    kept.push(cells.length === 6 ? `| ${cells.join(' | ')} | ${previousDate} |` : line);
  }
}
const all = [...kept, ...rendered].sort((a, b) => {
  const fa = a.match(/bench\/[^ |]+\.bench\.ts/)?.[0] ?? '', fb = b.match(/bench\/[^ |]+\.bench\.ts/)?.[0] ?? '';
  return fa < fb ? -1 : fa > fb ? 1 : 0;
});
const lines = [
  '# Benchmark report', '',
  `Last written by \`npm run bench${filters.length ? ' -- ' + filters.join(' ') : ''}\` on ${new Date().toISOString()} — ` +
  `${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ` +
  `kernel ${os.release()}. The last column says when each row was measured.`, '',
  header,
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...all,
];
mkdirSync('bench/results', { recursive: true });
writeFileSync(REPORT, lines.join('\n') + '\n');
console.log(lines.join('\n'));
process.exit(rows.some((r) => String(r.figure).startsWith('FAILED')) ? 1 : 0);

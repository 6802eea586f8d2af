/**
 * The one way a benchmark reports a figure: `report({ figure, value, unit, baseline?, anchor?,
 * target?, ...details })` prints one `BENCH {json}` line, which scripts/bench.mjs turns into a row
 * of bench/results/report.md. Values (and the baseline's) are rounded to 3 decimals; the report
 * prints them to 3 significant digits.
 */

/** One figure. `baseline` is measured in the same run; `anchor` is another system's figure for scale. */
export interface BenchRow {
  figure: string;
  /** null when the figure could not be measured (say why in the figure or a detail). */
  value: number | null;
  unit: string;
  baseline?: { name: string; value: number; unit?: string };
  anchor?: string;
  target?: string;
  /** Anything else worth keeping beside the figure (runs, splits, settings). */
  [detail: string]: unknown;
}

const round = (v: number): number => Math.round(v * 1000) / 1000;

/** Prints `row` as a `BENCH` line on stdout. */
export function report(row: BenchRow): void {
  const out: BenchRow = { ...row, value: row.value === null ? null : round(row.value) };
  if (row.baseline) out.baseline = { ...row.baseline, value: round(row.baseline.value) };
  process.stdout.write(`BENCH ${JSON.stringify(out)}\n`);
}

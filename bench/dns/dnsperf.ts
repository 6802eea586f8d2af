/**
 * Runs dnsperf (DNS-OARC, Debian package dnsperf) against a server on loopback and reads its
 * summary; with `perQuery`, also every query's latency (dnsperf -v) for percentiles.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { pinned } from './cpu-pinning.js';

export interface DnsperfRun {
  port: number;
  /** Query file, `name TYPE` per line. */
  file: string;
  seconds: number;
  /** Rate limit (-Q); unset = as fast as the server answers. */
  qps?: number;
  /** Queries in flight (-q). */
  outstanding?: number;
  /** Keep per-query latencies (-v), written to this file during the run (removed after). */
  perQuery?: string;
  /** Run dnsperf on this CPU only (taskset); unset = anywhere. */
  cpu?: number;
  /** Told the process once started, so the caller can end it if the bench is cut short. */
  track?: (proc: ChildProcess) => void;
}

export interface DnsperfResult {
  sent: number;
  completed: number;
  lost: number;
  qps: number;
  avgLatencyMs: number;
  /** rcode → count */
  rcodes: Record<string, number>;
  /** Per-query latencies in ms, sorted ascending (only with perQuery). */
  latenciesMs: number[];
  command: string;
}

/** Starts dnsperf and resolves with its parsed output. Rejects if it fails or prints no summary. */
export function dnsperf(run: DnsperfRun): Promise<DnsperfResult> {
  const args = ['-s', '127.0.0.1', '-p', String(run.port), '-d', run.file, '-l', String(run.seconds),
    '-T', '1', '-c', '4', '-q', String(run.outstanding ?? 200), '-t', '2'];
  if (run.qps) args.push('-Q', String(run.qps));
  if (run.perQuery) args.push('-v');
  const cmd = pinned(run.cpu, 'dnsperf', args);
  const command = `${cmd.command} ${cmd.args.join(' ')}`;
  return new Promise((resolve, reject) => {
    // With -v, dnsperf prints a line per query; it goes to a file (read after the run) so parsing
    // it does not compete for CPU with the server and dnsperf during the measurement.
    const out = run.perQuery ? openSync(run.perQuery, 'w') : 'pipe';
    const child = spawn(cmd.command, cmd.args, { stdio: ['ignore', out, 'pipe'] });
    if (typeof out === 'number') closeSync(out);
    run.track?.(child);
    let stdout = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (c: string) => { stdout += c; });
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (c: string) => { stderr = (stderr + c).slice(-8000); });
    child.on('error', reject);
    child.on('close', (code) => {
      const latencies: number[] = [];
      let summary = stdout;
      if (run.perQuery) {
        summary = '';
        for (const line of readFileSync(run.perQuery, 'utf8').split('\n')) {
          // "> NOERROR name A 0.000404": the last field is the latency in seconds.
          if (line.startsWith('> ')) latencies.push(Number(line.slice(line.lastIndexOf(' ') + 1)) * 1000);
          else summary += line + '\n';
        }
        rmSync(run.perQuery, { force: true });
      }
      const num = (re: RegExp) => { const m = re.exec(summary); return m ? Number(m[1]) : NaN; };
      const qps = num(/Queries per second:\s+([\d.]+)/);
      if (code !== 0 || Number.isNaN(qps)) {
        reject(new Error(`${command} exited ${code}: ${(stderr + summary).slice(-2000)}`));
        return;
      }
      const rcodes: Record<string, number> = {};
      const rc = /Response codes:\s+(.*)/.exec(summary)?.[1] ?? '';
      for (const m of rc.matchAll(/([A-Z]+) (\d+)/g)) rcodes[m[1]] = Number(m[2]);
      resolve({
        sent: num(/Queries sent:\s+(\d+)/), completed: num(/Queries completed:\s+(\d+)/), lost: num(/Queries lost:\s+(\d+)/),
        qps, avgLatencyMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000, rcodes,
        latenciesMs: latencies.sort((a, b) => a - b), command,
      });
    });
  });
}

/** The q-quantile (0..1) of ascending `sorted`, nearest-rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

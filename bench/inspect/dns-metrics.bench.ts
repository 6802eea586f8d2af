/**
 * What counting queries for Prometheus costs the DNS answer path (issue 17: "must not get
 * measurably slower"). Two DNS server children (bench/dns/server-child.ts, bundled as deployed,
 * 10k Services), one counting (as deployed) and one with `metrics: false`, pinned to the same CPU
 * and loaded one at a time by dnsperf on the other CPU (bench/dns's layout), alternating
 * (on, off, on, ...) over ROUNDS max-rate runs of the main query mix; the figure is the ratio of
 * the medians, with the best runs beside it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DNS_NODE_FLAGS } from '../../src/dns/nodeflags.js';
import { childCommand } from '../child-command.js';
import { dnsperf, type DnsperfResult } from '../dns/dnsperf.js';
import { pinSelf, pinned, planCpus } from '../dns/cpu-pinning.js';
import { QPS_FIXTURE, mainQueries } from '../dns/fixtures.js';
import { percentile } from '../proxy/common.js';
import { report } from '../report.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const SECONDS = 3.5;
const tmp = mkdtempSync(join(tmpdir(), 'cip-dnsmetrics-'));
const started = new Set<ChildProcess>();
const track = (p: ChildProcess) => { started.add(p); p.once('exit', () => started.delete(p)); };
process.once('exit', () => { for (const p of started) p.kill('SIGKILL'); rmSync(tmp, { recursive: true, force: true }); });
const CPUS = planCpus();
pinSelf(CPUS.load);

const childCmd = childCommand(join(HERE, '..', 'dns', 'server-child.ts'), tmp);
function start(metrics: boolean): Promise<{ port: number; proc: ChildProcess }> {
  const cmd = pinned(CPUS.server, process.execPath, ['--expose-gc', ...DNS_NODE_FLAGS, ...childCmd, 'qps', 'fake', ...(metrics ? [] : ['nometrics'])]);
  const proc = spawn(cmd.command, cmd.args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  track(proc);
  return new Promise((resolve, reject) => {
    proc.once('message', (m: { port: number }) => resolve({ port: m.port, proc }));
    proc.once('exit', (c) => reject(new Error(`server child exited ${c}`)));
  });
}

const mix = mainQueries(QPS_FIXTURE);
const file = join(tmp, 'main.txt');
writeFileSync(file, mix.lines.join('\n') + '\n');
const on = await start(true);
const off = await start(false);
const runs = { on: [] as DnsperfResult[], off: [] as DnsperfResult[] };
for (let i = 0; i < ROUNDS; i++) {
  for (const [k, s] of (i % 2 ? [['off', off], ['on', on]] : [['on', on], ['off', off]]) as ['on' | 'off', { port: number }][]) {
    const r = await dnsperf({ port: s.port, file, seconds: SECONDS, track, cpu: CPUS.load });
    if ((r.rcodes.NOERROR ?? 0) === 0) throw new Error(`no answers from the ${k} server: ${JSON.stringify(r.rcodes)}`);
    runs[k].push(r);
  }
}
on.proc.kill(); off.proc.kill();
const q = (rs: DnsperfResult[]) => rs.map((r) => r.qps);
const med = (rs: DnsperfResult[]) => percentile(q(rs), 50);
console.error(`DNS max QPS with metrics ${q(runs.on).map(Math.round).join(' ')}; without ${q(runs.off).map(Math.round).join(' ')} (${CPUS.note})`);
report({ figure: 'DNS max QPS with query metrics (coredns_dns_*) counted / without, 10k Services, main mix (one core, median of alternating runs)', value: med(runs.on) / med(runs.off), unit: 'ratio', baseline: { name: 'without metrics, median QPS', value: Math.round(med(runs.off)) }, target: 'no measurable difference (within run-to-run spread)' });
report({ figure: 'DNS max QPS with query metrics, best run', value: Math.max(...q(runs.on)), unit: 'QPS', baseline: { name: 'without metrics, best run', value: Math.round(Math.max(...q(runs.off))) } });

// The counting itself, without the network: what `observe` adds per query (two performance.now()
// calls are added by the server around it), against the cached-answer path it sits beside.
{
  const { DnsMetrics } = await import('../../src/dns/metrics.js');
  const m = new DnsMetrics('dns://:53');
  const query = Buffer.from('abcd01000001000000000000' + '0573766331320a6e732d3030310373766305636c7573746572056c6f63616c00' + '00010001', 'hex');
  const reply = Buffer.from(query);
  reply[2]! |= 0x80;
  const N = 2_000_000;
  for (let i = 0; i < 100_000; i++) m.observe(0, query, reply, 0.0001);
  // CPU time, not wall time: on a shared machine the wall clock counts other processes' turns.
  const c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    const s = performance.now();
    m.observe(0, query, reply, (performance.now() - s) / 1000);
  }
  const c = process.cpuUsage(c0);
  const ns = ((c.user + c.system) * 1000) / N;
  report({ figure: 'DNS: cost of counting one query for the metrics (observe + two clock reads), CPU', value: ns, unit: 'ns', baseline: { name: 'one answered query at 140k QPS on one core, ns', value: Math.round(1e9 / 140_000) } });
  console.error(`observe: ${ns.toFixed(0)} ns per query`);
}

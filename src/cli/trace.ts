/**
 * `clusterip trace svc/NAME [-n NS] [-f] [--last N] [-o json]`: a Service's recorded changes as
 * seed 000's process table and status tracker (src/inspect/tracerender.ts), from the daemon's
 * trace recorder (`/debug/clusterip/trace`).
 */
import { parseArgs } from 'node:util';
import { UsageError } from './args.js';
import { apiGet, apiStream, findRunningCluster } from './clusterapi.js';
import type { TraceChange, TraceList, TraceUpdate, OutsideReachability } from '../inspect/tracemodel.js';
import { renderChange, stepCells } from '../inspect/tracerender.js';
import { applyStep } from '../inspect/tracerecorder.js';

export const TRACE_USAGE = `clusterip trace svc/NAME [-n NAMESPACE] [-f] [--last N] [-o json] [--name CLUSTER] [--state-dir DIR]

Shows how each change of a Service travelled through the cluster, as seed 000's process table:
the API write (who, with what client), the ClusterIP allocation, each EndpointSlice write (which
endpoints changed and why), each node's proxy sync (the rule lines it added and removed), the DNS
record going live and the first connection through the ClusterIP — with the time of each step from
the start, the latency split and a status tracker.

  -n, --namespace NS   namespace of the Service (default "default")
  -f, --follow         keep printing steps as they happen (run kubectl apply/scale/delete meanwhile)
      --last N         how many recent changes to show (default 3)
  -o, --output json    the recorder's data as JSON (NDJSON with -f), as the web view reads it
      --name CLUSTER   cluster name (default "default")`;

interface TraceArgs { key: string; follow: boolean; last: number; json: boolean; name: string; stateDir?: string }

export function parseTraceArgs(argv: string[]): TraceArgs | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true, strict: true,
      options: {
        namespace: { type: 'string', short: 'n', default: 'default' }, follow: { type: 'boolean', short: 'f', default: false },
        last: { type: 'string', default: '3' }, output: { type: 'string', short: 'o' }, name: { type: 'string', default: 'default' },
        'state-dir': { type: 'string' }, help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n\n${TRACE_USAGE}`);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  const [target, ...extra] = parsed.positionals;
  if (!target || extra.length) throw new UsageError(`trace needs exactly one svc/NAME\n\n${TRACE_USAGE}`);
  const m = /^(svc|service|services)\/([a-z0-9]([-a-z0-9]*[a-z0-9])?)$/.exec(target);
  if (!m) throw new UsageError(`unknown trace target ${JSON.stringify(target)}: use svc/NAME (a Service)`);
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(v.namespace!)) throw new UsageError(`invalid namespace ${JSON.stringify(v.namespace)}`);
  const last = Number(v.last);
  if (!Number.isInteger(last) || last < 0) throw new UsageError(`--last must be a non-negative integer, not ${JSON.stringify(v.last)}`);
  if (v.output !== undefined && v.output !== 'json') throw new UsageError(`--output must be json, not ${JSON.stringify(v.output)}`);
  return { key: `${v.namespace}/${m[2]}`, follow: !!v.follow, last, json: v.output === 'json', name: v.name!, ...(v['state-dir'] ? { stateDir: v['state-dir'] } : {}) };
}

/**
 * Prints changes live: a header when one starts, a line per step as it is recorded, then — once the
 * change has been quiet for 1.5 s — its numbered process table, latency split and status tracker.
 */
class FollowPrinter {
  private readonly changes = new Map<number, TraceChange>();
  private readonly quiet = new Map<number, NodeJS.Timeout>();
  private outside?: OutsideReachability;

  constructor(private readonly out: (s: string) => void) {}

  snapshot(list: TraceList): void {
    this.outside = list.outside;
    for (const c of list.changes) { this.out(renderChange(c, list.outside)); this.out(''); this.changes.set(c.id, c); }
    this.out(list.changes.length ? `following service ${list.service} (Ctrl-C to stop)...` : `no changes recorded for service ${list.service} yet; following (Ctrl-C to stop)...`);
  }

  change(c: TraceChange): void {
    this.changes.set(c.id, { ...c, steps: [] });
    this.out(`change #${c.id}  service ${c.service}  ${new Date(c.startedAt).toISOString()}  cause: ${c.cause}`);
  }

  step(id: number, step: TraceChange['steps'][number]): void {
    const c = this.changes.get(id);
    if (!c) return;
    c.steps.push(step);
    c.steps.sort((a, b) => a.at - b.at);
    let state = c.before;
    for (const s of c.steps) { state = applyStep(state, s); if (s === step) break; }
    this.out(`  +${(step.at - c.startedAt).toFixed(1).padStart(7)} ms  ${stepCells(step, state).join(' | ')}`);
    clearTimeout(this.quiet.get(id));
    this.quiet.set(id, setTimeout(() => this.settle(id), 1500));
  }

  setOutside(o: OutsideReachability): void {
    this.outside = o;
  }

  private settle(id: number): void {
    const c = this.changes.get(id);
    if (!c) return;
    this.out('');
    this.out(renderChange(c, this.outside));
    this.out('');
  }

  stop(): void {
    for (const t of this.quiet.values()) clearTimeout(t);
  }
}

export async function run(argv: string[]): Promise<number> {
  const a = parseTraceArgs(argv);
  if (a === 'help') { console.log(TRACE_USAGE); return 0; }
  const rec = findRunningCluster(a.name, a.stateDir);
  const q = `service=${encodeURIComponent(a.key)}&last=${a.last}`;
  if (!a.follow) {
    const list = await apiGet<TraceList>(rec, `/debug/clusterip/trace?${q}`);
    if (a.json) { console.log(JSON.stringify(list, null, 2)); return 0; }
    if (list.changes.length === 0) {
      const [ns, name] = a.key.split('/');
      const exists = await apiGet(rec, `/api/v1/namespaces/${ns}/services/${name}`).then(() => true, () => false);
      if (!exists) { console.error(`error: services "${name}" not found in namespace "${ns}", and no change of it is recorded`); return 1; }
      console.log(`no change of service ${a.key} recorded since the cluster started (or all were dropped: the history keeps ${list.limits.changes} changes); use -f and change it`);
      return 0;
    }
    console.log(list.changes.map((c, i) => renderChange(c, i === list.changes.length - 1 ? list.outside : undefined)).join('\n\n'));
    if (list.dropped) console.log(`\n(${list.dropped} older changes were dropped to keep the history within its bounds)`);
    return 0;
  }
  const printer = new FollowPrinter((s) => console.log(s));
  const stream = apiStream<TraceUpdate>(rec, `/debug/clusterip/trace?${q}&follow=1`, (u) => {
    if (a.json) { console.log(JSON.stringify(u)); return; }
    if (u.type === 'snapshot') printer.snapshot(u.list);
    else if (u.type === 'change') printer.change(u.change);
    else if (u.type === 'step') printer.step(u.changeId, u.step);
    else if (u.type === 'outside') printer.setOutside(u.outside);
  });
  const onSignal = () => { printer.stop(); stream.stop(); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  await stream.done;
  printer.stop();
  return 0;
}

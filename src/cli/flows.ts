/**
 * `clusterip flows [svc/NAME | pod/NAME] [-n NS] [-f] [-o json]`: connections through the Service
 * data plane from conntrack events in every node namespace, one line per connection with the
 * client, the Service's virtual IP and the Pod it reached (src/inspect/flowsrender.ts), from the
 * daemon's flow collectors (`/debug/clusterip/flows`).
 */
import { parseArgs } from 'node:util';
import { UsageError } from './args.js';
import { apiGet, apiStream, findRunningCluster } from './clusterapi.js';
import { FlowFilterError, parseFlowTarget } from '../inspect/flowsfilter.js';
import type { FlowList, FlowUpdate } from '../inspect/flowsmodel.js';
import { renderFlow, renderStatsProblems } from '../inspect/flowsrender.js';

export const FLOWS_USAGE = `clusterip flows [svc/NAME | pod/NAME] [-n NAMESPACE] [-f] [-o json] [--limit N] [--name CLUSTER] [--state-dir DIR]

Connections through Services, from the kernel's conntrack events in each node: the client Pod, the
Service's ClusterIP and the Pod the connection was sent to, on one line; refused connections (no
endpoints) and ClientIP affinity are marked. Only traffic to Service addresses is shown.

  svc/NAME | pod/NAME  only this Service's connections, or this Pod's (as client or backend)
  -n, --namespace NS   the namespace of NAME, or alone: every connection touching it
  -f, --follow         print connections as they happen
  -o, --output json    the collector's data as JSON (NDJSON with -f), as the web view reads it
      --limit N        most recent connections to list (default 100)
      --name CLUSTER   cluster name (default "default")`;

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true, strict: true,
      options: {
        namespace: { type: 'string', short: 'n' }, follow: { type: 'boolean', short: 'f', default: false },
        output: { type: 'string', short: 'o' }, limit: { type: 'string', default: '100' }, name: { type: 'string', default: 'default' },
        'state-dir': { type: 'string' }, help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n\n${FLOWS_USAGE}`);
  }
  const v = parsed.values;
  if (v.help) { console.log(FLOWS_USAGE); return 0; }
  if (parsed.positionals.length > 1) throw new UsageError(`flows takes at most one svc/NAME or pod/NAME\n\n${FLOWS_USAGE}`);
  if (v.output !== undefined && v.output !== 'json') throw new UsageError(`--output must be json, not ${JSON.stringify(v.output)}`);
  const limit = Number(v.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit must be a positive integer, not ${JSON.stringify(v.limit)}`);
  let filter;
  try { filter = parseFlowTarget(parsed.positionals[0], v.namespace); } catch (e) {
    if (e instanceof FlowFilterError) throw new UsageError(e.message);
    throw e;
  }
  const rec = findRunningCluster(v.name!, v['state-dir']);
  // A named Service or Pod must exist, as kubectl would say.
  const named = filter.service ? ['services', filter.service] : filter.pod ? ['pods', filter.pod] : undefined;
  if (named) {
    const [ns, name] = named[1]!.split('/');
    const ok = await apiGet(rec, `/api/v1/namespaces/${ns}/${named[0]}/${name}`).then(() => true, () => false);
    if (!ok) { console.error(`error: ${named[0]} "${name}" not found in namespace "${ns}"`); return 1; }
  }
  const q = new URLSearchParams();
  if (filter.service) q.set('service', filter.service);
  if (filter.pod) q.set('pod', filter.pod);
  if (filter.namespace) q.set('namespace', filter.namespace);
  q.set('limit', String(limit));
  const multiNode = rec.nodes > 1;
  if (!v.follow) {
    const list = await apiGet<FlowList>(rec, `/debug/clusterip/flows?${q}`);
    if (v.output === 'json') { console.log(JSON.stringify(list, null, 2)); return 0; }
    for (const p of renderStatsProblems(list.stats)) console.error(`! ${p}`);
    if (list.flows.length === 0) console.log('no connections through Services seen yet (-f to watch)');
    for (const f of list.flows) console.log(renderFlow(f, { node: multiNode, listing: true }));
    return 0;
  }
  q.set('follow', '1');
  const reported = new Set<string>();
  let announced = false;
  // Lines are written in batches (one write per event-loop turn): at thousands a second a write per line costs more than the rest.
  let batch: string[] = [];
  const print = (line: string) => {
    if (batch.length === 0) setImmediate(() => { process.stdout.write(batch.join('\n') + '\n'); batch = []; });
    batch.push(line);
  };
  const stream = apiStream<FlowUpdate>(rec, `/debug/clusterip/flows?${q}`, (u) => {
    if (v.output === 'json') { print(JSON.stringify(u)); return; }
    if (!announced) { announced = true; console.error('watching connections through Services (Ctrl-C to stop)...'); }
    if (u.type === 'flow') { print(renderFlow(u.flow, { node: multiNode })); return; }
    for (const p of renderStatsProblems(u.stats)) {
      if (reported.has(p)) continue;
      reported.add(p);
      console.error(`! ${p}`);
    }
  });
  const onSignal = () => stream.stop();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  await stream.done;
  return 0;
}

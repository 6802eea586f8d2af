/**
 * `clusterip explain svc/NAME|pod/NAME [-n NS] [-o json|yaml] [--name CLUSTER]`: the Service's (or
 * Pod's) path read from the live system (src/inspect/explain.ts).
 */
import { setMaxListeners } from 'node:events';
import { parseArgs } from 'node:util';
import { explainPod, explainService } from '../inspect/explain.js';
import { renderPodExplanation, renderServiceExplanation } from '../inspect/explaintext.js';
import { parseTarget } from '../inspect/target.js';
import { commandName, findCluster, isKubectlPlugin, kubectlContext, outputFormat, printData, usageErrors } from './inspectcommon.js';

function usage(): string {
  const c = commandName();
  return `${c} explain svc/NAME | pod/NAME [flags]

Shows the path traffic takes to a Service, read from the live system: its DNS names and what the
cluster DNS server answers, its virtual IP per port, the rules each node's kernel holds for it
(nft / iptables-save text with per-endpoint connection counters), its EndpointSlices with each
endpoint's conditions (and why it is not ready), and its Pods: IP, node, the port targetPort resolves
to and whether a process listens there. pod/NAME shows one Pod and the Services that reach it.

Flags:
  -n, --namespace NS    namespace (default: ${isKubectlPlugin() ? "the kubectl context's, else " : ''}default)
  -o, --output FORMAT   json or yaml (the same facts as data); default text
      --name CLUSTER    cluster name (default: ${isKubectlPlugin() ? "from the kubectl context clusterip-<name>, else " : ''}default)
      --state-dir DIR   the cluster's state directory (default /var/lib/clusterip/<name>)
      --context CTX     kubectl context to take the cluster and namespace from
  -h, --help            this text

Needs root (it reads the nodes' network namespaces).`;
}

/** `clusterip explain ...` (src/cli/main.ts loads this file and calls `run`). */
export function run(argv: string[]): Promise<number> {
  return usageErrors(() => body(argv));
}

async function body(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: {
      namespace: { type: 'string', short: 'n' }, output: { type: 'string', short: 'o' }, name: { type: 'string' },
      'state-dir': { type: 'string' }, context: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) { console.log(usage()); return 0; }
  const target = parseTarget(positionals[0]);
  if (positionals.length > 1) throw new TypeError(`one object at a time; got ${positionals.join(' ')}`);
  const format = outputFormat(values.output);
  const ctx = isKubectlPlugin() || values.context ? kubectlContext(values.context) : {};
  const cluster = findCluster(values.name ?? ctx.cluster, values['state-dir']);
  const namespace = values.namespace ?? ctx.namespace ?? 'default';
  const abort = new AbortController();
  setMaxListeners(0, abort.signal); // every helper process listens for Ctrl-C
  const onSignal = (): void => abort.abort();
  process.once('SIGINT', onSignal);
  try {
    if (target.kind === 'service') {
      const e = await explainService(cluster.client, cluster.view, namespace, target.name, { signal: abort.signal });
      if (format === 'text') process.stdout.write(renderServiceExplanation(e));
      else printData(e, format);
    } else {
      const e = await explainPod(cluster.client, cluster.view, namespace, target.name, { signal: abort.signal });
      if (format === 'text') process.stdout.write(renderPodExplanation(e));
      else printData(e, format);
    }
    return 0;
  } finally {
    process.removeListener('SIGINT', onSignal);
    cluster.client.close();
  }
}

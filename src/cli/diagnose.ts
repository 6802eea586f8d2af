/**
 * `clusterip diagnose [svc/NAME] [-n NS | -A] [--from NS] [-o json|yaml] [--name CLUSTER]`: the
 * "Debug Services" checklist with real probes (src/inspect/diagnose.ts). Exit codes: 0 all passed
 * (warnings allowed), 1 a check failed, 2 bad usage, 3 nothing failed but the probe could not be
 * placed (the diagnosis is incomplete). Ctrl-C removes the probe Pod before exiting (130).
 */
import { setMaxListeners } from 'node:events';
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { diagnoseAll, diagnoseService } from '../inspect/diagnose.js';
import { renderClusterDiagnosis, renderDiagnosis } from '../inspect/diagnosetext.js';
import { parseTarget } from '../inspect/target.js';
import type { Finding } from '../inspect/types.js';
import { commandName, findCluster, isKubectlPlugin, kubectlContext, outputFormat, printData, usageErrors } from './inspectcommon.js';

function usage(): string {
  const c = commandName();
  return `${c} diagnose [svc/NAME] [flags]

Runs Kubernetes' "Debug Services" checklist and the common Service mistakes against the live
cluster, with real probes: a short-lived probe Pod in the Service's namespace looks the names up and
connects to the ClusterIP and to every endpoint; the outside host tries the ClusterIP; one of the
Service's Pods connects to its own Service (hairpin). Each check prints pass/warn/fail, its evidence
and the fix as a command. Without svc/NAME, every Service is checked (one probe per namespace).

Flags:
  -n, --namespace NS    namespace (default: ${isKubectlPlugin() ? "the kubectl context's, else " : ''}default)
  -A, --all-namespaces  every Service in every namespace (the default without svc/NAME and -n)
      --from NS         place the probe in namespace NS (a client there: does the short name work?)
      --no-probe        no probe Pod (API, kernel and outside checks only)
  -o, --output FORMAT   json or yaml (the findings as data); default text
  -v, --verbose         show the evidence of passing checks too
      --name CLUSTER    cluster name (default: ${isKubectlPlugin() ? "from the kubectl context clusterip-<name>, else " : ''}default)
      --state-dir DIR   the cluster's state directory (default /var/lib/clusterip/<name>)
      --context CTX     kubectl context to take the cluster and namespace from
  -h, --help            this text

Exit codes: 0 no check failed, 1 a check failed, 2 bad usage, 3 incomplete (the probe could not be placed).
Needs root (it enters the cluster's network namespaces).`;
}

function exitCode(findings: readonly Finding[]): number {
  const failed = findings.filter((f) => f.verdict === 'fail');
  if (failed.length === 0) return 0;
  return failed.every((f) => f.code === 'ProbeNotPlaced') ? 3 : 1;
}

/** `clusterip diagnose ...` (src/cli/main.ts loads this file and calls `run`). */
export function run(argv: string[]): Promise<number> {
  return usageErrors(() => body(argv));
}

async function body(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: {
      namespace: { type: 'string', short: 'n' }, 'all-namespaces': { type: 'boolean', short: 'A' }, from: { type: 'string' },
      'no-probe': { type: 'boolean' }, output: { type: 'string', short: 'o' }, verbose: { type: 'boolean', short: 'v' },
      name: { type: 'string' }, 'state-dir': { type: 'string' }, context: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) { console.log(usage()); return 0; }
  const target = positionals.length ? parseTarget(positionals[0], ['service']) : undefined;
  if (positionals.length > 1) throw new TypeError(`one Service at a time (or none for every Service); got ${positionals.join(' ')}`);
  const format = outputFormat(values.output);
  const ctx = isKubectlPlugin() || values.context ? kubectlContext(values.context) : {};
  const cluster = findCluster(values.name ?? ctx.cluster, values['state-dir']);
  const namespace = values.namespace ?? ctx.namespace ?? 'default';

  // Ctrl-C: abort the probes, remove the probe Pod(s), then exit 130. A second Ctrl-C exits at once
  // (the next diagnose removes a probe whose maker is gone).
  const abort = new AbortController();
  setMaxListeners(0, abort.signal); // every helper process listens for Ctrl-C
  const live = new Set<string>();
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write(`\n${sig}: stopping${live.size ? `; removing probe Pod ${[...live].join(', ')}` : ''}...\n`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const opts = {
    signal: abort.signal, probe: !values['no-probe'], command: commandName(), from: values.from,
    imagesFile: join(cluster.stateDir, 'images.json'),
    onProbe: (ev: 'created' | 'removed', ns: string, name: string) => {
      if (ev === 'removed') { live.delete(`${ns}/${name}`); return; }
      live.add(`${ns}/${name}`);
      // Ctrl-C came while the create was on its way: the Pod is removed all the same; say which.
      if (interrupted) process.stderr.write(`removing probe Pod ${ns}/${name}...\n`);
    },
  };
  try {
    if (target) {
      const d = await diagnoseService(cluster.client, cluster.view, namespace, target.name, opts);
      if (interrupted) return 130;
      if (format === 'text') process.stdout.write(renderDiagnosis(d, { verbose: values.verbose }));
      else printData(d, format);
      return exitCode(d.findings);
    }
    const all = await diagnoseAll(cluster.client, cluster.view, { ...opts, namespace: values['all-namespaces'] || values.namespace === undefined ? undefined : namespace });
    if (interrupted) return 130;
    if (format === 'text') process.stdout.write(renderClusterDiagnosis(all, { verbose: values.verbose }));
    else printData(all, format);
    const codes = all.services.map((d) => exitCode(d.findings));
    return codes.includes(1) ? 1 : codes.includes(3) ? 3 : 0;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    cluster.client.close();
  }
}

/**
 * Check 2 (Debug Services step 7, seed 002's "Debug selector mismatch"): the selector matches Pods.
 * If not, the nearest label sets — a typo (`app=ngnix`), a key typo, a missing label, or the Pods
 * living in another namespace — and the patch that makes it match. Selectorless and ExternalName
 * Services are not alarms: they have no selector on purpose.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { selectorFromSet } from '../../api/selectors.js';
import type { DiagnoseFacts } from '../diagnosefacts.js';
import { formatLabels, nearestLabelSets, type LabelDiff, type NearLabelSet } from '../nearest.js';
import { ownerOf } from '../pods.js';
import type { Finding, ServiceView } from '../types.js';
import { deploymentOf, finding } from './common.js';

function matching(selector: Record<string, string>, pods: readonly Pod[]): Pod[] {
  const sel = selectorFromSet(selector);
  return pods.filter((p) => sel.matches(p.metadata?.labels ?? {}) && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
}

function owners(pods: readonly Pod[]): string {
  const o = [...new Set(pods.map((p) => deploymentOf(ownerOf(p), p.metadata?.labels) ? `deployment/${deploymentOf(ownerOf(p), p.metadata?.labels)}` : ownerOf(p) ?? 'no owner'))];
  return o.join(', ');
}

function diffText(d: LabelDiff): string {
  switch (d.kind) {
    case 'match': return `${d.key}=${d.value} matches`;
    case 'value': return `${d.key} is "${d.have}", not "${d.want}"${d.typo ? ' (a typo?)' : ''}`;
    case 'key': return `they have ${d.haveKey}=${d.have}, not ${d.key}=${d.want} (a typo in the key?)`;
    case 'missing': return `they have no label ${d.key}`;
  }
}

/** The fixes that make the selector match label set `g`. */
function fixesFor(v: ServiceView, g: NearLabelSet): string[] {
  const ops: object[] = [];
  const labelPods: string[] = [];
  for (const d of g.diffs) {
    if (d.kind === 'value') ops.push({ op: 'replace', path: `/spec/selector/${d.key.replace(/~/g, '~0').replace(/\//g, '~1')}`, value: d.have });
    if (d.kind === 'key') {
      ops.push({ op: 'remove', path: `/spec/selector/${d.key.replace(/~/g, '~0').replace(/\//g, '~1')}` });
      ops.push({ op: 'add', path: `/spec/selector/${d.haveKey.replace(/~/g, '~0').replace(/\//g, '~1')}`, value: d.have });
    }
    if (d.kind === 'missing') {
      ops.push({ op: 'remove', path: `/spec/selector/${d.key.replace(/~/g, '~0').replace(/\//g, '~1')}` });
      labelPods.push(`${d.key}=${d.want}`);
    }
  }
  const fixes = [`kubectl patch svc ${v.name} -n ${v.namespace} --type=json -p '${JSON.stringify(ops)}'`];
  if (labelPods.length) {
    const matchLabels = g.diffs.filter((d) => d.kind === 'match').map((d) => `${d.key}=${(d as { value: string }).value}`).join(',');
    fixes.push(`# or give the Pods the missing label(s) instead (and their template, or new Pods lack it again):`);
    fixes.push(`kubectl label pods -n ${v.namespace} -l ${matchLabels || formatLabels(g.labels)} ${labelPods.join(' ')}`);
  }
  return fixes;
}

export function checkSelector(f: DiagnoseFacts): Finding[] {
  const v = f.explanation.service;
  if (v.type === 'ExternalName') return [finding('selector', 'info', 'NoSelectorNeeded', 'ExternalName Service: no selector, no endpoints (a DNS alias only)')];
  if (!v.selector) {
    if (v.namespace === 'default' && v.name === 'kubernetes') {
      return [finding('selector', 'info', 'ApiServerOutsidePodNetwork', 'default/kubernetes has no selector: its endpoint is the API server, which clusterip runs on this machine\'s loopback and unix socket, outside the Pod network', [
        'a known limit of clusterip: Pods cannot reach the API server through 10.96.0.1; in-cluster clients here use the API server\'s unix socket',
      ])];
    }
    const manual = (f.endpoints?.subsets ?? []).reduce((n, s) => n + (s.addresses?.length ?? 0), 0);
    const inSlices = f.slices.reduce((n, s) => n + (s.endpoints?.length ?? 0), 0);
    return [finding('selector', 'info', 'Selectorless', 'no selector: the endpoints of this Service are written by hand, not chosen by labels', [
      `Endpoints ${v.name}: ${f.endpoints ? `${manual} ready address(es)` : 'none'}; EndpointSlices: ${f.slices.length} with ${inSlices} endpoint(s)`,
    ])];
  }
  const here = matching(v.selector, f.pods);
  const sel = formatLabels(v.selector);
  if (here.length > 0) {
    return [finding('selector', 'pass', 'SelectorMatches', `selector ${sel} matches ${here.length} Pod${here.length === 1 ? '' : 's'} (${owners(here)})`,
      here.slice(0, 10).map((p) => `${p.metadata!.name}  ${formatLabels(p.metadata?.labels)}`))];
  }
  const evidence: string[] = [`no Pod in namespace ${v.namespace} has all of ${sel} (${f.pods.length} Pod${f.pods.length === 1 ? '' : 's'} there)`];
  const fix: string[] = [];
  const candidates = f.pods.filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed' && !p.metadata?.labels?.['diagnose.clusterip.dev/probe'])
    .map((p) => ({ name: p.metadata!.name!, labels: p.metadata?.labels ?? {}, owner: ownerOf(p) }));
  const near = nearestLabelSets(v.selector, candidates);
  for (const g of near) {
    const dep = deploymentOf(g.owner, g.labels);
    evidence.push(`nearest: ${g.pods.length} Pod${g.pods.length === 1 ? '' : 's'} (${dep ? `deployment/${dep}` : g.owner ?? g.pods[0]}) labelled ${formatLabels(g.labels)}: ${g.diffs.filter((d) => d.kind !== 'match').map(diffText).join('; ')}`);
  }
  if (near[0]) fix.push(...fixesFor(v, near[0]));
  const elsewhere = matching(v.selector, f.podsElsewhere);
  if (elsewhere.length) {
    const byNs = new Map<string, Pod[]>();
    for (const p of elsewhere) byNs.set(p.metadata!.namespace!, [...(byNs.get(p.metadata!.namespace!) ?? []), p]);
    for (const [ns, pods] of byNs) {
      evidence.push(`${pods.length} Pod${pods.length === 1 ? '' : 's'} in namespace ${ns} match ${sel} (${owners(pods)}) — a Service selects Pods of its own namespace only`);
      const dep = deploymentOf(ownerOf(pods[0]!), pods[0]!.metadata?.labels);
      const p = v.ports[0];
      if (dep && p) fix.push(`kubectl expose deployment/${dep} -n ${ns} --name ${v.name} --port ${p.port} --target-port ${p.targetPort}   # a Service beside the Pods`);
    }
  }
  if (near.length === 0 && elsewhere.length === 0 && candidates.length) {
    evidence.push(`labels there: ${[...new Set(candidates.map((c) => formatLabels(c.labels)))].slice(0, 5).join(' | ')}`);
  }
  fix.push(`kubectl get pods -n ${v.namespace} --show-labels`);
  return [finding('selector', 'fail', 'SelectorMatchesNothing', `selector ${sel} matches no Pod in namespace ${v.namespace}`, evidence, fix)];
}
